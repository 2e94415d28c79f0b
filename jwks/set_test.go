package jwks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// mustKey looks kid up and fails the test on error.
func mustKey(t *testing.T, s *Set, kid, alg string) *Key {
	t.Helper()
	k, err := s.Key(context.Background(), "", kid, alg)
	if err != nil {
		t.Fatalf("Key(%q, %q): %v", kid, alg, err)
	}
	return k
}

func TestNewValidatesConfig(t *testing.T) {
	p := newIDP(t)
	good := StaticSource(setJSON(ecJWK(t, "a")))
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"no sources", Config{}, false},
		{"static", Config{Sources: []Source{good}}, true},
		{"remote", Config{Sources: []Source{URLSource(p.url()), OIDCSource(p.origin)}}, true},
		{"loopback http", Config{Sources: []Source{URLSource("http://127.0.0.1:1/jwks")}}, true},
		{"localhost http", Config{Sources: []Source{URLSource("http://localhost:1/jwks")}}, true},
		{"IPv6 loopback http", Config{Sources: []Source{URLSource("http://[::1]:1/jwks")}}, true},
		{"https", Config{Sources: []Source{URLSource("https://idp.example/jwks")}}, true},
		{"http remote", Config{Sources: []Source{URLSource("http://idp.example/jwks")}}, false},
		{"http remote, insecure switch", Config{Sources: []Source{URLSource("http://idp.example/jwks")}, InsecureAllowHTTPForAnyHost: true}, true},
		{"http sub.localhost", Config{Sources: []Source{URLSource("http://evil.localhost/jwks")}}, false},
		{"ftp", Config{Sources: []Source{URLSource("ftp://idp.example/jwks")}}, false},
		{"relative", Config{Sources: []Source{URLSource("/jwks")}}, false},
		{"unparsable", Config{Sources: []Source{URLSource("https://idp.example/%zz")}}, false},
		{"credentials", Config{Sources: []Source{URLSource("https://u:p@idp.example/jwks")}}, false},
		{"fragment", Config{Sources: []Source{URLSource("https://idp.example/jwks#x")}}, false},
		{"OIDC", Config{Sources: []Source{OIDCSource("https://idp.example")}}, true},
		{"OIDC without issuer", Config{Sources: []Source{OIDCSource("")}}, false},
		{"OIDC http remote", Config{Sources: []Source{OIDCSource("http://idp.example")}}, false},
		{"OIDC issuer with query", Config{Sources: []Source{OIDCSource("https://idp.example/?a=b")}}, false},
		{"static without usable key", Config{Sources: []Source{StaticSource(setJSON(jwkMap{"kty": "oct", "k": "AAAA"}))}}, false},
		{"static garbage", Config{Sources: []Source{StaticSource([]byte("nope"))}}, false},
		{"zero source", Config{Sources: []Source{{}}}, false},
		{"negative MaxStale", Config{Sources: []Source{good}, MaxStale: -1}, false},
		{"negative timeout", Config{Sources: []Source{good}, Fetch: FetchConfig{Timeout: -1}}, false},
		{"negative body", Config{Sources: []Source{good}, Fetch: FetchConfig{MaxBodyBytes: -1}}, false},
		{"negative cache size", Config{Sources: []Source{good}, UnknownKID: UnknownKIDConfig{NegativeCacheSize: -1}}, false},
		{"min above max", Config{Sources: []Source{good}, Refresh: RefreshConfig{Min: time.Hour, Max: time.Minute}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.cfg)
			if tt.ok {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				s.Close()
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New: err = %v, want ErrInvalidConfig", err)
			}
			if !strings.HasPrefix(err.Error(), "jwks: ") {
				t.Errorf("message %q lacks the package prefix", err)
			}
		})
	}
	if n := p.hits.Load(); n != 0 {
		t.Fatalf("New did %d requests, want none", n)
	}
}

func TestStaticSource(t *testing.T) {
	body := setJSON(ecJWK(t, "ec"), rsaJWK(t, "rsa", 2048), jwkMap{"kty": "oct", "kid": "hs", "k": "AAAA"})
	src := StaticSource(body)
	src.Issuer = "https://issuer.example"
	s := newTestSet(t, Config{Sources: []Source{src}})
	if err := s.Ready(); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	k := mustKey(t, s, "ec", "ES256")
	if k.Issuer != "https://issuer.example" || k.ID != "ec" || k.Alg != "ES256" {
		t.Errorf("key = %+v", k)
	}
	if k2 := mustKey(t, s, "ec", "ES256"); k2 != k {
		t.Error("second lookup returned another pointer")
	}
	for _, c := range []struct {
		kid, alg string
		want     error
	}{
		{"ec", "RS256", ErrAlgMismatch},
		{"ec", "HS256", ErrAlgMismatch},
		{"hs", "HS256", ErrAlgMismatch},
		{"hs", "ES256", ErrKeyNotFound},
		{"nope", "ES256", ErrKeyNotFound},
		{"", "ES256", nil}, // exactly one key fits ES256
		{"", "RS256", nil},
		{"", "PS256", ErrKeyNotFound}, // the RSA key says RS256
		{"", "none", ErrAlgMismatch},
	} {
		_, err := s.Key(context.Background(), "", c.kid, c.alg)
		if !errors.Is(err, c.want) {
			t.Errorf("Key(%q, %q) = %v, want %v", c.kid, c.alg, err, c.want)
		}
	}
	if st := s.Stats(); st.Keys != 2 || st.Fetches != 0 || st.Sources[0].DroppedKeys != 1 || !st.Sources[0].Usable {
		t.Errorf("stats = %+v", st)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Errorf("Start on static set: %v", err)
	}
}

func TestKeyWithoutKid(t *testing.T) {
	one := newTestSet(t, Config{Sources: []Source{StaticSource(setJSON(ecJWK(t, "").with("kid", nil), rsaJWK(t, "r", 2048)))}})
	if k := mustKey(t, one, "", "ES256"); k.ID != "" {
		t.Errorf("got kid %q", k.ID)
	}
	two := newTestSet(t, Config{Sources: []Source{StaticSource(setJSON(ecJWK(t, "a"), ecJWK(t, "b")))}})
	if _, err := two.Key(context.Background(), "", "", "ES256"); !errors.Is(err, ErrAmbiguousKey) {
		t.Errorf("two ES256 keys: err = %v, want ErrAmbiguousKey", err)
	}
	if k := mustKey(t, two, "b", "ES256"); k.ID != "b" {
		t.Errorf("got %q", k.ID)
	}
}

