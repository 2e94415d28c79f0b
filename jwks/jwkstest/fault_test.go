package jwkstest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessiongate/sessiongate/jwks/jwkstest"
)

type response struct {
	status int
	header http.Header
	body   string
	length int64 // ContentLength as the client saw it
}

func get(t *testing.T, c *http.Client, url string) response {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return response{res.StatusCode, res.Header, string(b), res.ContentLength}
}

func TestFaults(t *testing.T) {
	noGoroutineLeak(t)
	srv := jwkstest.NewServer()
	defer srv.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "other host")
	}))
	defer other.Close()
	noRedirect := *srv.Client()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	doc := string(srv.JWKS())
	disc := mustJSON(srv.DiscoveryDocument())
	foreign := srv.DiscoveryDocument()
	foreign["issuer"] = "https://evil.example"

	tests := []struct {
		name      string
		discovery bool
		fault     jwkstest.Fault
		client    *http.Client
		check     func(t *testing.T, r response)
	}{
		{name: "healthy", check: func(t *testing.T, r response) {
			if r.status != 200 || r.body != doc || r.length != int64(len(doc)) {
				t.Errorf("%d %q (length %d)", r.status, r.body, r.length)
			}
		}},
		{name: "500", fault: jwkstest.Fault{Status: 500}, check: func(t *testing.T, r response) {
			if r.status != 500 || r.body != "500 Internal Server Error\n" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
				t.Errorf("%d %q %v", r.status, r.body, r.header)
			}
		}},
		{name: "503 with Retry-After", fault: jwkstest.Fault{Status: 503, Header: http.Header{"Retry-After": {"120"}}}, check: func(t *testing.T, r response) {
			if r.status != 503 || r.header.Get("Retry-After") != "120" {
				t.Errorf("%d %v", r.status, r.header)
			}
		}},
		{name: "invalid JSON", fault: jwkstest.Fault{Body: []byte(`{"keys":[`)}, check: func(t *testing.T, r response) {
			if r.status != 200 || r.body != `{"keys":[` || json.Valid([]byte(r.body)) {
				t.Errorf("%d %q", r.status, r.body)
			}
		}},
		{name: "status with body", fault: jwkstest.Fault{Status: 404, Body: []byte(`{"error":"gone"}`)}, check: func(t *testing.T, r response) {
			if r.status != 404 || r.body != `{"error":"gone"}` || r.header.Get("Content-Type") != "application/json" {
				t.Errorf("%d %q", r.status, r.body)
			}
		}},
		{name: "single JWK", fault: jwkstest.Fault{SingleKey: true}, check: func(t *testing.T, r response) {
			var m map[string]any
			if err := json.Unmarshal([]byte(r.body), &m); err != nil || m["kty"] != "RSA" || m["kid"] != srv.SigningKey().KID || m["keys"] != nil {
				t.Errorf("%d %q", r.status, r.body)
			}
		}},
		{name: "oversized", fault: jwkstest.Fault{BodySize: 1<<20 + 1}, check: func(t *testing.T, r response) {
			if r.status != 200 || len(r.body) != 1<<20+1 || r.length != -1 || strings.TrimRight(r.body, " ") != doc {
				t.Errorf("%d, %d bytes, ContentLength %d", r.status, len(r.body), r.length)
			}
		}},
		{name: "BodySize below the document", fault: jwkstest.Fault{BodySize: 3}, check: func(t *testing.T, r response) {
			if r.body != doc || r.length != int64(len(doc)) {
				t.Errorf("%q", r.body)
			}
		}},
		{name: "redirect", fault: jwkstest.Fault{RedirectTo: other.URL + "/jwks"}, client: &noRedirect, check: func(t *testing.T, r response) {
			if r.status != 302 || r.header.Get("Location") != other.URL+"/jwks" {
				t.Errorf("%d %v", r.status, r.header)
			}
		}},
		{name: "redirect 307 followed", fault: jwkstest.Fault{RedirectTo: other.URL, Status: 307}, check: func(t *testing.T, r response) {
			if r.status != 200 || r.body != "other host" {
				t.Errorf("%d %q", r.status, r.body)
			}
		}},
		{name: "caching headers", fault: jwkstest.Fault{CacheControl: "public, max-age=600", Expires: "Thu, 01 Jan 2099 00:00:00 GMT"}, check: func(t *testing.T, r response) {
			if r.status != 200 || r.body != doc || r.header.Get("Cache-Control") != "public, max-age=600" || r.header.Get("Expires") != "Thu, 01 Jan 2099 00:00:00 GMT" {
				t.Errorf("%d %v", r.status, r.header)
			}
		}},
		{name: "content type", fault: jwkstest.Fault{Header: http.Header{"Content-Type": {"text/html"}}}, check: func(t *testing.T, r response) {
			if r.header.Get("Content-Type") != "text/html" || r.body != doc {
				t.Errorf("%v", r.header)
			}
		}},
		{name: "delay", fault: jwkstest.Fault{Delay: 10 * time.Millisecond}, check: func(t *testing.T, r response) {
			if r.status != 200 || r.body != doc {
				t.Errorf("%d %q", r.status, r.body)
			}
		}},
		{name: "discovery healthy", discovery: true, check: func(t *testing.T, r response) {
			if r.status != 200 || r.body != disc {
				t.Errorf("%d %q", r.status, r.body)
			}
		}},
		{name: "discovery 500", discovery: true, fault: jwkstest.Fault{Status: 500}, check: func(t *testing.T, r response) {
			if r.status != 500 {
				t.Errorf("%d", r.status)
			}
		}},
		{name: "discovery foreign issuer", discovery: true, fault: jwkstest.Fault{Body: []byte(mustJSON(foreign))}, check: func(t *testing.T, r response) {
			if !strings.Contains(r.body, `"issuer":"https://evil.example"`) {
				t.Errorf("%q", r.body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, set, other := srv.JWKSURL(), srv.SetJWKSFault, srv.DiscoveryURL()
			if tt.discovery {
				url, set, other = srv.DiscoveryURL(), srv.SetDiscoveryFault, srv.JWKSURL()
			}
			set(tt.fault)
			defer srv.ClearFaults()
			c := tt.client
			if c == nil {
				c = srv.Client()
			}
			before := srv.JWKSRequests() + srv.DiscoveryRequests()
			tt.check(t, get(t, c, url))
			// The other endpoint stays healthy.
			if r := get(t, srv.Client(), other); r.status != 200 {
				t.Errorf("other endpoint: %d", r.status)
			}
			if got := srv.JWKSRequests() + srv.DiscoveryRequests() - before; got != 2 {
				t.Errorf("%d requests counted, want 2", got)
			}
		})
	}
}

