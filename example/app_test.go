package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/middleware"
	"github.com/sessiongate/sessiongate/session"
)

// testServer is the example's handler served by httptest, with the issuer
// whose tokens it accepts. These tests run on wall time over loopback on
// purpose: in development mode the server fetches its keys from its own
// listener, which is what they check. No verdict in them depends on time by
// less than an hour (tokens are valid for one, expired ones expired an hour
// ago), so they cannot flake on a slow machine.
type testServer struct {
	URL      string
	app      *app
	issuer   *jwkstest.Issuer
	audience string
	idp      *jwkstest.Issuer // production mode only
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// startDev serves the example in development mode: its own issuer, whose
// keys it fetches from itself.
func startDev(t *testing.T, cfg config) *testServer {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	a, err := newApp(cfg, base, testLogger(t))
	require.NoError(t, err)
	srv.Config.Handler = a.handler
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return &testServer{URL: srv.URL, app: a, issuer: a.issuer, audience: cfg.Audience}
}

// startProd serves the example in production mode against an identity
// provider from the test kit.
func startProd(t *testing.T) *testServer {
	t.Helper()
	idp := jwkstest.NewServer()
	t.Cleanup(idp.Close)
	cfg, err := parseConfig([]string{"-addr", "127.0.0.1:0", "-jwks-url", idp.JWKSURL(), "-issuer", idp.URL(), "-audience", "https://api.example.com"}, envFunc(nil))
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(nil)
	a, err := newApp(cfg, "http://"+srv.Listener.Addr().String(), testLogger(t))
	require.NoError(t, err)
	assert.Nil(t, a.issuer)
	srv.Config.Handler = a.handler
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return &testServer{URL: srv.URL, app: a, issuer: idp, audience: cfg.Audience, idp: idp}
}

func devConfig(t *testing.T, args ...string) config {
	t.Helper()
	cfg, err := parseConfig(append([]string{"-addr", "127.0.0.1:0"}, args...), envFunc(nil))
	require.NoError(t, err)
	return cfg
}

// token mints a token for s accepted by the server unless opts say
// otherwise, with the scope of GET /documents.
func (ts *testServer) token(s session.ActiveSession, opts ...jwkstest.Option) string {
	return ts.issuer.Token(s, append([]jwkstest.Option{
		jwkstest.WithClaim("aud", ts.audience), jwkstest.WithClaim("scope", "openid "+documentsScope),
	}, opts...)...)
}

// scopesDecoded reports whether the session decoder reads a token's scope
// claim into session.Token.Scopes. It does not yet on this branch (that
// lands with v2-session); until it does, the checks that need a granted
// scope are skipped with skipWithoutScopes, and the rest run.
var scopesDecoded = sync.OnceValue(func() bool {
	iss := jwkstest.New("https://scopes.example.test/")
	defer iss.Close()
	keys, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.StaticSource(iss.JWKS())}})
	if err != nil {
		panic(err)
	}
	defer keys.Close()
	v, err := middleware.NewVerifier(middleware.Config{Issuers: []middleware.Issuer{{Issuer: iss.URL(), Keys: keys, Audiences: []string{jwkstest.DefaultAudience}}}})
	if err != nil {
		panic(err)
	}
	tok, err := v.Verify(context.Background(), iss.Token(devSession(time.Now()), jwkstest.WithClaim("scope", documentsScope)))
	return err == nil && slices.Contains(tok.Scopes, documentsScope)
})

