package jwks

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// ---- test sets ----

// newTestSet makes a Set with deterministic jitter (factor 1) and closes it
// at the end of the test. Without cfg.HTTPClient, it fetches through the
// in-process network of newIDP.
func newTestSet(t *testing.T, cfg Config) *Set {
	t.Helper()
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: inProcess{}}
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.rnd = func() float64 { return 0.5 }
	t.Cleanup(s.Close)
	return s
}

// advance moves a synctest bubble's clock by d and waits until every
// goroutine of the bubble is blocked again: the refresh loops have run the
// fetches that came due and parked.
func advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// ---- identity providers ----

// idp serves whatever its handler says and counts the requests. newIDP
// makes one on the in-process network: its URLs name a host of its own,
// which the transport inProcess answers by calling the handler, so a fetch
// never leaves the process and, in a synctest bubble, a handler that hangs
// waits on the bubble's clock. newLoopbackIDP serves it with a real HTTP
// server on the loopback interface instead.
type idp struct {
	origin  string // scheme and host of its URLs
	hits    atomic.Int64
	mu      sync.Mutex
	handler http.HandlerFunc
}

// idps are the in-process hosts, by host name; each test's are its own.
var (
	idps     sync.Map // host -> *idp
	idpHosts atomic.Int64
)

func newIDP(t testing.TB) *idp {
	host := fmt.Sprintf("idp%d.test", idpHosts.Add(1))
	p := &idp{origin: "https://" + host}
	idps.Store(host, p)
	t.Cleanup(func() { idps.Delete(host) })
	return p
}

// newLoopbackIDP serves an idp with httptest.NewServer, for the tests of
// real HTTP behaviour (TLS, sockets, redirects, timeouts on a connection).
func newLoopbackIDP(t testing.TB) *idp {
	p := &idp{}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.origin = srv.URL
	return p
}

