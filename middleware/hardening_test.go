package middleware_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/middleware"
	"github.com/sessiongate/sessiongate/session"
)

// Tests for the rules added after the outside review (issue 10). Each one
// failed on the code before its fix.

// An empty kid is not an absent kid: it must not select the only key of
// the algorithm.
func TestEmptyKIDIsRefused(t *testing.T) {
	f := newFixture(t, nil)
	s := fullSession()
	// The set has one RS256 key, so "no kid" would find it.
	res := f.do(t, f.auth.Handler(reportHandler), bearer(f.idp.Token(s, jwkstest.WithoutHeader("kid"))))
	require.Equal(t, 200, res.status, res.body)
	res = f.do(t, f.auth.Handler(reportHandler), bearer(f.idp.Token(s, jwkstest.WithKID(""))))
	assert.Equal(t, 401, res.status)
	assert.Equal(t, invalidToken("malformed token"), res.challenge)
	assert.Equal(t, map[string]any{"error": "invalid_token", "error_description": "malformed token"}, res.body)
}

// FromQuery reads the query as net/url does: a percent-encoded parameter
// name is the same parameter for us as for a handler or a proxy.
func TestQueryParameterNameEncoded(t *testing.T) {
	f := newFixture(t, func(c *middleware.Config) {
		c.Extractors = []middleware.Extractor{middleware.FromAuthorizationHeader, middleware.FromQuery("token")}
	})
	good := f.idp.Token(fullSession())
	expired := f.idp.Token(fullSession(), jwkstest.WithExpiresIn(-time.Hour))
	query := func(q string) func(*http.Request) {
		return func(r *http.Request) { r.URL.RawQuery = q }
	}
	tests := []struct {
		name     string
		h        http.Handler
		mutate   func(*http.Request)
		status   int
		wantDesc string
	}{
		{"encoded name is read", f.auth.Handler(reportHandler), query("%74oken=" + good), 200, ""},
		{"encoded name, all letters", f.auth.Handler(reportHandler), query("%74%6F%6B%65%6E=" + good), 200, ""},
		{"encoded name and header: two places", f.auth.Handler(reportHandler), func(r *http.Request) {
			r.URL.RawQuery = "%74oken=" + good
			r.Header.Set("Authorization", "Bearer "+good)
		}, 400, "token sent in more than one place"},
		{"plain and encoded name: two parameters", f.auth.Handler(reportHandler), query("token=" + good + "&%74oken=" + good), 400, "several token query parameters"},
		{"encoded name on an optional route is not anonymous", f.auth.Optional(reportHandler), query("%74oken=" + expired), 401, "token expired"},
		{"encoded value", f.auth.Handler(reportHandler), query("token=" + urlEscapeAll(good)), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(t, tt.h, tt.mutate)
			assert.Equal(t, tt.status, res.status, res.body)
			if tt.status == 200 {
				assert.Equal(t, "auth0|42", res.body["sub"])
				return
			}
			assert.Equal(t, tt.wantDesc, res.body["error_description"])
		})
	}
}

// urlEscapeAll percent-encodes every byte.
func urlEscapeAll(s string) string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, 3*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, '%', hex[s[i]>>4], hex[s[i]&15])
	}
	return string(b)
}

// A guard with nothing to check refuses to be built.
func TestEmptyGuardsPanic(t *testing.T) {
	a := newFixture(t, nil).auth
	tests := map[string]func(){
		"RequireRole()":                 func() { middleware.RequireRole() },
		"RequireRole(\"\")":             func() { middleware.RequireRole("") },
		"RequireRole(\"owner\", \"\")":  func() { middleware.RequireRole(session.RoleOwner, "") },
		"RequireAnyRole()":              func() { middleware.RequireAnyRole() },
		"RequireAnyRole(\"\")":          func() { middleware.RequireAnyRole("") },
		"RequirePermission()":           func() { middleware.RequirePermission() },
		"RequirePermission(\"\")":       func() { middleware.RequirePermission("") },
		"RequireAnyPermission()":        func() { middleware.RequireAnyPermission() },
		"RequireAnyPermission(\"\")":    func() { middleware.RequireAnyPermission("") },
		"RequirePlan()":                 func() { middleware.RequirePlan() },
		"RequirePlan(\"\")":             func() { middleware.RequirePlan("") },
		"RequireAnyPlan()":              func() { middleware.RequireAnyPlan() },
		"RequireAnyPlan(\"\")":          func() { middleware.RequireAnyPlan("") },
		"a.RequireRole()":               func() { a.RequireRole() },
		"a.RequireAnyPermission(\"\")":  func() { a.RequireAnyPermission("") },
		"a.RequirePlan()":               func() { a.RequirePlan() },
		"Require(nil) (as before)":      func() { middleware.Require(nil) },
		"a.RequireAnyRole(\"x\", \"\")": func() { a.RequireAnyRole("x", "") },
	}
	for name, build := range tests {
		t.Run(name, func(t *testing.T) { assert.Panics(t, build) })
	}
	assert.NotPanics(t, func() { middleware.RequireRole(session.RoleOwner) })
}