func TestFaultTimesAndClear(t *testing.T) {
	srv := jwkstest.NewServer()
	defer srv.Close()
	srv.SetJWKSFault(jwkstest.Fault{Status: 500, Times: 2})
	var got []int
	for range 4 {
		got = append(got, get(t, srv.Client(), srv.JWKSURL()).status)
	}
	if want := []int{500, 500, 200, 200}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if srv.JWKSRequests() != 4 {
		t.Errorf("JWKSRequests = %d", srv.JWKSRequests())
	}

	srv.SetJWKSFault(jwkstest.Fault{Status: 502})
	srv.SetDiscoveryFault(jwkstest.Fault{Status: 502})
	srv.ClearFaults()
	if get(t, srv.Client(), srv.JWKSURL()).status != 200 || get(t, srv.Client(), srv.DiscoveryURL()).status != 200 {
		t.Errorf("ClearFaults left a fault")
	}

	// The Issuer keeps its own copy of the fault.
	f := jwkstest.Fault{Body: []byte("aaaa"), Header: http.Header{"X-A": {"1"}}}
	srv.SetJWKSFault(f)
	f.Body[0] = 'b'
	f.Header.Set("X-A", "2")
	if r := get(t, srv.Client(), srv.JWKSURL()); r.body != "aaaa" || r.header.Get("X-A") != "1" {
		t.Errorf("fault aliased: %q %v", r.body, r.header)
	}
}

// fetch runs a GET in a goroutine and reports its outcome on the channel.
func fetch(c *http.Client, url string) <-chan error {
	done := make(chan error, 1)
	go func() {
		res, err := c.Get(url)
		if err == nil {
			_, err = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if err == nil && res.StatusCode != 200 {
				err = errors.New(res.Status)
			}
		}
		done <- err
	}()
	return done
}

func waitHeld(t *testing.T, iss *jwkstest.Issuer, n int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := iss.WaitForHeld(ctx, n); err != nil {
		t.Fatalf("WaitForHeld(%d): %v (held %d)", n, err, iss.Held())
	}
}

func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return", what)
	}
}