func TestStartFetchesAndServesFromMemory(t *testing.T) {
	synctest.Test(t, testStartFetchesAndServesFromMemory)
}

func testStartFetchesAndServesFromMemory(t *testing.T) {
	p := newIDP(t)
	p.serve(setJSON(ecJWK(t, "a"), rsaJWK(t, "b", 2048)))
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}})
	if err := s.Ready(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ready before Start = %v", err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := s.Ready(); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	a := mustKey(t, s, "a", "ES256")
	for range 100 {
		if k := mustKey(t, s, "a", "ES256"); k != a {
			t.Fatal("pointer changed without a set change")
		}
		mustKey(t, s, "b", "RS256")
	}
	if n := p.hits.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
	st := s.Stats()
	if st.Fetches != 1 || st.Keys != 2 || !st.LastSuccess.Equal(time.Now()) || st.Sources[0].Name != p.url() {
		t.Errorf("stats = %+v", st)
	}
}

// TestLookupWithoutStart holds the Set that is never started: no goroutine
// of its own, the first lookup fetches (once for concurrent lookups), a
// lookup refreshes it when due, a failed fetch backs off, and past MaxStale
// it fails closed.
func TestLookupWithoutStart(t *testing.T) { synctest.Test(t, testLookupWithoutStart) }

func testLookupWithoutStart(t *testing.T) {
	p := newIDP(t)
	a, b := ecJWK(t, "a"), ecJWK(t, "b")
	gate := make(chan struct{})
	p.set(func(w http.ResponseWriter, r *http.Request) {
		<-gate
		_, _ = w.Write(setJSON(a))
	})
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, MaxStale: time.Hour})
	if n := p.hits.Load(); n != 0 {
		t.Fatalf("fetched before use")
	}
	// Concurrent first lookups share one fetch, run by one of them.
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := s.Key(context.Background(), "", "a", "ES256"); err != nil {
				t.Errorf("first lookup: %v", err)
			}
		})
	}
	synctest.Wait()
	if n := p.hits.Load(); n != 1 {
		t.Fatalf("%d fetches in flight, want 1", n)
	}
	close(gate)
	wg.Wait()
	if n := p.hits.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
	if st := allStacks(); strings.Contains(st, "jwks.(*Set)") {
		t.Fatalf("a Set not started runs a goroutine:\n%s", st)
	}

	// Time passes without lookups: nothing fetches. The first lookup after
	// the refresh is due (15 min) refreshes; a removed key goes.
	p.serve(setJSON(b))
	advance(time.Hour / 2)
	if n := p.hits.Load(); n != 1 {
		t.Fatalf("%d fetches without lookups, want 1", n)
	}
	if _, err := s.Key(context.Background(), "", "a", "ES256"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("removed key after the refresh: %v", err)
	}
	mustKey(t, s, "b", "ES256")
	if n := p.hits.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}

	// The IdP fails: the set keeps serving, and retries back off.
	p.status(http.StatusInternalServerError)
	advance(defaultRefreshInterval)
	kb := mustKey(t, s, "b", "ES256") // the refresh fails: retry in 0.75 s
	mustKey(t, s, "b", "ES256")
	if n := p.hits.Load(); n != 3 {
		t.Fatalf("%d fetches, want 3", n)
	}
	advance(time.Second)
	mustKey(t, s, "b", "ES256") // the retry fails: next in 1.5 s
	if st := s.Stats().Sources[0]; st.FetchFailures != 2 || st.NextAttempt.Sub(st.LastAttempt) != 1500*time.Millisecond {
		t.Fatalf("stats %+v", st)
	}

	// Past MaxStale a hit fails closed, until a fetch succeeds.
	for time.Since(s.Stats().Sources[0].LastSuccess) < time.Hour {
		advance(time.Minute)
		_, _ = s.Key(context.Background(), "", "b", "ES256")
	}
	_, err := s.Key(context.Background(), "", "b", "ES256")
	var ue *UnavailableError
	if !errors.As(err, &ue) {
		t.Fatalf("Key past MaxStale = %v, want UnavailableError", err)
	}
	p.serve(setJSON(b))
	advance(5 * time.Minute)
	if k := mustKey(t, s, "b", "ES256"); k != kb {
		t.Error("unchanged key b got a new pointer")
	}
	if err := s.Ready(); err != nil {
		t.Fatalf("Ready: %v", err)
	}
}

// TestLookupWithoutStartTakesOver holds that a lookup that gives up on the
// fetch it runs does not fail the others: a waiting lookup fetches again,
// and the abandoned fetch is no failure.
func TestLookupWithoutStartTakesOver(t *testing.T) { synctest.Test(t, testLookupWithoutStartTakesOver) }

func testLookupWithoutStartTakesOver(t *testing.T) {
	p := newIDP(t)
	body := setJSON(ecJWK(t, "a"))
	p.set(func(w http.ResponseWriter, r *http.Request) {
		if p.hits.Load() == 1 {
			<-r.Context().Done()
			return
		}
		_, _ = w.Write(body)
	})
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	first := make(chan error, 1)
	go func() {
		_, err := s.Key(ctx, "", "a", "ES256")
		first <- err
	}()
	synctest.Wait() // the first lookup runs the fetch, which hangs
	second := make(chan error, 1)
	go func() {
		_, err := s.Key(context.Background(), "", "a", "ES256")
		second <- err
	}()
	if err := <-first; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("first lookup = %v, want its deadline", err)
	}
	if err := <-second; err != nil {
		t.Fatalf("second lookup = %v", err)
	}
	if st := s.Stats(); p.hits.Load() != 2 || st.Fetches != 1 || st.FetchFailures != 0 {
		t.Fatalf("%d requests, stats %+v", p.hits.Load(), st)
	}
}

// TestCloseWithoutStart holds Close on a Set never started: the fetch a
// lookup runs ends, and that lookup and its waiters get ErrClosed.
func TestCloseWithoutStart(t *testing.T) { synctest.Test(t, testCloseWithoutStart) }

