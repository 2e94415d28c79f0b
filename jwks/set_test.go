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
	"time"
)

// key looks kid up and fails the test on error.
func mustKey(t *testing.T, s *testSet, kid, alg string) *Key {
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
		{"loopback http", Config{Sources: []Source{URLSource(p.url())}}, true},
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
				_ = s.Close()
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
	if st.Fetches != 1 || st.Keys != 2 || !st.LastSuccess.Equal(s.clock.Now()) || st.Sources[0].Name != p.url() {
		t.Errorf("stats = %+v", st)
	}
}

func TestLazyFirstFetch(t *testing.T) {
	p := newIDP(t)
	p.serve(setJSON(ecJWK(t, "a")))
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}})
	if n := p.hits.Load(); n != 0 {
		t.Fatalf("fetched before use")
	}
	mustKey(t, s, "a", "ES256")
	if n := p.hits.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
}

func TestRotation(t *testing.T) {
	p := newIDP(t)
	a, b := ecJWK(t, "a"), ecJWK(t, "b")
	p.serve(setJSON(a))
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.waitParks(t, 1)
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
	s.waitParks(t, 2)
	p.serve(setJSON(b))
	s.advance(t, defaultRefreshInterval, 1)
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
			p := newIDP(t)
			p.serve(setJSON(ecJWK(t, "a")), tt.header...)
			s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, MaxStale: tt.maxStale})
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			s.waitParks(t, 1)
			src := s.Stats().Sources[0]
			if got := src.NextAttempt.Sub(src.LastSuccess); got != tt.want {
				t.Fatalf("next refresh in %v, want %v", got, tt.want)
			}
			// Just before it: no fetch; at it: one.
			s.advance(t, tt.want-time.Second, 0)
			if n := p.hits.Load(); n != 1 {
				t.Fatalf("fetched early")
			}
			s.advance(t, time.Second, 1)
			if n := p.hits.Load(); n != 2 {
				t.Fatalf("%d fetches after the interval, want 2", n)
			}
		})
	}
}

func TestFetchFaultsKeepPreviousSet(t *testing.T) {
	good := ecJWK(t, "good")
	other := newIDP(t)
	other.serve(setJSON(ecJWK(t, "evil")))
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    error // cause, besides ErrFetch
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", 500) }, nil},
		{"404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, nil},
		{"hangs", nil, context.DeadlineExceeded},
		{"10 MiB body", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"keys":[` + string(must(good)) + `], "pad": "`))
			chunk := strings.Repeat("x", 64<<10)
			for range 160 {
				if _, err := w.Write([]byte(chunk)); err != nil {
					return
				}
			}
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
			http.Redirect(w, r, other.url(), http.StatusFound)
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
			p := newIDP(t)
			p.serve(setJSON(good))
			// Only the hanging case needs a short timeout; the others get a
			// generous one so a loaded machine cannot turn them into time-outs.
			timeout := 10 * time.Second
			if tt.handler == nil {
				timeout = 100 * time.Millisecond
			}
			s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, Fetch: FetchConfig{Timeout: timeout}})
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			s.waitParks(t, 1)
			kept := mustKey(t, s, "good", "ES256")
			if tt.handler == nil {
				p.hang()
			} else {
				p.set(tt.handler)
			}
			s.advance(t, defaultRefreshInterval, 1)
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
			if _, err := s.Key(context.Background(), "", "evil", "ES256"); !errors.Is(err, ErrKeyNotFound) {
				t.Fatalf("evil: %v", err)
			}
			if err := s.Ready(); err != nil {
				t.Fatalf("Ready with a previous set: %v", err)
			}
		})
	}
}

func TestHostileKeysBesideGoodKeyAreDropped(t *testing.T) {
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
	s.waitParks(t, 1)
	s.advance(t, defaultRefreshInterval, 1)
	s.advance(t, defaultRefreshInterval, 1)
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

func TestRedirectSameOriginFollowed(t *testing.T) {
	p := newIDP(t)
	body := setJSON(ecJWK(t, "a"))
	p.set(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/jwks.json", http.StatusMovedPermanently)
			return
		}
		_, _ = w.Write(body)
	})
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.srv.URL + "/old")}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustKey(t, s, "a", "ES256")
}