// A forged token of the maximum size costs no more memory before it is
// refused than twice its size: nothing is decoded from the payload before
// the signature holds (the time figure is in BenchmarkForged16K).
func TestForgedTokenWorkBounded(t *testing.T) {
	idp := jwkstest.New("https://auth.example.test/")
	t.Cleanup(idp.Close)
	kid := idp.Rotate(jwkstest.RS256)
	keys, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.StaticSource(idp.JWKS())}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = keys.Close() })
	a, err := middleware.New(middleware.Config{Keys: keys, Issuers: []string{idp.URL()},
		Audiences: []string{jwkstest.DefaultAudience}, Cache: middleware.CacheConfig{Disabled: true}})
	require.NoError(t, err)
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"` + kid + `"}`))
	sig := make([]byte, 256)
	_, _ = rand.Read(sig)
	for name, p := range forgedPayloads(idp.URL()) {
		tok := hdr + "." + base64.RawURLEncoding.EncodeToString([]byte(p)) + "." + base64.RawURLEncoding.EncodeToString(sig)
		require.LessOrEqual(t, len(tok), 16<<10, name)
		require.Greater(t, len(tok), 14<<10, name)
		t.Run(name, func(t *testing.T) {
			_, err := a.Authenticate(context.Background(), tok)
			require.ErrorIs(t, err, middleware.ErrInvalidToken)
			const runs = 50
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for range runs {
				if _, err := a.Authenticate(context.Background(), tok); err == nil {
					t.Fatal("forged token accepted")
				}
			}
			runtime.ReadMemStats(&after)
			perRun := (after.TotalAlloc - before.TotalAlloc) / runs
			t.Logf("%s: %d bytes allocated for a %d-byte token", name, perRun, len(tok))
			assert.LessOrEqual(t, perRun, uint64(2*len(tok)))
		})
	}
}

// The verified-token cache is bounded by bytes: many distinct large tokens
// do not pin more memory than Cache.MaxBytes.
func TestCacheBoundedByBytesThroughHandler(t *testing.T) {
	const maxBytes = 2 << 20
	f := newFixture(t, func(c *middleware.Config) { c.Cache.MaxBytes = maxBytes })
	ec := f.idp.AddKey(jwkstest.ES256)
	s := fullSession()
	pad := strings.Repeat("x", 11<<10)
	toks := make([]string, 300)
	for i := range toks {
		toks[i] = f.idp.Token(s, jwkstest.WithKey(ec), jwkstest.WithClaim("pad", pad), jwkstest.WithClaim("n", i))
	}
	require.Greater(t, len(toks[0]), 15<<10)
	h := f.auth.Handler(reportHandler)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, tok := range toks {
		res := f.do(t, h, bearer(tok))
		require.Equal(t, 200, res.status, res.body)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d tokens of %d bytes: heap grew by %d bytes (MaxBytes %d)", len(toks), len(toks[0]), grown, maxBytes)
	assert.Less(t, grown, int64(maxBytes+maxBytes/2))
	// The newest token is still served from the cache.
	res := f.do(t, h, bearer(toks[len(toks)-1]))
	assert.Equal(t, 200, res.status)
	runtime.KeepAlive(toks)
}

// A request's session is its own: a middleware that changes it (a step-up
// appending a role) changes nothing for later requests with the same
// (cached) token, guards included.
func TestSessionChangesStayInTheirRequest(t *testing.T) {
	f := newFixture(t, nil)
	s := fullSession()
	s.Roles = []session.Role{{ID: session.RoleMember, Name: session.RoleMember}}
	tok := f.idp.Token(s)
	stepUp := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := session.FromContext(r.Context())
			s.Roles = append(s.Roles, session.Role{ID: session.RoleOwner})
			s.Roles[0].ID = session.RoleOwner
			s.Permissions[0].ID = session.PermOrgDelete
			*s.Profile.Organization.Phone = "changed"
			tk, _ := session.TokenFromContext(r.Context())
			tk.Registered.Audience[0] = "changed"
			next.ServeHTTP(w, r)
		})
	}
	s.Profile.Organization.Phone = new(string)
	tok = f.idp.Token(s)
	owner := f.auth.Handler(f.auth.RequireRole(session.RoleOwner)(reportHandler))
	res := f.do(t, f.auth.Handler(stepUp(f.auth.RequireRole(session.RoleOwner)(reportHandler))), bearer(tok))
	require.Equal(t, 200, res.status, "the step-up applies to its own request")
	for range 2 { // the second request is a cache hit
		res = f.do(t, owner, bearer(tok))
		assert.Equal(t, 403, res.status, "a later request with the same token is not an owner")
		res = f.do(t, f.auth.Handler(f.auth.RequirePermission(session.PermOrgDelete)(reportHandler)), bearer(tok))
		assert.Equal(t, 403, res.status)
	}
	// The session the next request sees is the token's, untouched.
	check := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		tk, _ := session.TokenFromContext(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]any{"roles": len(s.Roles), "role": s.Roles[0].ID,
			"phone": *s.Profile.Organization.Phone, "aud": tk.Registered.Audience[0]})
	})
	res = f.do(t, f.auth.Handler(check), bearer(tok))
	assert.Equal(t, map[string]any{"roles": 1.0, "role": session.RoleMember, "phone": "", "aud": jwkstest.DefaultAudience}, res.body)
	// Authenticate hands out copies too.
	t1, err := f.auth.Authenticate(context.Background(), tok)
	require.NoError(t, err)
	t1.Active.Roles[0].ID = session.RoleOwner
	t2, err := f.auth.Authenticate(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, session.RoleMember, t2.Active.Roles[0].ID)
}
