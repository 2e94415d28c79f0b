// Command load is the HTTP-level figure: it starts, in-process on a
// loopback listener, a server like the example's (a chi router with an
// embedded development issuer, GET /healthz without authentication and GET
// /me behind the sessiongate middleware with the token cache on, answering
// json.Marshal of the session), then drives /healthz and /me in turn with
// N concurrent keep-alive clients for a fixed time each and reports
// requests/s, p50 and p99 for both, and the ratio /me ÷ /healthz (target:
// ≥ 0.5).
//
//	go run ./cmd/load [-c 16] [-d 5s] [-rounds 2] [-users 64] [-json load.json]
//
// It is bounded: loopback only, every phase stops at its deadline, and the
// server shuts down before the command exits. Clients and server share the
// machine's cores, as on a developer's laptop; compare the two routes, not
// absolute figures across machines.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sessiongate/sessiongate/bench"
	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/middleware"
	"github.com/sessiongate/sessiongate/session"
)

type options struct {
	clients  int
	duration time.Duration
	warmup   time.Duration
	rounds   int
	users    int
	alg      string
	jsonOut  string
}

// Result is one route's figure.
type Result struct {
	Route     string        `json:"route"`
	Requests  int           `json:"requests"`
	Errors    int           `json:"errors"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	PerSecond float64       `json:"requests_per_second"`
	P50       time.Duration `json:"p50_ns"`
	P99       time.Duration `json:"p99_ns"`
}

// Report is the command's JSON output.
type Report struct {
	Clients    int           `json:"clients"`
	Duration   time.Duration `json:"phase_duration_ns"`
	Rounds     int           `json:"rounds"`
	Users      int           `json:"users"`
	Alg        string        `json:"alg"`
	GOMAXPROCS int           `json:"gomaxprocs"`
	Healthz    Result        `json:"healthz"`
	Me         Result        `json:"me"`
	Ratio      float64       `json:"ratio_me_healthz"`
}

func main() {
	var o options
	flag.IntVar(&o.clients, "c", 16, "concurrent keep-alive clients")
	flag.DurationVar(&o.duration, "d", 5*time.Second, "duration of each measured phase")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "warm-up per route before measuring")
	flag.IntVar(&o.rounds, "rounds", 2, "measured rounds; each runs /healthz then /me")
	flag.IntVar(&o.users, "users", 64, "distinct users (tokens) the clients cycle through")
	flag.StringVar(&o.alg, "alg", "RS256", "signature algorithm of the tokens")
	flag.StringVar(&o.jsonOut, "json", "", "also write the report as JSON to this file")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.clients < 1 || o.duration <= 0 || o.rounds < 1 || o.users < 1 {
		return errors.New("-c, -d, -rounds and -users must be positive")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, tokens, stop, err := startServer(ctx, o)
	if err != nil {
		return err
	}
	defer stop()

	tr := &http.Transport{MaxIdleConns: o.clients, MaxIdleConnsPerHost: o.clients, MaxConnsPerHost: o.clients,
		DisableCompression: true, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	routes := []string{"/healthz", "/me"}
	for _, route := range routes {
		drive(client, base+route, tokens, o.clients, o.warmup)
	}
	acc := map[string]*phase{}
	for range o.rounds {
		for _, route := range routes {
			p := drive(client, base+route, tokens, o.clients, o.duration)
			if acc[route] == nil {
				acc[route] = &phase{}
			}
			acc[route].add(p)
		}
	}
	rep := Report{Clients: o.clients, Duration: o.duration, Rounds: o.rounds, Users: o.users, Alg: o.alg,
		GOMAXPROCS: runtime.GOMAXPROCS(0), Healthz: acc["/healthz"].result("/healthz"), Me: acc["/me"].result("/me")}
	rep.Ratio = rep.Me.PerSecond / rep.Healthz.PerSecond

	fmt.Printf("%d keep-alive clients, %d × %s per route (after %s warm-up), %d users, %s tokens, GOMAXPROCS %d, clients and server in one process.\n\n",
		o.clients, o.rounds, o.duration, o.warmup, o.users, o.alg, rep.GOMAXPROCS)
	fmt.Println("| route | requests/s | p50 | p99 | requests | errors |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, r := range []Result{rep.Healthz, rep.Me} {
		fmt.Printf("| `GET %s` | %.0f | %s | %s | %d | %d |\n", r.Route, r.PerSecond, fmtDur(r.P50), fmtDur(r.P99), r.Requests, r.Errors)
	}
	met := "met"
	if rep.Ratio < 0.5 {
		met = "**missed**"
	}
	fmt.Printf("\n/me ÷ /healthz requests/s: **%.2f** (target ≥ 0.5: %s)\n", rep.Ratio, met)
	if o.jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if rep.Healthz.Errors+rep.Me.Errors > 0 {
		return fmt.Errorf("%d failed requests", rep.Healthz.Errors+rep.Me.Errors)
	}
	return nil
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

// startServer starts the example-like server on a loopback port and returns
// its base URL and one token per user.
func startServer(ctx context.Context, o options) (string, []string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, err
	}
	base := "http://" + ln.Addr().String()
	idp := jwkstest.New(base) // the embedded development issuer
	if o.alg != "ES256" {     // a new issuer signs with ES256
		idp.Rotate(o.alg)
	}

	keys, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.URLSource(idp.JWKSURL())}})
	if err != nil {
		_ = ln.Close()
		idp.Close()
		return "", nil, nil, err
	}
	auth, err := middleware.New(middleware.Config{
		Issuers: []middleware.Issuer{{Issuer: base, Keys: keys, Audiences: []string{jwkstest.DefaultAudience}}}})
	if err != nil {
		_ = ln.Close()
		idp.Close()
		keys.Close()
		return "", nil, nil, err
	}

	r := chi.NewRouter()
	r.Handle("/.well-known/*", idp.Handler())
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok")
	})
	r.With(auth.Handler).Get("/me", func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		b, err := json.Marshal(s)
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-served
		keys.Close()
		idp.Close()
	}
	start, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := keys.Start(start); err != nil {
		stop()
		return "", nil, nil, fmt.Errorf("loading the key set: %w", err)
	}
	tokens := make([]string, o.users)
	for i := range tokens {
		s := bench.NewSession()
		s.Sub = fmt.Sprintf("auth0|user-%d", i)
		s.Profile.UserID = s.Sub
		tokens[i] = idp.Token(s)
	}
	return base, tokens, stop, nil
}

// phase is what the clients measured on one route.
type phase struct {
	requests, errors int
	elapsed          time.Duration
	latencies        []time.Duration
}

func (p *phase) add(q *phase) {
	p.requests += q.requests
	p.errors += q.errors
	p.elapsed += q.elapsed
	p.latencies = append(p.latencies, q.latencies...)
}

func (p *phase) result(route string) Result {
	slices.Sort(p.latencies)
	q := func(f float64) time.Duration {
		if len(p.latencies) == 0 {
			return 0
		}
		return p.latencies[min(len(p.latencies)-1, int(f*float64(len(p.latencies))))]
	}
	return Result{Route: route, Requests: p.requests, Errors: p.errors, Elapsed: p.elapsed,
		PerSecond: float64(p.requests) / p.elapsed.Seconds(), P50: q(0.50), P99: q(0.99)}
}

// drive runs n clients against url until d has passed; client i starts
// with user i and moves to the next user on every request.
func drive(client *http.Client, url string, tokens []string, n int, d time.Duration) *phase {
	deadline := time.Now().Add(d)
	parts := make([]phase, n)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range n {
		wg.Go(func() {
			p := &parts[i]
			reqs := make([]*http.Request, len(tokens))
			for j, tok := range tokens {
				reqs[j], _ = http.NewRequest(http.MethodGet, url, nil)
				reqs[j].Header.Set("Authorization", "Bearer "+tok)
			}
			for j := i; time.Now().Before(deadline); j++ {
				t := time.Now()
				res, err := client.Do(reqs[j%len(reqs)])
				if err == nil {
					_, err = io.Copy(io.Discard, res.Body)
					_ = res.Body.Close()
					if err == nil && res.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", res.StatusCode)
					}
				}
				if err != nil {
					p.errors++
					continue
				}
				p.requests++
				p.latencies = append(p.latencies, time.Since(t))
			}
		})
	}
	wg.Wait()
	total := &phase{elapsed: time.Since(t0)}
	for i := range parts {
		total.requests += parts[i].requests
		total.errors += parts[i].errors
		total.latencies = append(total.latencies, parts[i].latencies...)
	}
	return total
}