// skipWithoutScopes skips a test that needs a granted OAuth scope while
// the session decoder does not read scopes (see scopesDecoded).
func skipWithoutScopes(t *testing.T) {
	t.Helper()
	if !scopesDecoded() {
		t.Skip("needs v2-session: the session decoder does not fill session.Token.Scopes from scope/scp yet")
	}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (ts *testServer) do(t *testing.T, method, path string, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// sessionWithout returns the full session less what drop removes.
func sessionWithout(now time.Time, drop func(*session.ActiveSession)) session.ActiveSession {
	s := devSession(now)
	drop(&s)
	return s
}

func TestRoutes(t *testing.T) {
	modes := []struct {
		name  string
		start func(t *testing.T) *testServer
	}{
		{"development", func(t *testing.T) *testServer { return startDev(t, devConfig(t)) }},
		{"production", startProd},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			ts := mode.start(t)
			now := time.Now()
			full := devSession(now)
			valid := ts.token(full)
			fullJSON, err := json.Marshal(full)
			require.NoError(t, err)

			expired := ts.token(sessionWithout(now, func(s *session.ActiveSession) {
				s.IssuedAt = now.Add(-2 * time.Hour).Unix()
				s.ExpiresAt = now.Add(-time.Hour).Unix()
			}))
			noRole := ts.token(sessionWithout(now, func(s *session.ActiveSession) {
				s.Roles = []session.Role{{ID: session.RoleMember, Name: "Member"}}
			}))
			noPerm := ts.token(sessionWithout(now, func(s *session.ActiveSession) {
				s.Permissions = s.Permissions[:2]
			}))
			noPlan := ts.token(sessionWithout(now, func(s *session.ActiveSession) {
				s.Plans = []session.Plan{session.PlanEnvEssential}
			}))
			noScope := ts.token(full, jwkstest.WithClaim("scope", "openid documents:write"))
			unscoped := ts.token(full, jwkstest.WithClaim("scope", nil))
			foreign := jwkstest.New(ts.issuer.URL()) // same issuer URL, keys the server does not know
			t.Cleanup(foreign.Close)
			unknownKey := foreign.Token(full, jwkstest.WithClaim("aud", ts.audience))

			const (
				noToken       = `Bearer`
				ok            = `{"ok":true}`
				authRequired  = `{"error":"unauthorized","error_description":"authentication required"}`
				jsonType      = "application/json"
				challengeFmt  = `Bearer error="invalid_token", error_description="%s"`
				forbiddenFmt  = `Bearer error="insufficient_scope", error_description="%s"`
				invalidFmt    = `{"error":"invalid_token","error_description":"%s"}`
				insufficient  = `{"error":"insufficient_scope","error_description":"%s"}`
				invalidReqHdr = `Bearer error="invalid_request", error_description="several Authorization headers"`
			)
			invalid := func(desc string) (string, string) {
				return strings.Replace(challengeFmt, "%s", desc, 1), strings.Replace(invalidFmt, "%s", desc, 1)
			}
			forbidden := func(desc string) (string, string) {
				return strings.Replace(forbiddenFmt, "%s", desc, 1), strings.Replace(insufficient, "%s", desc, 1)
			}
			expiredHdr, expiredBody := invalid("token expired")
			audHdr, audBody := invalid("audience not allowed")
			issHdr, issBody := invalid("issuer not allowed")
			keyHdr, keyBody := invalid("unknown signing key")
			malHdr, malBody := invalid("malformed token")
			roleHdr, roleBody := forbidden("role required")
			permHdr, permBody := forbidden("permission required")
			planHdr, planBody := forbidden("plan required")
			scopeHdr := `Bearer error="insufficient_scope", error_description="insufficient scope", scope="documents:read"`
			scopeBody := `{"error":"insufficient_scope","error_description":"insufficient scope","scope":"documents:read"}`

			tests := []struct {
				name       string
				method     string
				path       string
				header     http.Header
				wantStatus int
				wantAuth   string // WWW-Authenticate
				wantType   string
				wantBody   string // JSON compared with JSONEq, text exactly
			}{
				{"healthz", "GET", "/healthz", nil, 200, "", "text/plain; charset=utf-8", "ok\n"},
				{"healthz ignores tokens", "GET", "/healthz", bearer("garbage"), 200, "", "text/plain; charset=utf-8", "ok\n"},

				{"me valid", "GET", "/me", bearer(valid), 200, "", jsonType, string(fullJSON)},
				{"me missing", "GET", "/me", nil, 401, noToken, jsonType, authRequired},
				{"me other scheme", "GET", "/me", http.Header{"Authorization": {"Basic YTpi"}}, 401, noToken, jsonType, authRequired},
				{"me expired", "GET", "/me", bearer(expired), 401, expiredHdr, jsonType, expiredBody},
				{"me wrong audience", "GET", "/me", bearer(ts.token(full, jwkstest.WithClaim("aud", "https://other.example.com"))), 401, audHdr, jsonType, audBody},
				{"me wrong issuer", "GET", "/me", bearer(ts.token(full, jwkstest.WithClaim("iss", "https://evil.example.com/"))), 401, issHdr, jsonType, issBody},
				{"me unknown key", "GET", "/me", bearer(unknownKey), 401, keyHdr, jsonType, keyBody},
				{"me malformed", "GET", "/me", bearer("a.b.c"), 401, malHdr, jsonType, malBody},
				{"me two authorization headers", "GET", "/me", http.Header{"Authorization": {"Bearer " + valid, "Bearer " + valid}}, 400, invalidReqHdr, jsonType, `{"error":"invalid_request","error_description":"several Authorization headers"}`},

				{"admin valid", "GET", "/admin", bearer(valid), 200, "", jsonType, ok},
				{"admin missing", "GET", "/admin", nil, 401, noToken, jsonType, authRequired},
				{"admin expired", "GET", "/admin", bearer(expired), 401, expiredHdr, jsonType, expiredBody},
				{"admin lacking role", "GET", "/admin", bearer(noRole), 403, roleHdr, jsonType, roleBody},
				{"admin lacking permission is fine", "GET", "/admin", bearer(noPerm), 200, "", jsonType, ok},

				{"templates valid", "GET", "/templates", bearer(valid), 200, "", jsonType, ok},
				{"templates missing", "GET", "/templates", nil, 401, noToken, jsonType, authRequired},
				{"templates lacking permission", "GET", "/templates", bearer(noPerm), 403, permHdr, jsonType, permBody},
				{"templates lacking role is fine", "GET", "/templates", bearer(noRole), 200, "", jsonType, ok},

				{"billing valid", "GET", "/billing", bearer(valid), 200, "", jsonType, ok},
				{"billing missing", "GET", "/billing", nil, 401, noToken, jsonType, authRequired},
				{"billing lacking plan", "GET", "/billing", bearer(noPlan), 403, planHdr, jsonType, planBody},
				{"billing wrong audience", "GET", "/billing", bearer(ts.token(full, jwkstest.WithClaim("aud", "x"))), 401, audHdr, jsonType, audBody},

				{"documents valid", "GET", "/documents", bearer(valid), 200, "", jsonType, ok},
				{"documents missing", "GET", "/documents", nil, 401, noToken, jsonType, authRequired},
				{"documents lacking scope", "GET", "/documents", bearer(noScope), 403, scopeHdr, jsonType, scopeBody},
				{"documents without a scope claim", "GET", "/documents", bearer(unscoped), 403, scopeHdr, jsonType, scopeBody},
				{"documents expired", "GET", "/documents", bearer(expired), 401, expiredHdr, jsonType, expiredBody},
				{"documents lacking role is fine", "GET", "/documents", bearer(noRole), 200, "", jsonType, ok},
				{"me without a scope claim is fine", "GET", "/me", bearer(unscoped), 200, "", jsonType, string(fullJSON)},

				{"hello anonymous", "GET", "/hello", nil, 200, "", jsonType, `{"authenticated":false}`},
				{"hello authenticated", "GET", "/hello", bearer(valid), 200, "", jsonType, `{"authenticated":true,"email":"ada@example.com"}`},
				{"hello lacking role is authenticated", "GET", "/hello", bearer(noRole), 200, "", jsonType, `{"authenticated":true,"email":"ada@example.com"}`},
				{"hello invalid is 401, not anonymous", "GET", "/hello", bearer("a.b.c"), 401, malHdr, jsonType, malBody},
				{"hello expired is 401", "GET", "/hello", bearer(expired), 401, expiredHdr, jsonType, expiredBody},
				{"hello wrong audience is 401", "GET", "/hello", bearer(ts.token(full, jwkstest.WithClaim("aud", "x"))), 401, audHdr, jsonType, audBody},

				{"unknown route", "GET", "/nope", bearer(valid), 404, "", jsonType, `{"error":"not_found"}`},
				{"wrong method", "POST", "/me", bearer(valid), 405, "", jsonType, `{"error":"method_not_allowed"}`},
			}
			// These need a granted scope (see skipWithoutScopes).
			needsScopes := map[string]bool{"documents valid": true, "documents lacking role is fine": true}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					if needsScopes[tt.name] {
						skipWithoutScopes(t)
					}
					got := ts.do(t, tt.method, tt.path, tt.header)
					assert.Equal(t, tt.wantStatus, got.status, "status; body %s", got.body)
					assert.Equal(t, tt.wantAuth, got.header.Get("WWW-Authenticate"))
					assert.Equal(t, tt.wantType, got.header.Get("Content-Type"))
					if tt.wantType == jsonType {
						assert.JSONEq(t, tt.wantBody, got.body)
					} else {
						assert.Equal(t, tt.wantBody, got.body)
					}
					if tt.path != "/healthz" && tt.wantStatus != 404 && tt.wantStatus != 405 {
						assert.Equal(t, "no-store", got.header.Get("Cache-Control"), "answers about a session are not cached")
					}
				})
			}
		})
	}
}