func TestCustomClientKeepsRedirectPolicy(t *testing.T) {
	other := newIDP(t)
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

func TestFirstFetchFailsThenRecovers(t *testing.T) {
	p := newIDP(t)
	p.status(http.StatusServiceUnavailable)
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}})
	err := s.Start(context.Background())
	var fe *FetchError
	if !errors.As(err, &fe) || fe.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("Start = %v, want the 503 FetchError", err)
	}
	s.waitParks(t, 1)
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
	s.advance(t, time.Second, 1) // first backoff: 0.75 s with the test's jitter
	if n := p.hits.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	mustKey(t, s, "a", "ES256")
	if err := s.Ready(); err != nil {
		t.Fatalf("Ready: %v", err)
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	p := newIDP(t)
	p.status(500)
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}})
	_ = s.Start(context.Background())
	s.waitParks(t, 1)
	var got []time.Duration
	for range 12 {
		src := s.Stats().Sources[0]
		d := src.NextAttempt.Sub(src.LastAttempt)
		got = append(got, d)
		s.advance(t, d, 1)
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

func TestMaxStaleThenUnavailable(t *testing.T) {
	p := newIDP(t)
	p.serve(setJSON(ecJWK(t, "a")))
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, MaxStale: time.Hour})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.waitParks(t, 1)
	k := mustKey(t, s, "a", "ES256")
	p.status(500)
	// 15 min refresh fails; retries back off to 5 min; the set serves until 1 h.
	s.advance(t, 15*time.Minute, 1)
	for s.clock.Now().Sub(s.Stats().Sources[0].LastSuccess) < 55*time.Minute {
		src := s.Stats().Sources[0]
		s.advance(t, src.NextAttempt.Sub(s.clock.Now()), 1)
		if got := mustKey(t, s, "a", "ES256"); got != k {
			t.Fatal("key changed during the outage")
		}
	}
	// Cross the limit: the loop wakes at the deadline and marks the set stale.
	for s.clock.Now().Sub(s.Stats().Sources[0].LastSuccess) < time.Hour {
		src := s.Stats().Sources[0]
		now := s.clock.Now()
		s.advance(t, min(src.NextAttempt.Sub(now), src.LastSuccess.Add(time.Hour).Sub(now)), 1)
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
	s.advance(t, 5*time.Minute, 1)
	mustKey(t, s, "b", "ES256")
	if err := s.Ready(); err != nil {
		t.Fatal(err)
	}
}

func TestRefreshWithinMaxStale(t *testing.T) {
	p := newIDP(t)
	p.serve(setJSON(ecJWK(t, "a")), "Cache-Control", "max-age=86400")
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, MaxStale: 20 * time.Minute})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.waitParks(t, 1)
	for range 5 {
		s.advance(t, 10*time.Minute, 1)
		if err := s.Ready(); err != nil {
			t.Fatalf("Ready: %v", err)
		}
	}
	if n := p.hits.Load(); n != 6 {
		t.Fatalf("%d fetches, want 6", n)
	}
}

func TestCloseDuringFetchIsQuiet(t *testing.T) {
	p := newIDP(t)
	p.hang()
	var logs logBuffer
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, Logger: logs.logger(), Fetch: FetchConfig{Timeout: time.Minute}})
	go func() { _ = s.Start(context.Background()) }()
	eventually(t, func() bool { return p.hits.Load() == 1 }, "fetch started")
	_ = s.Close()
	if st := s.Stats(); st.FetchFailures != 0 || strings.Contains(logs.String(), "fetch failed") {
		t.Fatalf("Close counted as a failed fetch: %+v\n%s", st, logs.String())
	}
}