func testCloseWithoutStart(t *testing.T) {
	p := newIDP(t)
	p.hang()
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}})
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := s.Key(context.Background(), "", "a", "ES256")
			errs <- err
		}()
	}
	synctest.Wait()
	s.Close()
	for range 2 {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Fatalf("lookup after Close = %v, want ErrClosed", err)
		}
	}
	if st := s.Stats(); p.hits.Load() != 1 || st.FetchFailures != 0 {
		t.Fatalf("%d requests, stats %+v", p.hits.Load(), st)
	}
}

// TestStartAfterLookups holds Start on a Set its lookups already loaded: no
// second fetch, and the refresh goes on in the background.
func TestStartAfterLookups(t *testing.T) { synctest.Test(t, testStartAfterLookups) }

func testStartAfterLookups(t *testing.T) {
	p := newIDP(t)
	p.serve(setJSON(ecJWK(t, "a")))
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}})
	mustKey(t, s, "a", "ES256")
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	synctest.Wait()
	if n := p.hits.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
	advance(defaultRefreshInterval)
	if n := p.hits.Load(); n != 2 {
		t.Fatalf("%d fetches after the interval without lookups, want 2", n)
	}
}

// allStacks returns the stacks of every goroutine.
func allStacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

func TestRotation(t *testing.T) { synctest.Test(t, testRotation) }

func testRotation(t *testing.T) {
	p := newIDP(t)
	a, b := ecJWK(t, "a"), ecJWK(t, "b")
	p.serve(setJSON(a))
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ka := mustKey(t, s, "a", "ES256")

	// The IdP adds b: the first lookup of b triggers one refetch.
	p.serve(setJSON(a, b))
	mustKey(t, s, "b", "ES256")
	if n := p.hits.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	if k := mustKey(t, s, "a", "ES256"); k != ka {
		t.Error("unchanged key a got a new pointer after the refetch")
	}
	if st := s.Stats(); st.UnknownKIDRefetches != 1 {
		t.Errorf("UnknownKIDRefetches = %d", st.UnknownKIDRefetches)
	}

	// The IdP removes a: gone after the next scheduled refresh (15 min).
	p.serve(setJSON(b))
	advance(defaultRefreshInterval)
	if n := p.hits.Load(); n != 3 {
		t.Fatalf("%d fetches, want 3", n)
	}
	if _, err := s.Key(context.Background(), "", "a", "ES256"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("removed key: err = %v, want ErrKeyNotFound", err)
	}
}

func TestRefreshIntervalFromHeaders(t *testing.T) {
	tests := []struct {
		name     string
		header   []string
		want     time.Duration
		maxStale time.Duration
	}{
		{"none", nil, defaultRefreshInterval, 0},
		{"max-age 120", []string{"Cache-Control", "public, max-age=120"}, 2 * time.Minute, 0},
		{"max-age 0", []string{"Cache-Control", "max-age=0"}, time.Minute, 0},
		{"no-store", []string{"Cache-Control", "no-store"}, time.Minute, 0},
		// Clamped to Max (24 h), then to MaxStale/2 so that a failed refresh
		// leaves time to retry before the set goes stale.
		{"huge, default MaxStale", []string{"Cache-Control", "max-age=99999999999999999999"}, 12 * time.Hour, 0},
		{"huge, MaxStale 72 h", []string{"Cache-Control", "max-age=99999999999999999999"}, 24 * time.Hour, 72 * time.Hour},
		{"garbage", []string{"Cache-Control", "max-age=soon"}, defaultRefreshInterval, 0},
		{"Expires in 2h", []string{"Expires", "Fri, 02 Jan 2026 05:04:05 GMT", "Date", "Fri, 02 Jan 2026 03:04:05 GMT"}, 2 * time.Hour, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newIDP(t)
				p.serve(setJSON(ecJWK(t, "a")), tt.header...)
				s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, MaxStale: tt.maxStale})
				if err := s.Start(context.Background()); err != nil {
					t.Fatal(err)
				}
				src := s.Stats().Sources[0]
				if got := src.NextAttempt.Sub(src.LastSuccess); got != tt.want {
					t.Fatalf("next refresh in %v, want %v", got, tt.want)
				}
				// Just before it: no fetch; at it: one.
				advance(tt.want - time.Nanosecond)
				if n := p.hits.Load(); n != 1 {
					t.Fatalf("fetched early")
				}
				advance(time.Nanosecond)
				if n := p.hits.Load(); n != 2 {
					t.Fatalf("%d fetches after the interval, want 2", n)
				}
			})
		})
	}
}

func TestFetchFaultsKeepPreviousSet(t *testing.T) {
	good := ecJWK(t, "good")
	tests := []struct {
		name    string
		handler http.HandlerFunc // nil: hangs
		want    error            // cause, besides ErrFetch
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", 500) }, nil},
		{"404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, nil},
		{"hangs", nil, context.DeadlineExceeded},
		{"10 MiB body", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"keys":[` + string(must(good)) + `], "pad": "`))
			_, _ = w.Write([]byte(strings.Repeat("x", 10<<20)))
			_, _ = w.Write([]byte(`"}`))
		}, errBodyTooLarge},
		{"10 MiB declared", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(10<<20))
			_, _ = w.Write([]byte("{}"))
		}, errBodyTooLarge},
		{"invalid JSON", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"keys":[{`)) }, ErrInvalidKeySet},
		{"HTML", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`<html>maintenance</html>`)) }, ErrInvalidKeySet},
		{"single JWK without keys", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(must(ecJWK(t, "single"))) }, ErrInvalidKeySet},
		{"empty set", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"keys":[]}`)) }, ErrInvalidKeySet},
		{"redirect to another host", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://other.test/jwks.json", http.StatusFound)
		}, errCrossOriginRedirect},
		{"only hostile keys", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write(setJSON(
				jwkMap{"kty": "oct", "kid": "hs", "k": "c2VjcmV0c2VjcmV0"},
				rsaJWK(t, "priv", 2048).with("d", "AQAB"),
				rsaJWK(t, "small", 1024),
				rsaJWK(t, "e1", 2048).with("e", "AQ"),
				ecJWK(t, "dup"), ecJWK(t, "dup"),
				ecJWK(t, "enc").with("use", "enc"),
			))
		}, ErrInvalidKeySet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newIDP(t)
				p.serve(setJSON(good))
				const timeout = 10 * time.Second
				s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, Fetch: FetchConfig{Timeout: timeout}})
				if err := s.Start(context.Background()); err != nil {
					t.Fatal(err)
				}
				kept := mustKey(t, s, "good", "ES256")
				if tt.handler == nil {
					p.hang()
				} else {
					p.set(tt.handler)
				}
				advance(defaultRefreshInterval)
				if tt.handler == nil {
					advance(timeout)
				}
				st := s.Stats()
				if st.Fetches != 2 || st.FetchFailures != 1 {
					t.Fatalf("fetches %d, failures %d; want 2, 1", st.Fetches, st.FetchFailures)
				}
				err := st.Sources[0].LastError
				var fe *FetchError
				if !errors.Is(err, ErrFetch) || !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), "jwks: ") {
					t.Fatalf("LastError = %v, want a *FetchError", err)
				}
				if tt.want != nil && !errors.Is(err, tt.want) {
					t.Fatalf("LastError = %v, want cause %v", err, tt.want)
				}
				if k := mustKey(t, s, "good", "ES256"); k != kept {
					t.Fatal("previous set not kept")
				}
				if err := s.Ready(); err != nil {
					t.Fatalf("Ready with a previous set: %v", err)
				}
			})
		})
	}
}