func (p *idp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.hits.Add(1)
	p.mu.Lock()
	h := p.handler
	p.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

// inProcess is an http.RoundTripper that answers a request for an idp's host
// with its handler, called on the requesting goroutine.
type inProcess struct{}

func (inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	v, ok := idps.Load(req.URL.Host)
	if !ok {
		return nil, fmt.Errorf("no in-process host %q", req.URL.Host)
	}
	rec := httptest.NewRecorder()
	v.(*idp).ServeHTTP(rec, req)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

func (p *idp) url() string { return p.origin + "/jwks.json" }

func (p *idp) set(h http.HandlerFunc) {
	p.mu.Lock()
	p.handler = h
	p.mu.Unlock()
}

// serve makes the idp answer 200 with body and the header pairs given.
func (p *idp) serve(body []byte, header ...string) {
	p.set(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(body)
	})
}

// hang makes the idp never answer, until the client gives up.
func (p *idp) hang() {
	p.set(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
}

func (p *idp) status(code int) {
	p.set(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", code) })
}

// ---- JWK builders ----

type jwkMap map[string]any

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// with returns a copy of m with name set to v (or removed when v is nil).
func (m jwkMap) with(name string, v any) jwkMap {
	c := jwkMap{}
	for k, x := range m {
		c[k] = x
	}
	if v == nil {
		delete(c, name)
	} else {
		c[name] = v
	}
	return c
}

// rsaModulus returns a random modulus of exactly bits bits that passes key
// hygiene: the product of two random odd numbers without a prime factor
// below 2^16, so composite and free of small factors. The factors are not
// prime, and no test here signs with such a key, so this stands in for a
// generated key at a fraction of the cost.
func rsaModulus(t testing.TB, bits int) *big.Int {
	t.Helper()
	half := func(bits int) *big.Int {
		buf := make([]byte, (bits+7)/8)
		for {
			if _, err := rand.Read(buf); err != nil {
				t.Fatal(err)
			}
			x := new(big.Int).SetBytes(buf)
			x.SetBit(x, 0, 1)
			for i := bits; i < 8*len(buf); i++ {
				x.SetBit(x, i, 0)
			}
			// The top two bits set make the product exactly bits long.
			x.SetBit(x, bits-1, 1)
			x.SetBit(x, bits-2, 1)
			if smallFactor(x) == 0 {
				return x
			}
		}
	}
	return new(big.Int).Mul(half(bits/2), half(bits-bits/2))
}

func rsaJWK(t testing.TB, kid string, bits int) jwkMap {
	return jwkMap{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64(rsaModulus(t, bits).Bytes()), "e": "AQAB"}
}

func ecKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecJWKOf(t testing.TB, kid string, pub *ecdsa.PublicKey) jwkMap {
	t.Helper()
	e, err := pub.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	pt := e.Bytes()[1:]
	crv, alg := map[string]string{"P-256": "P-256", "P-384": "P-384", "P-521": "P-521"}[pub.Curve.Params().Name],
		map[string]string{"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[pub.Curve.Params().Name]
	return jwkMap{"kty": "EC", "kid": kid, "crv": crv, "alg": alg,
		"x": b64(pt[:len(pt)/2]), "y": b64(pt[len(pt)/2:])}
}

func ecJWK(t testing.TB, kid string) jwkMap {
	return ecJWKOf(t, kid, &ecKey(t, elliptic.P256()).PublicKey)
}

func edJWK(t testing.TB, kid string) jwkMap {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return jwkMap{"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64(pub)}
}

func setJSON(keys ...jwkMap) []byte {
	if keys == nil {
		keys = []jwkMap{}
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		panic(err)
	}
	return b
}

// ---- logging ----

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// ---- hostile Ed25519 keys ----

// smallOrderEd25519 are the encodings of the points of edwards25519 whose
// order divides 8, canonical and not (little-endian y, sign of x in the top
// bit), as listed by libsodium and "Taming the many EdDSAs"; order is the
// order of the point. Each one lets a signature made without a private key
// verify with crypto/ed25519 (see forgeEd25519).
var smallOrderEd25519 = []struct {
	name, x   string
	canonical bool
	order     int
}{
	{"identity (y = 1)", "0100000000000000000000000000000000000000000000000000000000000000", true, 1},
	{"y = -1 (p-1 encoded)", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", true, 2},
	{"all-zero encoding (y = 0)", "0000000000000000000000000000000000000000000000000000000000000000", true, 4},
	{"y = 0, sign bit set", "0000000000000000000000000000000000000000000000000000000000000080", true, 4},
	{"y = y8", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", true, 8},
	{"y = y8, sign bit set", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", true, 8},
	{"y = -y8", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", true, 8},
	{"y = -y8, sign bit set", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", true, 8},
	{"identity, sign bit set (x = 0)", "0100000000000000000000000000000000000000000000000000000000000080", false, 1},
	{"y = -1, sign bit set (x = 0)", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", false, 2},
	{"y = p (alias of y = 0)", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", false, 4},
	{"y = p, sign bit set", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", false, 4},
	{"y = p+1 (alias of the identity)", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", false, 1},
	{"y = p+1, sign bit set", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", false, 1},
}

// ed25519BasePoint is the encoding of the base point B of edwards25519.
const ed25519BasePoint = "5866666666666666666666666666666666666666666666666666666666666666"

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// forgeEd25519 returns a compact-JWS signing input with kid and alg EdDSA
// and the signature R = B, S = 1, made without any private key, such that
// crypto/ed25519.Verify accepts it under pub; "" and nil when none of 64
// payloads works. Verify checks [S]B = R + [k]A, that is [k]A = identity,
// which holds for one challenge k in ord(A) when A is of small order. The
// payloads are fixed, so the result is deterministic.
func forgeEd25519(t testing.TB, pub ed25519.PublicKey, kid string) (string, []byte) {
	t.Helper()
	sig := make([]byte, ed25519.SignatureSize)
	copy(sig, unhex(t, ed25519BasePoint))
	sig[32] = 1
	header := b64([]byte(`{"alg":"EdDSA","kid":"` + kid + `"}`))
	for i := range 64 {
		si := header + "." + b64(fmt.Appendf(nil, `{"sub":"attacker","n":%d}`, i))
		if ed25519.Verify(pub, []byte(si), sig) {
			return si, sig
		}
	}
	return "", nil
}

// len returns the number of remembered unknown kids.
func (c *negCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