// The key set cannot be fetched: protected routes answer 503 with
// Retry-After (not 401), unprotected ones keep working.
func TestKeySetUnavailable(t *testing.T) {
	ts := startProd(t)
	ts.idp.SetFault(jwkstest.Fault{Status: http.StatusInternalServerError})
	ts.app.start(t.Context(), testLogger(t)) // the first fetch fails

	tok := ts.token(devSession(time.Now()))
	for _, path := range []string{"/me", "/admin", "/hello"} {
		got := ts.do(t, "GET", path, bearer(tok))
		assert.Equal(t, http.StatusServiceUnavailable, got.status, path)
		assert.NotEmpty(t, got.header.Get("Retry-After"), path)
		assert.Empty(t, got.header.Get("WWW-Authenticate"), path)
		assert.JSONEq(t, `{"error":"temporarily_unavailable","error_description":"key set unavailable"}`, got.body, path)
	}
	assert.Equal(t, 200, ts.do(t, "GET", "/healthz", nil).status)
	assert.Equal(t, 200, ts.do(t, "GET", "/hello", nil).status, "anonymous requests need no keys")
}

// The claims namespace flag is what the middleware reads.
func TestClaimsNamespace(t *testing.T) {
	ts := startDev(t, devConfig(t, "-claims-namespace", "https://ns.example/"))
	s := devSession(time.Now())

	got := ts.do(t, "GET", "/admin", bearer(ts.token(s, jwkstest.WithNamespace("https://ns.example/"))))
	assert.Equal(t, 200, got.status, got.body)

	// Roles under the default namespace are unknown claims here.
	got = ts.do(t, "GET", "/admin", bearer(ts.token(s)))
	assert.Equal(t, 403, got.status, got.body)
}