// TestFetchLimitsOnLoopback holds the fetch limits against a real server on
// the loopback interface, where the in-process transport of the other tests
// cannot show them: a response that never comes on an open connection (the
// one test here on wall time: a socket read is outside any synctest
// bubble, so Fetch.Timeout is real, and short), a body streamed past the
// limit, a declared oversized body, and redirects with the default client.
func TestFetchLimitsOnLoopback(t *testing.T) {
	good := setJSON(ecJWK(t, "good"))
	p := newLoopbackIDP(t)
	other := newLoopbackIDP(t)
	other.serve(good)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // runs before the server closes
	p.set(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hang":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		case "/stream":
			_, _ = w.Write([]byte(`{"keys":[], "pad": "`))
			chunk := strings.Repeat("x", 64<<10)
			for range 160 {
				if _, err := w.Write([]byte(chunk)); err != nil {
					return
				}
			}
		case "/declared":
			w.Header().Set("Content-Length", fmt.Sprint(10<<20))
			_, _ = w.Write([]byte("{}"))
		case "/elsewhere":
			http.Redirect(w, r, other.url(), http.StatusFound)
		case "/moved":
			http.Redirect(w, r, "/jwks.json", http.StatusMovedPermanently)
		default:
			_, _ = w.Write(good)
		}
	})
	tests := []struct {
		path string
		want error // nil: the fetch succeeds
	}{
		{"/hang", context.DeadlineExceeded},
		{"/stream", errBodyTooLarge},
		{"/declared", errBodyTooLarge},
		{"/elsewhere", errCrossOriginRedirect},
		{"/moved", nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			// Only the hanging fetch needs a short timeout; the others get a
			// generous one, so that a loaded machine cannot time them out.
			timeout := 10 * time.Second
			if tt.path == "/hang" {
				timeout = 100 * time.Millisecond
			}
			s, err := New(Config{Sources: []Source{URLSource(p.origin + tt.path)}, Fetch: FetchConfig{Timeout: timeout}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.Start(context.Background())
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Start: %v", err)
				}
				mustKey(t, s, "good", "ES256")
				return
			}
			if !errors.Is(err, ErrFetch) || !errors.Is(err, tt.want) {
				t.Fatalf("Start = %v, want ErrFetch with %v", err, tt.want)
			}
		})
	}
	if n := other.hits.Load(); n != 0 {
		t.Fatalf("the redirect to another origin was followed")
	}
}

func TestHostileKeysBesideGoodKeyAreDropped(t *testing.T) {
	synctest.Test(t, testHostileKeysBesideGoodKeyAreDropped)
}

func testHostileKeysBesideGoodKeyAreDropped(t *testing.T) {
	p := newIDP(t)
	var logs logBuffer
	p.serve(setJSON(
		ecJWK(t, "good"),
		jwkMap{"kty": "oct", "kid": "hs", "k": "c2VjcmV0c2VjcmV0", "alg": "HS256"},
		rsaJWK(t, "priv", 2048).with("d", "AQAB"),
		rsaJWK(t, "small", 1024),
		rsaJWK(t, "e1", 2048).with("e", "AQ"),
		ecJWK(t, "dup"), edJWK(t, "dup"),
		ecJWK(t, "enc").with("use", "enc"),
		jwkMap{"kty": "ML-DSA", "kid": "future", "pub": "AAAA"},
	))
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, Logger: logs.logger()})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustKey(t, s, "good", "ES256")
	for _, kid := range []string{"hs", "priv", "small", "e1", "dup", "enc", "future"} {
		for _, alg := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
			if k, err := s.Key(context.Background(), "", kid, alg); err == nil {
				t.Errorf("hostile key %q served for %s: %+v", kid, alg, k)
			}
		}
	}
	if st := s.Stats().Sources[0]; st.Keys != 1 || st.DroppedKeys != 8 {
		t.Errorf("keys %d dropped %d", st.Keys, st.DroppedKeys)
	}
	// Refresh twice more: each dropped key is logged once.
	advance(defaultRefreshInterval)
	advance(defaultRefreshInterval)
	out := logs.String()
	if n := strings.Count(out, "dropped key"); n != 8 {
		t.Errorf("%d dropped-key log lines, want 8:\n%s", n, out)
	}
	for _, want := range []string{"symmetric", `member \"d\"`, "below 2048", "exponent 1 ", "duplicate kid", `use \"enc\"`, "unsupported kty"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// TestCustomClientKeepsRedirectPolicy runs on loopback servers: the point is
// the caller's real TLS client and its CheckRedirect.
func TestCustomClientKeepsRedirectPolicy(t *testing.T) {
	other := newLoopbackIDP(t)
	other.serve(setJSON(ecJWK(t, "evil")))
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.url(), http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	called := false
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { called = true; return nil }
	s := newTestSet(t, Config{Sources: []Source{URLSource(srv.URL + "/jwks")}, HTTPClient: client})
	err := s.Start(context.Background())
	if !errors.Is(err, errCrossOriginRedirect) {
		t.Fatalf("Start = %v, want a refused redirect", err)
	}
	if called || other.hits.Load() != 0 {
		t.Fatal("redirect to another origin was followed")
	}
	// The caller's client is not modified: its CheckRedirect is still its own.
	if s.cfg.client == client || client.CheckRedirect(nil, nil) != nil || !called {
		t.Fatal("caller's client was modified")
	}
}

// TestHTTPSWithCallerClient runs on a loopback TLS server: the point is TLS
// with the caller's client.
func TestHTTPSWithCallerClient(t *testing.T) {
	body := setJSON(edJWK(t, "ed"))
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }))
	t.Cleanup(srv.Close)
	s := newTestSet(t, Config{Sources: []Source{URLSource(srv.URL)}, HTTPClient: srv.Client()})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustKey(t, s, "ed", "EdDSA")
}

