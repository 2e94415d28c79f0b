package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/session"
)

// The two issuers of the in-process tests: an exact one found by discovery,
// and an Entra-like template with its own JWK set URL, audience, typ and
// claims namespace.
const (
	audienceA  = "https://api-a.example.test"
	audienceB  = "api://documents"
	templateB  = "https://login.example.test/{tenantid}/v2.0"
	typB       = "at+jwt"
	namespaceB = "https://ns.example.test/"
)

// issuersServer is the example's handler configured by a -config file of
// two test-kit issuers.
type issuersServer struct {
	*testServer
	a    *jwkstest.Issuer      // exact issuer, served with its discovery document
	b    *jwkstest.Issuer      // template issuer; its JWK set is served by bKeys
	bURL string                // bKeys's JWK set URL
	full session.ActiveSession // the session of every token minted
}

// issuersFile returns the -config file of s's two issuers; edit, when not
// nil, changes the entries first.
func (s *issuersServer) issuersFile(t *testing.T, edit func(a, b map[string]any)) string {
	t.Helper()
	a := map[string]any{"issuer": s.a.URL(), "discovery": true, "audiences": []string{audienceA}}
	b := map[string]any{
		"issuer": templateB, "jwks_url": s.bURL, "audiences": []string{audienceB},
		"tenants": []string{"tenant-1", "tenant-2"}, "typ": typB, "claims_namespace": namespaceB,
	}
	if edit != nil {
		edit(a, b)
	}
	file, err := json.Marshal(map[string]any{"issuers": []any{a, b}})
	require.NoError(t, err)
	return writeFile(t, string(file))
}

// newIssuers starts the two identity providers (not the example).
func newIssuers(t *testing.T) *issuersServer {
	t.Helper()
	s := &issuersServer{a: jwkstest.NewServer(), b: jwkstest.New(templateB), full: devSession(time.Now())}
	t.Cleanup(s.a.Close)
	t.Cleanup(s.b.Close)
	bKeys := httptest.NewServer(s.b.Handler())
	t.Cleanup(bKeys.Close)
	s.bURL = bKeys.URL + "/common/discovery/v2.0/.well-known/jwks.json"
	return s
}

// start serves the example with s's -config file (edited by edit),
// its key sets not started: the first request fetches them.
func (s *issuersServer) start(t *testing.T, edit func(a, b map[string]any)) *issuersServer {
	t.Helper()
	cfg, err := parseConfig([]string{"-addr", "127.0.0.1:0", "-config", s.issuersFile(t, edit)}, envFunc(nil))
	require.NoError(t, err)
	require.False(t, cfg.dev())
	srv := httptest.NewUnstartedServer(nil)
	app, err := newApp(cfg, "http://"+srv.Listener.Addr().String(), testLogger(t))
	require.NoError(t, err)
	require.Nil(t, app.issuer, "no development issuer with -config")
	require.Len(t, app.keys, 2, "a key set per issuer")
	srv.Config.Handler = app.handler
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		app.Close()
	})
	s.testServer = &testServer{URL: srv.URL, app: app}
	return s
}

// tokenA mints a token of the exact issuer, for its audience.
func (s *issuersServer) tokenA(opts ...jwkstest.Option) string {
	base := []jwkstest.Option{jwkstest.WithClaim("aud", audienceA), jwkstest.WithClaim("scope", documentsScope)}
	return s.a.Token(s.full, append(base, opts...)...)
}

// tokenB mints a token of the template issuer for tenant (its iss and tid),
// with its audience, typ and claims namespace.
func (s *issuersServer) tokenB(tenant string, opts ...jwkstest.Option) string {
	base := []jwkstest.Option{
		jwkstest.WithClaim("iss", tenantIssuer(tenant)), jwkstest.WithClaim("tid", tenant),
		jwkstest.WithClaim("aud", audienceB), jwkstest.WithHeader("typ", typB), jwkstest.WithNamespace(namespaceB),
		jwkstest.WithClaim("scope", documentsScope),
	}
	return s.b.Token(s.full, append(base, opts...)...)
}

// tenantIssuer is the template issuer's iss for tenant.
func tenantIssuer(tenant string) string { return strings.Replace(templateB, "{tenantid}", tenant, 1) }

// Two issuers at once, one of them a template: each issuer's tokens are
// accepted with its own audience (and typ, tenants, namespace) and refused
// with the other's, and a key verifies only its own issuer's tokens.
func TestTwoIssuers(t *testing.T) {
	s := newIssuers(t).start(t, nil)
	full := s.full
	fullJSON, err := json.Marshal(full)
	require.NoError(t, err)

	invalid := func(desc string) string { return `Bearer error="invalid_token", error_description="` + desc + `"` }
	const (
		ok            = `{"ok":true}`
		roleRequired  = `Bearer error="insufficient_scope", error_description="role required"`
		scopeRequired = `Bearer error="insufficient_scope", error_description="insufficient scope", scope="documents:read"`
	)
	tests := []struct {
		name       string
		path       string
		token      string
		wantStatus int
		wantAuth   string // WWW-Authenticate
		wantBody   string // JSON, "" for not compared
		scopes     bool   // needs a granted scope (skipWithoutScopes)
	}{
		{name: "A with its audience", path: "/me", token: s.tokenA(), wantStatus: 200, wantBody: string(fullJSON)},
		{name: "A with B's audience", path: "/me", token: s.tokenA(jwkstest.WithClaim("aud", audienceB)), wantStatus: 401, wantAuth: invalid("audience not allowed")},
		{name: "A with both audiences", path: "/me", token: s.tokenA(jwkstest.WithClaim("aud", []string{audienceB, audienceA})), wantStatus: 200},
		{name: "A needs no typ", path: "/me", token: s.tokenA(jwkstest.WithHeader("typ", nil)), wantStatus: 200},
		{name: "A on /admin, its namespace", path: "/admin", token: s.tokenA(), wantStatus: 200, wantBody: ok},
		{name: "A with B's namespace", path: "/admin", token: s.tokenA(jwkstest.WithNamespace(namespaceB)), wantStatus: 403, wantAuth: roleRequired},

		{name: "B tenant-1 with its audience", path: "/me", token: s.tokenB("tenant-1"), wantStatus: 200, wantBody: string(fullJSON)},
		{name: "B tenant-2 with its audience", path: "/me", token: s.tokenB("tenant-2"), wantStatus: 200},
		{name: "B without tid", path: "/me", token: s.tokenB("tenant-1", jwkstest.WithClaim("tid", nil)), wantStatus: 200},
		{name: "B with A's audience", path: "/me", token: s.tokenB("tenant-1", jwkstest.WithClaim("aud", audienceA)), wantStatus: 401, wantAuth: invalid("audience not allowed")},
		{name: "B tenant not in the list", path: "/me", token: s.tokenB("tenant-3"), wantStatus: 401, wantAuth: invalid("tenant not allowed")},
		{name: "B tid of another tenant", path: "/me", token: s.tokenB("tenant-1", jwkstest.WithClaim("tid", "tenant-2")), wantStatus: 401, wantAuth: invalid("tid does not match the issuer")},
		{name: "B the template itself as iss", path: "/me", token: s.tokenB("tenant-1", jwkstest.WithClaim("iss", templateB)), wantStatus: 401, wantAuth: invalid("tenant not allowed")},
		{name: "B without its typ", path: "/me", token: s.tokenB("tenant-1", jwkstest.WithHeader("typ", "JWT")), wantStatus: 401, wantAuth: invalid("token type not allowed")},
		{name: "B on /admin, its namespace", path: "/admin", token: s.tokenB("tenant-2"), wantStatus: 200, wantBody: ok},
		{name: "B with A's namespace", path: "/admin", token: s.tokenB("tenant-1", jwkstest.WithNamespace(defaultClaimsNamespace)), wantStatus: 403, wantAuth: roleRequired},

		// A key verifies only its own issuer's tokens.
		{name: "A's key, B's iss", path: "/me", token: s.a.Token(full, jwkstest.WithClaim("iss", tenantIssuer("tenant-1")), jwkstest.WithClaim("aud", audienceB), jwkstest.WithHeader("typ", typB)), wantStatus: 401, wantAuth: invalid("unknown signing key")},
		{name: "B's key, A's iss", path: "/me", token: s.tokenB("tenant-1", jwkstest.WithClaim("iss", s.a.URL()), jwkstest.WithClaim("tid", nil), jwkstest.WithClaim("aud", audienceA)), wantStatus: 401, wantAuth: invalid("unknown signing key")},
		{name: "an issuer of neither", path: "/me", token: s.tokenA(jwkstest.WithClaim("iss", "https://evil.example.test/")), wantStatus: 401, wantAuth: invalid("issuer not allowed")},

		{name: "A on /documents with the scope", path: "/documents", token: s.tokenA(), wantStatus: 200, wantBody: ok, scopes: true},
		{name: "A on /documents without it", path: "/documents", token: s.tokenA(jwkstest.WithClaim("scope", "openid")), wantStatus: 403, wantAuth: scopeRequired},
		{name: "B on /documents with the scope", path: "/documents", token: s.tokenB("tenant-1"), wantStatus: 200, wantBody: ok, scopes: true},
		{name: "B on /documents without it", path: "/documents", token: s.tokenB("tenant-1", jwkstest.WithClaim("scope", nil)), wantStatus: 403, wantAuth: scopeRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.scopes {
				skipWithoutScopes(t)
			}
			got := s.do(t, "GET", tt.path, bearer(tt.token))
			assert.Equal(t, tt.wantStatus, got.status, "body %s", got.body)
			assert.Equal(t, tt.wantAuth, got.header.Get("WWW-Authenticate"))
			if tt.wantBody != "" {
				assert.JSONEq(t, tt.wantBody, got.body)
			}
		})
	}
	assert.Positive(t, s.a.JWKSRequests(), "A's keys found by discovery")
	assert.Positive(t, s.b.JWKSRequests(), "B's keys from its jwks_url")
}

// required_scopes is a rule of the issuer's policy: a token without every
// one of them is refused at authentication (401), on every route.
func TestRequiredScopes(t *testing.T) {
	s := newIssuers(t).start(t, func(a, _ map[string]any) {
		a["required_scopes"] = []string{documentsScope, "profile"}
	})
	refused := `Bearer error="invalid_token", error_description="missing required scope"`
	tests := []struct {
		name       string
		path       string
		token      string
		wantStatus int
		wantAuth   string
		scopes     bool
	}{
		{"no scope claim", "/me", s.tokenA(jwkstest.WithClaim("scope", nil)), 401, refused, false},
		{"one of the two", "/me", s.tokenA(jwkstest.WithClaim("scope", documentsScope)), 401, refused, false},
		{"one of the two, optional route", "/hello", s.tokenA(jwkstest.WithClaim("scope", documentsScope)), 401, refused, false},
		{"both", "/me", s.tokenA(jwkstest.WithClaim("scope", "profile "+documentsScope)), 200, "", true},
		{"both and more, on /documents", "/documents", s.tokenA(jwkstest.WithClaim("scope", "openid profile "+documentsScope)), 200, "", true},
		{"the other issuer has no required scopes", "/me", s.tokenB("tenant-1", jwkstest.WithClaim("scope", nil)), 200, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.scopes {
				skipWithoutScopes(t)
			}
			got := s.do(t, "GET", tt.path, bearer(tt.token))
			assert.Equal(t, tt.wantStatus, got.status, "body %s", got.body)
			assert.Equal(t, tt.wantAuth, got.header.Get("WWW-Authenticate"))
		})
	}
}

// Each issuer has its own key set: while one identity provider is down,
// its tokens are answered 503 and the other's keep working.
func TestIssuerOutageStaysItsOwn(t *testing.T) {
	s := newIssuers(t).start(t, nil)
	s.a.SetFault(jwkstest.Fault{Status: http.StatusInternalServerError})
	s.app.start(t.Context(), testLogger(t))

	got := s.do(t, "GET", "/me", bearer(s.tokenA()))
	assert.Equal(t, http.StatusServiceUnavailable, got.status, got.body)
	assert.NotEmpty(t, got.header.Get("Retry-After"))
	got = s.do(t, "GET", "/me", bearer(s.tokenB("tenant-1")))
	assert.Equal(t, http.StatusOK, got.status, got.body)
}
