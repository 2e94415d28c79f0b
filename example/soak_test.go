package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiongate/sessiongate/jwks/jwkstest"
)

// The outage-and-load soak: the example's handler on a loopback listener,
// keys from a test-kit identity provider, concurrent keep-alive clients
// sending a mix of valid, expired, tampered, wrong-audience and random
// tokens, while the provider rotates keys, removes a key, answers 500, hangs
// and returns garbage. It runs only when SOAK_DURATION is set (for that
// long, e.g. SOAK_DURATION=20s; .ci/run sets it), so that the README's test
// command stays fast. It runs on wall time, and must: it measures real
// throughput and latency over a loopback listener with real concurrency,
// which a testing/synctest bubble cannot host (network I/O would stop its
// clock).
//
// Verdicts: a valid token must get 200 unless its key was removed (then 200
// or 401); every other token must get 401. Any other status — a 5xx in
// particular, since the key set stays usable throughout — is a wrong verdict.

type tokenClass int

const (
	classValid tokenClass = iota
	classExpired
	classTampered
	classWrongAudience
	classRandom
	classValidKeyRemoved // a valid token whose key the provider removed: 200 or 401
	numClasses
)

func (c tokenClass) String() string {
	return [...]string{"valid", "expired", "tampered", "wrong-audience", "random", "valid-key-removed"}[c]
}

// pools holds pre-minted tokens, swapped as the soak's phases change.
type pools struct {
	valid   []soakToken
	invalid [numClasses][]string
}

type soakToken struct {
	raw string
	kid string
}

// soakDuration is the switch: the soak runs only when SOAK_DURATION is set.
func soakDuration(t *testing.T) time.Duration {
	v := os.Getenv("SOAK_DURATION")
	if v == "" || testing.Short() {
		t.Skip("soak skipped: set SOAK_DURATION (e.g. SOAK_DURATION=20s) to run it")
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("SOAK_DURATION=%q: want a positive duration such as 20s", v)
	}
	return d
}

func TestSoakOutageAndLoad(t *testing.T) {
	duration := soakDuration(t)
	runtime.GC()
	goroutinesBefore := runtime.NumGoroutine()
	var memBefore runtime.MemStats
	runtime.ReadMemStats(&memBefore)

	idp := jwkstest.NewServer()
	rogue := jwkstest.New("https://rogue.example.test/") // signs with keys nobody publishes
	rogue.AddKey("ES256")

	const (
		refreshEvery  = time.Second      // -jwks-refresh
		unknownWindow = 30 * time.Second // jwks's default UnknownKID.Window
	)
	cfg := config{
		JWKSURL: idp.JWKSURL(), Issuer: idp.URL(), Audience: jwkstest.DefaultAudience,
		ClaimsNamespace: defaultClaimsNamespace, JWKSRefresh: refreshEvery,
	}
	a, err := newApp(cfg, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(a.handler, slog.New(slog.DiscardHandler))
	go func() { _ = srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

	mint := func(kid string, n int) []soakToken {
		out := make([]soakToken, n)
		for i := range out {
			s := devSession(time.Now())
			s.Sub = fmt.Sprintf("auth0|soak-%d", i)
			out[i] = soakToken{raw: idp.Token(s, jwkstest.WithKey(kid)), kid: kid}
		}
		return out
	}
	invalid := func(kid string) [numClasses][]string {
		var p [numClasses][]string
		s := devSession(time.Now())
		for i := range 16 {
			p[classExpired] = append(p[classExpired], idp.Token(s, jwkstest.WithKey(kid), jwkstest.WithClaim("sub", fmt.Sprint(i)), jwkstest.WithClaim("exp", time.Now().Add(-time.Minute))))
			p[classWrongAudience] = append(p[classWrongAudience], idp.Token(s, jwkstest.WithKey(kid), jwkstest.WithClaim("sub", fmt.Sprint(i)), jwkstest.WithClaim("aud", "https://other.example")))
			good := idp.Token(s, jwkstest.WithKey(kid), jwkstest.WithClaim("sub", fmt.Sprint(i)))
			parts := strings.Split(good, ".")
			payload := []byte(parts[1])
			payload[len(payload)/2] ^= 1 // still base64url, no longer what was signed
			if payload[len(payload)/2] == '-'^1 || payload[len(payload)/2] == '_'^1 {
				payload[len(payload)/2] = 'A'
			}
			p[classTampered] = append(p[classTampered], parts[0]+"."+string(payload)+"."+parts[2])
			p[classRandom] = append(p[classRandom], rogue.Token(s, jwkstest.WithHeader("kid", fmt.Sprintf("rogue-%d", rand.Int64()))))
		}
		return p
	}

	var current atomic.Pointer[pools]
	k1 := idp.KID()
	current.Store(&pools{valid: mint(k1, 64), invalid: invalid(k1)})
	var removed sync.Map // kid → true once its removal is announced

	// Counters.
	var counts [numClasses]map[int]*atomic.Int64
	for c := range counts {
		counts[c] = map[int]*atomic.Int64{}
		for _, st := range []int{200, 400, 401, 403, 500, 502, 503, 504} {
			counts[c][st] = new(atomic.Int64)
		}
	}
	var wrong, other atomic.Int64
	var wrongSamples sync.Map

	ctx, stop := context.WithTimeout(context.Background(), duration)
	defer stop()
	const clients = 8
	latencies := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	for ci := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(ci), 7))
			lat := make([]time.Duration, 0, 1<<16)
			for ctx.Err() == nil {
				p := current.Load()
				class := classValid
				var tok soakToken
				switch r := rng.IntN(100); {
				case r < 50:
					tok = p.valid[rng.IntN(len(p.valid))]
				case r < 60:
					class = classExpired
				case r < 70:
					class = classTampered
				case r < 80:
					class = classWrongAudience
				default:
					class = classRandom
				}
				if class != classValid {
					pool := p.invalid[class]
					tok = soakToken{raw: pool[rng.IntN(len(pool))]}
				}
				if _, keyRemoved := removed.Load(tok.kid); keyRemoved && class == classValid {
					class = classValidKeyRemoved
				}
				req, _ := http.NewRequest("GET", base+"/me", nil)
				req.Header.Set("Authorization", "Bearer "+tok.raw)
				start := time.Now()
				res, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						other.Add(1)
						wrongSamples.Store("transport: "+err.Error(), true)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(start))
				}
				if c, ok := counts[class][res.StatusCode]; ok {
					c.Add(1)
				} else {
					other.Add(1)
				}
				ok := res.StatusCode == 401
				switch class {
				case classValid:
					ok = res.StatusCode == 200
				case classValidKeyRemoved:
					ok = res.StatusCode == 200 || res.StatusCode == 401
				}
				if !ok {
					wrong.Add(1)
					wrongSamples.Store(fmt.Sprintf("%s → %d", class, res.StatusCode), true)
				}
			}
			latencies[ci] = lat
		}()
	}

	// The provider's misbehaviour, in phases.
	at := func(f float64) time.Duration { return time.Duration(f * float64(duration)) }
	begin := time.Now()
	sleepUntil := func(d time.Duration) {
		select {
		case <-time.After(time.Until(begin.Add(d))):
		case <-ctx.Done():
		}
	}
	probe := func(token string) int {
		req, _ := http.NewRequest("GET", base+"/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := client.Do(req)
		if err != nil {
			return 0
		}
		_ = res.Body.Close()
		return res.StatusCode
	}

	sleepUntil(at(0.2))
	// Rotate: a new ES256 key becomes the signer. Clients switch to it
	// only once a probe shows the set picked it up.
	k2 := idp.Rotate("ES256")
	next := &pools{valid: append(mint(k2, 64), current.Load().valid...), invalid: invalid(k2)}
	deadline := time.Now().Add(5 * time.Second)
	for probe(next.valid[0].raw) != 200 {
		if time.Now().After(deadline) {
			t.Fatal("the rotated key was never picked up")
		}
		time.Sleep(50 * time.Millisecond)
	}
	current.Store(next)

	sleepUntil(at(0.35))
	// Remove the old key: its tokens may now get either verdict.
	removed.Store(k1, true)
	time.Sleep(100 * time.Millisecond) // clients that read "not removed" finish first
	idp.RemoveKey(k1)

	// Each fault releases the requests the one before held.
	faults := []jwkstest.Fault{{Status: 500}, {Hang: true}, {Body: []byte(`{"keys":[{`)}, {Body: []byte("<html>maintenance</html>")}}
	for i, f := range faults {
		sleepUntil(at(0.5 + 0.075*float64(i)))
		idp.SetFault(f)
	}
	sleepUntil(at(0.8))
	idp.SetFault(jwkstest.Fault{})

	<-ctx.Done()
	wg.Wait()
	fetches := int64(idp.JWKSRequests())

	// Shut down and check that everything went away.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	client.CloseIdleConnections()
	a.Close()
	idp.Close()
	rogue.Close()

	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[int(p*float64(len(all)-1))]
	}
	var total int64
	var perClass []string
	for c := range numClasses {
		var parts []string
		for _, st := range []int{200, 400, 401, 403, 500, 502, 503, 504} {
			if n := counts[c][st].Load(); n > 0 {
				total += n
				parts = append(parts, fmt.Sprintf("%d:%d", st, n))
			}
		}
		perClass = append(perClass, fmt.Sprintf("%s{%s}", c, strings.Join(parts, " ")))
	}
	fmt.Printf("soak %v: %d requests, %s, wrong verdicts %d, other %d, JWKS fetches %d, p50 %v, p99 %v\n",
		duration, total, strings.Join(perClass, " "), wrong.Load(), other.Load(), fetches,
		pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond))
	wrongSamples.Range(func(k, _ any) bool { t.Logf("wrong: %v", k); return true })

	if wrong.Load() != 0 || other.Load() != 0 {
		t.Errorf("%d wrong verdicts, %d other outcomes", wrong.Load(), other.Load())
	}
	if total < 1000 {
		t.Errorf("only %d requests in %v", total, duration)
	}
	// Fetches stay within the limits: one per refresh interval, plus one
	// unknown-kid refetch per window, plus backoff retries (at least 1 s
	// apart) — with room for jitter.
	limit := int64(duration/refreshEvery) + int64(duration/unknownWindow) + int64(duration/time.Second) + 5
	if fetches > limit {
		t.Errorf("%d JWKS fetches in %v, over the limit %d", fetches, duration, limit)
	}

	// Goroutines and heap back to baseline.
	deadline = time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > goroutinesBefore+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutinesBefore+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d before, %d after shutdown\n%s", goroutinesBefore, n, buf[:runtime.Stack(buf, true)])
	}
	runtime.GC()
	var memAfter runtime.MemStats
	runtime.ReadMemStats(&memAfter)
	if memAfter.HeapAlloc > memBefore.HeapAlloc+16<<20 {
		t.Errorf("heap: %d bytes before, %d after shutdown", memBefore.HeapAlloc, memAfter.HeapAlloc)
	}
}