func TestFirstFetchFailsThenRecovers(t *testing.T) { synctest.Test(t, testFirstFetchFailsThenRecovers) }

func testFirstFetchFailsThenRecovers(t *testing.T) {
	p := newIDP(t)
	p.status(http.StatusServiceUnavailable)
	var logs logBuffer
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, Logger: logs.logger()})
	err := s.Start(context.Background())
	var fe *FetchError
	if !errors.As(err, &fe) || fe.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("Start = %v, want the 503 FetchError", err)
	}
	_, err = s.Key(context.Background(), "", "a", "ES256")
	var ue *UnavailableError
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &ue) || ue.RetryAfter != time.Second || !errors.Is(err, ErrFetch) {
		t.Fatalf("Key = %v, want UnavailableError with RetryAfter 1s", err)
	}
	if err := s.Ready(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ready = %v", err)
	}
	// Lookups during the outage do not add fetches.
	for range 50 {
		_, _ = s.Key(context.Background(), "", "a", "ES256")
	}
	if n := p.hits.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
	p.serve(setJSON(ecJWK(t, "a")))
	advance(750 * time.Millisecond) // first backoff: 0.75 s with the test's jitter
	if n := p.hits.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	mustKey(t, s, "a", "ES256")
	if err := s.Ready(); err != nil {
		t.Fatalf("Ready: %v", err)
	}

	// The log says what a failure means: before any set was loaded,
	// nothing is served; after, the previous set is.
	p.status(http.StatusServiceUnavailable)
	advance(time.Hour)
	out := logs.String()
	if first := strings.Index(out, "no key set loaded yet, lookups answer ErrUnavailable"); first < 0 ||
		strings.Index(out, "the previous key set stays in force") < first {
		t.Fatalf("logs do not tell the first failure from a later one:\n%s", out)
	}
	if strings.Count(out, "no key set loaded yet") != 1 {
		t.Fatalf("only the first failure came before a set was loaded:\n%s", out)
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) { synctest.Test(t, testBackoffGrowsAndCaps) }

func testBackoffGrowsAndCaps(t *testing.T) {
	p := newIDP(t)
	p.status(500)
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}})
	_ = s.Start(context.Background())
	var got []time.Duration
	for range 12 {
		src := s.Stats().Sources[0]
		d := src.NextAttempt.Sub(src.LastAttempt)
		got = append(got, d)
		advance(d)
	}
	want := []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 6 * time.Second, 12 * time.Second,
		24 * time.Second, 48 * time.Second, 96 * time.Second, 192 * time.Second, 225 * time.Second, 225 * time.Second, 225 * time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("backoff %v, want %v", got, want)
	}
	if n := p.hits.Load(); n != 13 {
		t.Fatalf("%d fetches, want 13", n)
	}
}

func TestMaxStaleThenUnavailable(t *testing.T) { synctest.Test(t, testMaxStaleThenUnavailable) }

func testMaxStaleThenUnavailable(t *testing.T) {
	p := newIDP(t)
	p.serve(setJSON(ecJWK(t, "a")))
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, MaxStale: time.Hour})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	k := mustKey(t, s, "a", "ES256")
	p.status(500)
	// 15 min refresh fails; retries back off to 5 min; the set serves until 1 h.
	advance(15 * time.Minute)
	for time.Since(s.Stats().Sources[0].LastSuccess) < 55*time.Minute {
		advance(time.Until(s.Stats().Sources[0].NextAttempt))
		if got := mustKey(t, s, "a", "ES256"); got != k {
			t.Fatal("key changed during the outage")
		}
	}
	// Cross the limit: the loop wakes at the deadline and marks the set stale.
	advance(time.Until(s.Stats().Sources[0].LastSuccess.Add(time.Hour)))
	if st := s.Stats(); st.Keys != 0 || st.Sources[0].Usable {
		t.Fatalf("stats past MaxStale: %+v", st)
	}
	_, err := s.Key(context.Background(), "", "a", "ES256")
	var ue *UnavailableError
	if !errors.As(err, &ue) || ue.RetryAfter < time.Second {
		t.Fatalf("Key past MaxStale = %v, want UnavailableError", err)
	}
	if err := s.Ready(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ready = %v", err)
	}
	// Recovery.
	p.serve(setJSON(ecJWK(t, "a"), ecJWK(t, "b")))
	advance(5 * time.Minute)
	mustKey(t, s, "b", "ES256")
	if err := s.Ready(); err != nil {
		t.Fatal(err)
	}
}

func TestRefreshWithinMaxStale(t *testing.T) { synctest.Test(t, testRefreshWithinMaxStale) }

func testRefreshWithinMaxStale(t *testing.T) {
	p := newIDP(t)
	p.serve(setJSON(ecJWK(t, "a")), "Cache-Control", "max-age=86400")
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, MaxStale: 20 * time.Minute})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		advance(10 * time.Minute)
		if err := s.Ready(); err != nil {
			t.Fatalf("Ready: %v", err)
		}
	}
	if n := p.hits.Load(); n != 6 {
		t.Fatalf("%d fetches, want 6", n)
	}
}

func TestCloseDuringFetchIsQuiet(t *testing.T) { synctest.Test(t, testCloseDuringFetchIsQuiet) }

func testCloseDuringFetchIsQuiet(t *testing.T) {
	p := newIDP(t)
	p.hang()
	var logs logBuffer
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, Logger: logs.logger(), Fetch: FetchConfig{Timeout: time.Minute}})
	started := make(chan error, 1)
	go func() { started <- s.Start(context.Background()) }()
	synctest.Wait()
	if n := p.hits.Load(); n != 1 {
		t.Fatalf("%d fetches in flight, want 1", n)
	}
	s.Close()
	if err := <-started; !errors.Is(err, ErrClosed) {
		t.Fatalf("Start during Close = %v, want ErrClosed", err)
	}
	if st := s.Stats(); st.FetchFailures != 0 || strings.Contains(logs.String(), "fetch failed") {
		t.Fatalf("Close counted as a failed fetch: %+v\n%s", st, logs.String())
	}
}