func TestHang(t *testing.T) {
	t.Run("released", func(t *testing.T) {
		noGoroutineLeak(t)
		srv := jwkstest.NewServer()
		defer srv.Close()
		srv.SetJWKSFault(jwkstest.Fault{Hang: true, CacheControl: "max-age=5"})
		a, b := fetch(srv.Client(), srv.JWKSURL()), fetch(srv.Client(), srv.JWKSURL())
		waitHeld(t, srv.Issuer, 2)
		select {
		case err := <-a:
			t.Fatalf("hanging request returned: %v", err)
		default:
		}
		srv.ReleaseHangs()
		for _, ch := range []<-chan error{a, b} {
			if err := <-ch; err != nil {
				t.Errorf("released request: %v", err)
			}
		}
		// Still set: the next request hangs again until the fault is cleared.
		c := fetch(srv.Client(), srv.JWKSURL())
		waitHeld(t, srv.Issuer, 1)
		srv.ClearFaults()
		if err := <-c; err != nil {
			t.Errorf("request released by ClearFaults: %v", err)
		}
		if srv.Held() != 0 {
			t.Errorf("Held = %d", srv.Held())
		}
	})

	t.Run("client timeout", func(t *testing.T) {
		noGoroutineLeak(t)
		srv := jwkstest.NewServer()
		defer srv.Close()
		srv.SetDiscoveryFault(jwkstest.Fault{Hang: true})
		c := *srv.Client()
		c.Timeout = 50 * time.Millisecond
		err := <-fetch(&c, srv.DiscoveryURL())
		var ue interface{ Timeout() bool }
		if !errors.As(err, &ue) || !ue.Timeout() {
			t.Fatalf("err = %v, want a timeout", err)
		}
		within(t, "Close", srv.Close)
	})

	t.Run("Close releases", func(t *testing.T) {
		noGoroutineLeak(t)
		srv := jwkstest.NewServer()
		srv.SetJWKSFault(jwkstest.Fault{Hang: true})
		done := fetch(srv.Client(), srv.JWKSURL())
		waitHeld(t, srv.Issuer, 1)
		within(t, "Close", srv.Close)
		<-done // answered or cut off: either way it returned
		within(t, "second Close", srv.Close)
	})

	t.Run("handler request context", func(t *testing.T) {
		noGoroutineLeak(t)
		iss := jwkstest.New("http://127.0.0.1:1")
		defer iss.Close()
		iss.SetJWKSFault(jwkstest.Fault{Hang: true})
		ctx, cancel := context.WithCancel(context.Background())
		rec := httptest.NewRecorder()
		served := make(chan struct{})
		go func() {
			iss.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/jwks.json", nil).WithContext(ctx))
			close(served)
		}()
		waitHeld(t, iss, 1)
		cancel()
		<-served
		if rec.Body.Len() != 0 {
			t.Errorf("cancelled request got a body: %q", rec.Body)
		}
		// After Close, hang faults no longer hold requests.
		iss.Close()
		rec = httptest.NewRecorder()
		within(t, "request after Close", func() {
			iss.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
		})
		if rec.Code != 200 {
			t.Errorf("status %d", rec.Code)
		}
	})
}

func TestDelay(t *testing.T) {
	t.Run("client timeout", func(t *testing.T) {
		noGoroutineLeak(t)
		srv := jwkstest.NewServer()
		defer srv.Close()
		srv.SetJWKSFault(jwkstest.Fault{Delay: time.Hour})
		c := *srv.Client()
		c.Timeout = 50 * time.Millisecond
		if err := <-fetch(&c, srv.JWKSURL()); err == nil {
			t.Fatal("no timeout")
		}
		within(t, "Close", srv.Close)
	})
	t.Run("Close releases", func(t *testing.T) {
		noGoroutineLeak(t)
		srv := jwkstest.NewServer()
		srv.SetJWKSFault(jwkstest.Fault{Delay: time.Hour})
		done := fetch(srv.Client(), srv.JWKSURL())
		waitHeld(t, srv.Issuer, 1)
		within(t, "Close", srv.Close)
		<-done
	})
}

func TestOversizedBodyClientGivesUp(t *testing.T) {
	noGoroutineLeak(t)
	srv := jwkstest.NewServer()
	defer srv.Close()
	srv.SetJWKSFault(jwkstest.Fault{BodySize: 1 << 40}) // a terabyte: must stream
	res, err := srv.Client().Get(srv.JWKSURL())
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	res.Body.Close() // the server stops writing
	if n != 1<<20 {
		t.Errorf("read %d bytes", n)
	}
	within(t, "Close", srv.Close)
}

func TestConcurrentUse(t *testing.T) {
	srv := jwkstest.NewServer()
	defer srv.Close()
	clock := jwkstest.NewClock(t0)
	srv.SetClock(clock)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 20 {
				switch (i + j) % 6 {
				case 0:
					srv.SetJWKSFault(jwkstest.Fault{Status: 500, Times: 1})
				case 1:
					kid := srv.AddKey(jwkstest.ES256)
					srv.RemoveKey(kid)
				case 2:
					_ = srv.Token(fullSession())
				case 3:
					if err := <-fetch(srv.Client(), srv.JWKSURL()); err != nil && err.Error() != "500 Internal Server Error" {
						t.Error(err)
					}
				case 4:
					clock.Advance(time.Second)
					srv.AddRawJWK(`{"kty":"oct"}`)
				case 5:
					if err := <-fetch(srv.Client(), srv.DiscoveryURL()); err != nil {
						t.Error(err)
					}
					srv.ClearFaults()
				}
			}
		})
	}
	wg.Wait()
	if srv.JWKSRequests() == 0 || srv.DiscoveryRequests() == 0 {
		t.Errorf("requests %d %d", srv.JWKSRequests(), srv.DiscoveryRequests())
	}
}