func TestDevIssuerEndpoints(t *testing.T) {
	ts := startDev(t, devConfig(t))

	got := ts.do(t, "GET", devDiscoveryPath, nil)
	require.Equal(t, 200, got.status)
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	require.NoError(t, json.Unmarshal([]byte(got.body), &disc))
	assert.Equal(t, ts.URL, disc.Issuer)
	assert.Equal(t, ts.URL+devJWKSPath, disc.JWKSURI)

	got = ts.do(t, "GET", devJWKSPath, nil)
	require.Equal(t, 200, got.status)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal([]byte(got.body), &set))
	require.Len(t, set.Keys, 1, "only the key generated at start")
	assert.Equal(t, "EC", set.Keys[0]["kty"])
	assert.Equal(t, "ES256", set.Keys[0]["alg"])
	assert.Equal(t, ts.issuer.KID(), set.Keys[0]["kid"])
	assert.NotContains(t, set.Keys[0], "d", "no private key material")

	// The server fetched its keys from itself.
	assert.Equal(t, 200, ts.do(t, "GET", "/me", bearer(ts.token(devSession(time.Now())))).status)
	assert.GreaterOrEqual(t, ts.issuer.JWKSRequests(), 2) // ours and the key set's

	// Only the well-known paths are served, not any path ending in them.
	assert.Equal(t, 404, ts.do(t, "GET", "/x"+devJWKSPath, nil).status)
}