func TestStormOneNewKid(t *testing.T) { synctest.Test(t, testStormOneNewKid) }

func testStormOneNewKid(t *testing.T) {
	n := 10000
	if raceEnabled {
		n = 7000 // the race detector's goroutine limit is 8128
	}
	p := newIDP(t)
	p.serve(setJSON(ecJWK(t, "old")))
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The new set is served only after a gate opens, so the lookups pile up
	// on the one fetch in flight.
	gate := make(chan struct{})
	newSet := setJSON(ecJWK(t, "old"), ecJWK(t, "new"))
	p.set(func(w http.ResponseWriter, r *http.Request) {
		<-gate
		_, _ = w.Write(newSet)
	})
	var wg sync.WaitGroup
	keys := make([]*Key, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = s.Key(context.Background(), "", "new", "ES256") })
	}
	synctest.Wait() // every lookup waits for the one refetch
	if n := p.hits.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	close(gate)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || keys[i] != keys[0] || keys[i].ID != "new" {
			t.Fatalf("lookup %d: %v, %v", i, keys[i], errs[i])
		}
	}
	fetches := p.hits.Load() - 1
	t.Logf("%d concurrent lookups of a new kid: %d fetch(es)", n, fetches)
	if fetches != 1 {
		t.Fatalf("%d fetches, want exactly 1", fetches)
	}
}

func TestStormRandomUnknownKids(t *testing.T) { synctest.Test(t, testStormRandomUnknownKids) }

func testStormRandomUnknownKids(t *testing.T) {
	n := 10000
	if raceEnabled {
		n = 7000
	}
	p := newIDP(t)
	p.serve(setJSON(ecJWK(t, "a")))
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, Fetch: FetchConfig{Timeout: time.Minute}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	storm := func(round int) []error {
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { _, errs[i] = s.Key(context.Background(), "", fmt.Sprintf("random-%d-%d", round, i), "ES256") })
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("round %d: lookups did not return while the IdP hangs", round)
		}
		return errs
	}
	for round := range 3 {
		before := p.hits.Load()
		// Window open: the storm may cause one fetch (served at once).
		p.serve(setJSON(ecJWK(t, "a")))
		for _, err := range storm(2 * round) {
			if !errors.Is(err, ErrKeyNotFound) {
				t.Fatalf("err = %v", err)
			}
		}
		first := p.hits.Load() - before
		// Window closed: the IdP now hangs for a minute; lookups must not wait.
		p.hang()
		for _, err := range storm(2*round + 1) {
			if !errors.Is(err, ErrKeyNotFound) {
				t.Fatalf("err = %v", err)
			}
		}
		second := p.hits.Load() - before - first
		t.Logf("window %d: %d random kids -> %d fetch; %d more in the same window -> %d fetches", round, n, first, n, second)
		if first != 1 || second != 0 {
			t.Fatalf("window %d: %d and %d fetches, want 1 and 0", round, first, second)
		}
		advance(defaultUnknownKIDWindow)
	}
	st := s.Stats()
	if st.UnknownKIDRefetches != 3 || st.UnknownKIDFastFails < uint64(3*n) {
		t.Errorf("stats %+v", st)
	}
	if s.neg.len() > defaultNegativeCacheSize {
		t.Errorf("negative cache holds %d entries", s.neg.len())
	}
}

// TestUnknownKIDWindow holds the rate limit of unknown-kid refetches: one per
// Window (30 s), counted from the start of the refetch.
func TestUnknownKIDWindow(t *testing.T) { synctest.Test(t, testUnknownKIDWindow) }

func testUnknownKIDWindow(t *testing.T) {
	p := newIDP(t)
	p.serve(setJSON(ecJWK(t, "a")))
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, tt := range []struct {
		after time.Duration
		fetch bool
	}{
		{0, true}, {0, false}, {defaultUnknownKIDWindow - time.Millisecond, false}, {time.Millisecond, true}, {time.Second, false},
	} {
		advance(tt.after)
		before := p.hits.Load()
		if _, err := s.Key(context.Background(), "", fmt.Sprint("unknown-", i), "ES256"); !errors.Is(err, ErrKeyNotFound) {
			t.Fatalf("lookup %d: %v", i, err)
		}
		if got := p.hits.Load() > before; got != tt.fetch {
			t.Errorf("lookup %d, %v after the previous: refetch %v, want %v", i, tt.after, got, tt.fetch)
		}
	}
	if st := s.Stats(); st.UnknownKIDRefetches != 2 || st.UnknownKIDFastFails != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestNegativeCache(t *testing.T) { synctest.Test(t, testNegativeCache) }

func testNegativeCache(t *testing.T) {
	p := newIDP(t)
	p.serve(setJSON(ecJWK(t, "a")))
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, UnknownKID: UnknownKIDConfig{NegativeCacheSize: 2}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	lookup := func(kid string) {
		t.Helper()
		if _, err := s.Key(context.Background(), "", kid, "ES256"); !errors.Is(err, ErrKeyNotFound) {
			t.Fatalf("Key(%q) = %v", kid, err)
		}
	}
	lookup("x") // refetch 1, x remembered
	advance(defaultUnknownKIDWindow)
	lookup("x") // window open, but x is remembered: no fetch
	if n := p.hits.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	lookup("y") // new kid: refetch 2
	if n := p.hits.Load(); n != 3 {
		t.Fatalf("%d fetches, want 3", n)
	}
	// Only kids looked for after a refetch are remembered: z, refused by the
	// rate limit, may refetch once the window opens.
	lookup("z")
	advance(defaultUnknownKIDWindow)
	lookup("z")
	if n := p.hits.Load(); n != 4 {
		t.Fatalf("%d fetches, want 4", n)
	}
	if s.neg.len() > 2 {
		t.Fatalf("negative cache holds %d, bound 2", s.neg.len())
	}
	// The set changing forgets remembered kids; a very long kid never refetches.
	long := strings.Repeat("k", maxKIDLen+1)
	advance(defaultUnknownKIDWindow)
	lookup(long)
	if n := p.hits.Load(); n != 4 {
		t.Fatalf("long kid refetched")
	}
}

func TestWaiterHonoursContextAndClose(t *testing.T) {
	synctest.Test(t, testWaiterHonoursContextAndClose)
}

func testWaiterHonoursContextAndClose(t *testing.T) {
	p := newIDP(t)
	p.hang()
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, Fetch: FetchConfig{Timeout: time.Minute}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	// Not started: the lookup runs the fetch, on its own ctx.
	if _, err := s.Key(ctx, "", "a", "ES256"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Key = %v, want deadline exceeded", err)
	}
	// Start's ctx bounds its wait, not the background fetch.
	if err := s.Start(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Start = %v", err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := s.Key(context.Background(), "", "a", "ES256")
		errc <- err
	}()
	synctest.Wait()
	if n := p.hits.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2: the lookup's, then the loop's", n)
	}
	s.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("waiting lookup after Close = %v", err)
	}
	if st := s.Stats(); st.FetchFailures != 0 {
		t.Fatalf("an abandoned fetch counted as failed: %+v", st)
	}
}

func TestCloseStopsEverything(t *testing.T) { synctest.Test(t, testCloseStopsEverything) }

func testCloseStopsEverything(t *testing.T) {
	p := newIDP(t)
	first, second := setJSON(ecJWK(t, "a")), setJSON(ecJWK(t, "b"))
	p.set(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/second" {
			_, _ = w.Write(second)
			return
		}
		_, _ = w.Write(first)
	})
	srcs := []Source{URLSource(p.url()), URLSource(p.origin + "/second"), StaticSource(setJSON(ecJWK(t, "s")))}
	s, err := New(Config{Sources: srcs, HTTPClient: &http.Client{Transport: inProcess{}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Key(context.Background(), "", "a", "ES256"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	if st := allStacks(); strings.Contains(st, "jwks.(*Set)") {
		t.Fatalf("a jwks goroutine survived Close:\n%s", st)
	}
	for _, err := range []error{
		s.Start(context.Background()), s.Ready(),
		func() error { _, err := s.Key(context.Background(), "", "a", "ES256"); return err }(),
		func() error { _, err := s.Key(context.Background(), "", "s", "ES256"); return err }(),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("after Close: %v, want ErrClosed", err)
		}
	}
	// The bubble ends only when every goroutine started in it has exited.
}

func TestOIDCDiscovery(t *testing.T) { synctest.Test(t, testOIDCDiscovery) }

func testOIDCDiscovery(t *testing.T) {
	p := newIDP(t)
	issuer := p.origin
	body := setJSON(ecJWK(t, "a"))
	var disc, jwksHits int
	var mu sync.Mutex
	jwksURI := issuer + "/keys"
	p.set(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			disc++
			fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q,"ISSUER":"ignored"}`, issuer, jwksURI)
		case "/keys":
			jwksHits++
			_, _ = w.Write(body)
		default:
			http.NotFound(w, r)
		}
	})
	counts := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return disc, jwksHits
	}
	s := newTestSet(t, Config{Sources: []Source{OIDCSource(issuer)}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if k := mustKey(t, s, "a", "ES256"); k.Issuer != issuer {
		t.Errorf("Issuer = %q", k.Issuer)
	}
	// Refresh reuses the discovered jwks_uri.
	advance(defaultRefreshInterval)
	if d, j := counts(); d != 1 || j != 2 {
		t.Fatalf("discovery %d, jwks %d; want 1, 2", d, j)
	}
	// A failing jwks_uri leads to discovery again.
	mu.Lock()
	jwksURI = issuer + "/gone"
	mu.Unlock()
	advance(defaultRefreshInterval) // /keys still works: no change
	mu.Lock()
	body = []byte("oops")
	mu.Unlock()
	advance(defaultRefreshInterval) // fails -> forget jwks_uri
	advance(750 * time.Millisecond) // discovers /gone -> 404
	if d, _ := counts(); d != 2 {
		t.Fatalf("discovery %d, want 2", d)
	}
	mustKey(t, s, "a", "ES256")
}

func TestOIDCDiscoveryRefused(t *testing.T) {
	for _, tt := range []struct {
		name, iss, uri, want string
	}{
		{"issuer with trailing slash", "/", "/keys", "does not equal"},
		{"other issuer", "https://evil.example", "/keys", "does not equal"},
		{"no jwks_uri", "", "", "no jwks_uri"},
		{"http jwks_uri", "", "http://evil.example/keys", "unacceptable jwks_uri"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newIDP(t)
			iss, uri := tt.iss, tt.uri
			if !strings.HasPrefix(iss, "https:") {
				iss = p.origin + iss
			}
			if strings.HasPrefix(uri, "/") {
				uri = p.origin + uri
			}
			p.set(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, iss, uri)
			})
			s := newTestSet(t, Config{Sources: []Source{OIDCSource(p.origin)}})
			err := s.Start(context.Background())
			if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Start = %v, want %q", err, tt.want)
			}
			if n := p.hits.Load(); n != 1 {
				t.Fatalf("%d requests, want the discovery only", n)
			}
		})
	}
}

// TestOIDCDiscoveryNoDowngrade holds the rule that a jwks_uri found through
// an https discovery document is https too, loopback or not, unless
// InsecureAllowHTTPForAnyHost is set; http discovery on loopback (a
// development setup) may name an http loopback jwks_uri. It runs on loopback
// servers, with TLS: the point is real http and https URLs of loopback hosts.
func TestOIDCDiscoveryNoDowngrade(t *testing.T) {
	plain := newLoopbackIDP(t) // http, loopback
	plain.serve(setJSON(ecJWK(t, "a")))
	var jwksURI string
	var mu sync.Mutex
	discovery := func(issuer string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			switch r.URL.Path {
			case "/.well-known/openid-configuration":
				fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, issuer, jwksURI)
			case "/keys":
				_, _ = w.Write(setJSON(ecJWK(t, "a")))
			default:
				http.NotFound(w, r)
			}
		}
	}
	var tlsIssuer string
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { discovery(tlsIssuer)(w, r) }))
	t.Cleanup(tlsSrv.Close)
	tlsIssuer = tlsSrv.URL
	devIDP := newLoopbackIDP(t)
	devIDP.set(discovery(devIDP.origin))

	tests := []struct {
		name     string
		issuer   string
		jwksURI  string
		insecure bool
		ok       bool
	}{
		{"https discovery, http loopback jwks_uri", tlsSrv.URL, plain.url(), false, false},
		{"https discovery, http localhost jwks_uri", tlsSrv.URL, strings.Replace(plain.url(), "127.0.0.1", "localhost", 1), false, false},
		{"https discovery, HTTP loopback jwks_uri", tlsSrv.URL, strings.Replace(plain.url(), "http:", "HTTP:", 1), false, false},
		{"https discovery, http jwks_uri, insecure switch", tlsSrv.URL, plain.url(), true, true},
		{"https discovery, https jwks_uri", tlsSrv.URL, tlsSrv.URL + "/keys", false, true},
		{"http loopback discovery, http loopback jwks_uri", devIDP.origin, plain.url(), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			jwksURI = tt.jwksURI
			mu.Unlock()
			hits := plain.hits.Load()
			s := newTestSet(t, Config{Sources: []Source{OIDCSource(tt.issuer)}, HTTPClient: tlsSrv.Client(), InsecureAllowHTTPForAnyHost: tt.insecure})
			err := s.Start(context.Background())
			if tt.ok {
				if err != nil {
					t.Fatalf("Start: %v", err)
				}
				mustKey(t, s, "a", "ES256")
				return
			}
			if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "unacceptable jwks_uri") || !strings.Contains(err.Error(), "came over https") {
				t.Fatalf("Start = %v, want ErrFetch for the downgraded jwks_uri", err)
			}
			if _, err := s.Key(context.Background(), "", "a", "ES256"); !errors.Is(err, ErrUnavailable) {
				t.Errorf("Key = %v, want ErrUnavailable", err)
			}
			if st := s.Stats(); st.Keys != 0 || plain.hits.Load() != hits {
				t.Errorf("keys %d, http jwks_uri fetched %d times", st.Keys, plain.hits.Load()-hits)
			}
		})
	}
}

func TestSeveralSources(t *testing.T) { synctest.Test(t, testSeveralSources) }

func testSeveralSources(t *testing.T) {
	p1, p2 := newIDP(t), newIDP(t)
	shared := ecJWK(t, "shared")
	p1.serve(setJSON(ecJWK(t, "one"), shared, rsaJWK(t, "clash", 2048)))
	p2.serve(setJSON(ecJWK(t, "two"), shared, ecJWK(t, "clash")))
	s1, s2 := URLSource(p1.url()), URLSource(p2.url())
	s1.Issuer, s2.Issuer = "https://one.example", "https://two.example"
	s := newTestSet(t, Config{Sources: []Source{s1, s2}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if k := mustKey(t, s, "one", "ES256"); k.Issuer != s1.Issuer {
		t.Errorf("one: issuer %q", k.Issuer)
	}
	if k := mustKey(t, s, "two", "ES256"); k.Issuer != s2.Issuer {
		t.Errorf("two: issuer %q", k.Issuer)
	}
	// A kid two sources publish is resolved by alg, or is ambiguous.
	if k := mustKey(t, s, "clash", "RS256"); k.Issuer != s1.Issuer {
		t.Errorf("clash RS256 from %q", k.Issuer)
	}
	if k := mustKey(t, s, "clash", "ES256"); k.Issuer != s2.Issuer {
		t.Errorf("clash ES256 from %q", k.Issuer)
	}
	if _, err := s.Key(context.Background(), "", "shared", "ES256"); !errors.Is(err, ErrAmbiguousKey) {
		t.Errorf("shared: %v, want ErrAmbiguousKey", err)
	}
	if _, err := s.Key(context.Background(), "", "clash", "EdDSA"); !errors.Is(err, ErrAlgMismatch) {
		t.Errorf("clash EdDSA: %v", err)
	}
	// Source 2 goes past MaxStale: its keys go, source 1 keeps serving, and
	// an unknown kid is "unavailable" (it might be source 2's).
	p2.status(500)
	for time.Since(s.Stats().Sources[1].LastSuccess) < defaultMaxStale {
		advance(time.Hour)
	}
	mustKey(t, s, "one", "ES256")
	if _, err := s.Key(context.Background(), "", "two", "ES256"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("two after MaxStale: %v", err)
	}
	if err := s.Ready(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Ready: %v", err)
	}
	st := s.Stats()
	if st.Sources[0].Usable == false || st.Sources[1].Usable == true || st.Sources[1].FetchFailures == 0 {
		t.Errorf("stats %+v", st.Sources)
	}
}

// TestConcurrentLookupsDuringRotation looks keys up from several goroutines
// while refetches replace the set. The lookups spin, so the refetches are
// the unknown kids' (run while they spin), not the scheduled ones, which a
// bubble's clock reaches only once every goroutine blocks.
func TestConcurrentLookupsDuringRotation(t *testing.T) {
	synctest.Test(t, testConcurrentLookupsDuringRotation)
}

func testConcurrentLookupsDuringRotation(t *testing.T) {
	p := newIDP(t)
	keys := []jwkMap{ecJWK(t, "k0"), ecJWK(t, "k1"), ecJWK(t, "k2"), ecJWK(t, "k3")}
	p.serve(setJSON(keys[0], keys[1]))
	// Kids remembered as unknown in one round are forgotten by the next.
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, UnknownKID: UnknownKIDConfig{NegativeCacheTTL: time.Second}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		p.serve(setJSON(keys[i%4], keys[(i+1)%4]))
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for j := 0; ; j++ {
					select {
					case <-stop:
						return
					default:
					}
					k, err := s.Key(context.Background(), "", fmt.Sprintf("k%d", (g+j)%4), "ES256")
					if err == nil && k.Public == nil {
						t.Error("key without public key")
						return
					}
					if err != nil && !errors.Is(err, ErrKeyNotFound) {
						t.Errorf("unexpected error %v", err)
						return
					}
				}
			})
		}
		mustKey(t, s, fmt.Sprintf("k%d", (i+1)%4), "ES256") // refetched while the others look up
		close(stop)
		wg.Wait()
		advance(defaultUnknownKIDWindow)
	}
	// The final set is {k1, k2}.
	mustKey(t, s, "k1", "ES256")
	mustKey(t, s, "k2", "ES256")
	if _, err := s.Key(context.Background(), "", "k0", "ES256"); !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("k0 after the rotation: %v", err)
	}
}