func TestStormOneNewKid(t *testing.T) {
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
	var started, wg sync.WaitGroup
	started.Add(n)
	wg.Add(n)
	keys := make([]*Key, n)
	errs := make([]error, n)
	for i := range n {
		go func() {
			defer wg.Done()
			started.Done()
			keys[i], errs[i] = s.Key(context.Background(), "", "new", "ES256")
		}()
	}
	started.Wait()
	eventually(t, func() bool { return p.hits.Load() == 2 }, "refetch started")
	time.Sleep(20 * time.Millisecond) // let stragglers join the flight
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

func TestStormRandomUnknownKids(t *testing.T) {
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
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.Key(context.Background(), "", fmt.Sprintf("random-%d-%d", round, i), "ES256")
			}()
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
		s.clock.Advance(defaultUnknownKIDWindow)
	}
	st := s.Stats()
	if st.UnknownKIDRefetches != 3 || st.UnknownKIDFastFails < uint64(3*n) {
		t.Errorf("stats %+v", st)
	}
	if s.neg.len() > defaultNegativeCacheSize {
		t.Errorf("negative cache holds %d entries", s.neg.len())
	}
}

func TestNegativeCache(t *testing.T) {
	p := newIDP(t)
	p.serve(setJSON(ecJWK(t, "a")))
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, UnknownKID: UnknownKIDConfig{NegativeCacheSize: 2}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.waitParks(t, 1)
	lookup := func(kid string) {
		t.Helper()
		if _, err := s.Key(context.Background(), "", kid, "ES256"); !errors.Is(err, ErrKeyNotFound) {
			t.Fatalf("Key(%q) = %v", kid, err)
		}
	}
	lookup("x") // refetch 1, x remembered
	s.advance(t, defaultUnknownKIDWindow, 0)
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
	s.advance(t, defaultUnknownKIDWindow, 0)
	lookup("z")
	if n := p.hits.Load(); n != 4 {
		t.Fatalf("%d fetches, want 4", n)
	}
	if s.neg.len() > 2 {
		t.Fatalf("negative cache holds %d, bound 2", s.neg.len())
	}
	// The set changing forgets remembered kids; a very long kid never refetches.
	long := strings.Repeat("k", maxKIDLen+1)
	s.advance(t, defaultUnknownKIDWindow, 0)
	lookup(long)
	if n := p.hits.Load(); n != 4 {
		t.Fatalf("long kid refetched")
	}
}

func TestWaiterHonoursContextAndClose(t *testing.T) {
	p := newIDP(t)
	p.hang()
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}, Fetch: FetchConfig{Timeout: time.Minute}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Key(ctx, "", "a", "ES256"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Key = %v, want deadline exceeded", err)
	}
	if err := s.Start(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Start = %v", err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := s.Key(context.Background(), "", "a", "ES256")
		errc <- err
	}()
	eventually(t, func() bool { return p.hits.Load() == 1 }, "fetch started")
	_ = s.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("waiting lookup after Close = %v", err)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		p := newIDP(t)
		first, second := setJSON(ecJWK(t, "a")), setJSON(ecJWK(t, "b"))
		p.set(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/second" {
				_, _ = w.Write(second)
				return
			}
			_, _ = w.Write(first)
		})
		srcs := []Source{URLSource(p.url()), URLSource(p.srv.URL + "/second"), StaticSource(setJSON(ecJWK(t, "s")))}
		s, err := New(Config{Sources: srcs})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Key(context.Background(), "", "a", "ES256"); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal("second Close:", err)
		}
		buf := make([]byte, 1<<20)
		if st := string(buf[:runtime.Stack(buf, true)]); strings.Contains(st, "jwks.(*Set)") {
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
		p.srv.Close()
	}()
	eventually(t, func() bool { return runtime.NumGoroutine() <= before }, "goroutines back to %d (now %d)", before, runtime.NumGoroutine())
}

func TestOIDCDiscovery(t *testing.T) {
	p := newIDP(t)
	issuer := p.srv.URL
	body := setJSON(ecJWK(t, "a"))
	var disc, jwksHits int
	var mu sync.Mutex
	docIssuer, jwksURI := issuer, issuer+"/keys"
	p.set(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			disc++
			fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q,"ISSUER":"ignored"}`, docIssuer, jwksURI)
		case "/keys":
			jwksHits++
			_, _ = w.Write(body)
		default:
			http.NotFound(w, r)
		}
	})
	s := newTestSet(t, Config{Sources: []Source{OIDCSource(issuer)}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.waitParks(t, 1)
	if k := mustKey(t, s, "a", "ES256"); k.Issuer != issuer {
		t.Errorf("Issuer = %q", k.Issuer)
	}
	// Refresh reuses the discovered jwks_uri.
	s.advance(t, defaultRefreshInterval, 1)
	if disc != 1 || jwksHits != 2 {
		t.Fatalf("discovery %d, jwks %d; want 1, 2", disc, jwksHits)
	}
	// A failing jwks_uri leads to discovery again.
	mu.Lock()
	jwksURI = issuer + "/gone"
	mu.Unlock()
	s.advance(t, defaultRefreshInterval, 1) // /keys still works: no change
	mu.Lock()
	body = []byte("oops")
	mu.Unlock()
	s.advance(t, defaultRefreshInterval, 1) // fails -> forget jwks_uri
	s.advance(t, time.Second, 1)            // discovers /gone -> 404
	if disc != 2 {
		t.Fatalf("discovery %d, want 2", disc)
	}
	mustKey(t, s, "a", "ES256")

	for _, tt := range []struct {
		name, iss, uri, want string
	}{
		{"issuer with trailing slash", issuer + "/", issuer + "/keys", "does not equal"},
		{"other issuer", "https://evil.example", issuer + "/keys", "does not equal"},
		{"no jwks_uri", issuer, "", "no jwks_uri"},
		{"http jwks_uri", issuer, "http://evil.example/keys", "unacceptable jwks_uri"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			docIssuer, jwksURI = tt.iss, tt.uri
			mu.Unlock()
			s := newTestSet(t, Config{Sources: []Source{OIDCSource(issuer)}})
			err := s.Start(context.Background())
			if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Start = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestOIDCDiscoveryNoDowngrade holds the rule that a jwks_uri found through
// an https discovery document is https too, loopback or not, unless
// InsecureAllowHTTPForAnyHost is set; http discovery on loopback (a
// development setup) may name an http loopback jwks_uri.
func TestOIDCDiscoveryNoDowngrade(t *testing.T) {
	plain := newIDP(t) // http, loopback
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
	devIDP := newIDP(t)
	devIDP.set(discovery(devIDP.srv.URL))

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
		{"http loopback discovery, http loopback jwks_uri", devIDP.srv.URL, plain.url(), false, true},
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

func TestSeveralSources(t *testing.T) {
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
	s.waitParks(t, 2)
	p2.status(500)
	for s.clock.Now().Sub(s.Stats().Sources[1].LastSuccess) < defaultMaxStale {
		s.advance(t, time.Hour, 2)
		p1.serve(setJSON(ecJWK(t, "one"), shared, rsaJWK(t, "clash", 2048)))
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

func TestConcurrentLookupsDuringRotation(t *testing.T) {
	p := newIDP(t)
	keys := []jwkMap{ecJWK(t, "k0"), ecJWK(t, "k1"), ecJWK(t, "k2"), ecJWK(t, "k3")}
	p.serve(setJSON(keys[0], keys[1]))
	s := newTestSet(t, Config{Sources: []Source{URLSource(p.url())}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.waitParks(t, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k, err := s.Key(context.Background(), "", fmt.Sprintf("k%d", (g+i)%4), "ES256")
				if err == nil && k.Public == nil {
					t.Error("key without public key")
					return
				}
				if err != nil && !errors.Is(err, ErrKeyNotFound) {
					t.Errorf("unexpected error %v", err)
					return
				}
			}
		}()
	}
	for i := range 6 {
		p.serve(setJSON(keys[i%4], keys[(i+1)%4]))
		s.advance(t, defaultRefreshInterval, 1)
	}
	close(stop)
	wg.Wait()
	// The final set is {k1, k2}.
	mustKey(t, s, "k1", "ES256")
	mustKey(t, s, "k2", "ES256")
}