func TestDevIssuerWithoutDevModeRoutes(t *testing.T) {
	ts := startProd(t)
	assert.Equal(t, 404, ts.do(t, "GET", devJWKSPath, nil).status)
	assert.Equal(t, 404, ts.do(t, "GET", devDiscoveryPath, nil).status)
}

// curlLine matches the banner's curl lines.
var curlLine = regexp.MustCompile(`^  curl -i (-H "Authorization: Bearer \$TOKEN" )?(http://\S+)$`)

// Every curl line of the banner works, with the printed token.
func TestDevBanner(t *testing.T) {
	ts := startDev(t, devConfig(t))
	s := devSession(time.Now())
	var b strings.Builder
	printDevBanner(&b, ts.URL, devToken(ts.issuer, s, ts.audience, defaultClaimsNamespace, ""), s)
	t.Log("\n" + b.String())

	token, curls := parseBanner(t, b.String())
	paths := map[string]bool{}
	for _, c := range curls {
		require.True(t, strings.HasPrefix(c.url, ts.URL), c.url)
		path := strings.TrimPrefix(c.url, ts.URL)
		var h http.Header
		if c.auth {
			h = bearer(token)
		}
		paths[path] = true
		if path == "/documents" && !scopesDecoded() {
			t.Logf("%s not checked: needs v2-session (the session decoder does not fill session.Token.Scopes yet)", c.url)
			continue
		}
		got := ts.do(t, "GET", path, h)
		assert.Equal(t, 200, got.status, "%s: %s", c.url, got.body)
	}
	for _, p := range []string{"/healthz", "/me", "/admin", "/templates", "/billing", "/documents", "/hello"} {
		assert.True(t, paths[p], "a curl line for %s", p)
	}

	got := ts.do(t, "GET", "/me", bearer(token))
	var me session.ActiveSession
	require.NoError(t, json.Unmarshal([]byte(got.body), &me))
	assert.True(t, me.HasRole(session.RoleOwner))
	assert.True(t, me.HasPermission(session.PermTemplateMemberRead))
	assert.True(t, me.HasPlan(session.PlanOrgStandard))
	assert.Greater(t, len(me.Permissions), 2)
	assert.Equal(t, "Analytical Engines Ltd", me.Profile.Organization.Name)
	assert.Equal(t, me.OrganizationID, me.Profile.Organization.ID)
	assert.Equal(t, devTokenTTL, me.ExpiresAtTime().Sub(me.IssuedAtTime()))
}

type curl struct {
	auth bool
	url  string
}

// parseBanner returns the token and the curl lines of a development banner.
func parseBanner(t *testing.T, out string) (string, []curl) {
	t.Helper()
	var token string
	var curls []curl
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "  TOKEN="); ok {
			token = v
		}
		if m := curlLine.FindStringSubmatch(line); m != nil {
			curls = append(curls, curl{auth: m[1] != "", url: m[2]})
		}
	}
	require.NotEmpty(t, token, "TOKEN line")
	require.NotEmpty(t, curls, "curl lines")
	return token, curls
}

func TestDevBaseURL(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"[::1]:8080", "http://[::1]:8080"},
		{"0.0.0.0:8080", "http://127.0.0.1:8080"},
		{"[::]:8080", "http://[::1]:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			assert.Equal(t, tt.want, devBaseURL(fakeAddr(tt.addr)))
		})
	}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }
