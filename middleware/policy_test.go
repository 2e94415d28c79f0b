package middleware_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/middleware"
	"github.com/sessiongate/sessiongate/session"
)

// countingKeys counts the lookups a policy makes in its key source.
type countingKeys struct {
	middleware.KeySource
	n atomic.Int64
}

func (c *countingKeys) Key(ctx context.Context, issuer, kid, alg string) (*jwks.Key, error) {
	c.n.Add(1)
	return c.KeySource.Key(ctx, issuer, kid, alg)
}

// staticKeys is a key set of one test-kit issuer, bound to issuer.
func staticKeys(t *testing.T, idp *jwkstest.Issuer, issuer string) *countingKeys {
	t.Helper()
	src := jwks.StaticSource(idp.JWKS())
	src.Issuer = issuer
	keys, err := jwks.New(jwks.Config{Sources: []jwks.Source{src}})
	require.NoError(t, err)
	t.Cleanup(keys.Close)
	return &countingKeys{KeySource: keys}
}

const entraTemplate = "https://login.example.test/{tenantid}/v2.0"

func entraIssuer(tenant string) string { return "https://login.example.test/" + tenant + "/v2.0" }

// policyFixture: three issuers at once — Verdocs, a partner with its own
// audience, and an Entra-style template issuer with two allowed tenants —
// each with its own key set.
type policyFixture struct {
	verdocs, partner, entra *jwkstest.Issuer
	keys                    map[string]*countingKeys
	auth                    *middleware.Authenticator
}

func newPolicyFixture(t *testing.T, edit func(*middleware.Config)) *policyFixture {
	t.Helper()
	f := &policyFixture{
		verdocs: jwkstest.New("https://auth.verdocs.test/"),
		partner: jwkstest.New("https://partner.example.test"),
		entra:   jwkstest.New(entraIssuer("t-one")), // its tokens say which tenant
		keys:    map[string]*countingKeys{},
	}
	for _, idp := range []*jwkstest.Issuer{f.verdocs, f.partner, f.entra} {
		t.Cleanup(idp.Close)
	}
	f.keys["verdocs"] = staticKeys(t, f.verdocs, f.verdocs.URL())
	f.keys["partner"] = staticKeys(t, f.partner, f.partner.URL())
	f.keys["entra"] = staticKeys(t, f.entra, entraTemplate)
	cfg := middleware.Config{Issuers: []middleware.Issuer{
		{Issuer: f.verdocs.URL(), Keys: f.keys["verdocs"], Audiences: []string{"https://api.verdocs.test"}},
		{Issuer: f.partner.URL(), Keys: f.keys["partner"], Audiences: []string{"partner-api"}},
		{Issuer: entraTemplate, Keys: f.keys["entra"], Audiences: []string{"api://orders"},
			Tenants: []string{"t-one", "t-two"}},
	}}
	if edit != nil {
		edit(&cfg)
	}
	var err error
	f.auth, err = middleware.New(cfg)
	require.NoError(t, err)
	return f
}

func (f *policyFixture) lookups() int64 {
	n := int64(0)
	for _, k := range f.keys {
		n += k.n.Load()
	}
	return n
}

func TestIssuerPolicies(t *testing.T) {
	f := newPolicyFixture(t, nil)
	s := fullSession()
	tests := []struct {
		name    string
		token   string
		status  int
		desc    string
		lookups int64 // key lookups the request may make
	}{
		{"verdocs token", f.verdocs.Token(s, jwkstest.WithClaim("aud", "https://api.verdocs.test")), 200, "", 1},
		{"partner token, partner audience", f.partner.Token(s, jwkstest.WithClaim("aud", "partner-api")), 200, "", 1},
		{"partner token, verdocs audience", f.partner.Token(s, jwkstest.WithClaim("aud", "https://api.verdocs.test")), 401, "audience not allowed", 1},
		{"verdocs token, partner audience", f.verdocs.Token(s, jwkstest.WithClaim("aud", "partner-api")), 401, "audience not allowed", 1},
		{"partner's key claiming verdocs", f.partner.Token(s, jwkstest.WithClaim("iss", f.verdocs.URL()), jwkstest.WithClaim("aud", "https://api.verdocs.test")), 401, "unknown signing key", 1},
		{"unknown issuer: no key lookup", f.verdocs.Token(s, jwkstest.WithClaim("iss", "https://evil.example.test"), jwkstest.WithClaim("aud", "https://api.verdocs.test")), 401, "issuer not allowed", 0},
		{"no issuer: no key lookup", f.verdocs.Token(s, jwkstest.WithClaim("iss", nil)), 401, "issuer not allowed", 0},
		{"issuer with a trailing slash", f.partner.Token(s, jwkstest.WithClaim("iss", f.partner.URL()+"/"), jwkstest.WithClaim("aud", "partner-api")), 401, "issuer not allowed", 0},
		{"tenant one", f.entra.Token(s, jwkstest.WithClaim("aud", "api://orders")), 200, "", 1},
		{"tenant two, same keys", f.entra.Token(s, jwkstest.WithClaim("iss", entraIssuer("t-two")), jwkstest.WithClaim("aud", "api://orders")), 200, "", 1},
		{"tenant not allowed: no key lookup", f.entra.Token(s, jwkstest.WithClaim("iss", entraIssuer("t-evil")), jwkstest.WithClaim("aud", "api://orders")), 401, "tenant not allowed", 0},
		{"tenant segment empty", f.entra.Token(s, jwkstest.WithClaim("iss", entraIssuer("")), jwkstest.WithClaim("aud", "api://orders")), 401, "issuer not allowed", 0},
		{"tenant segment with a slash", f.entra.Token(s, jwkstest.WithClaim("iss", entraIssuer("t-one/x")), jwkstest.WithClaim("aud", "api://orders")), 401, "issuer not allowed", 0},
		{"the template itself", f.entra.Token(s, jwkstest.WithClaim("iss", entraTemplate), jwkstest.WithClaim("aud", "api://orders")), 401, "tenant not allowed", 0},
		{"tid matching iss", f.entra.Token(s, jwkstest.WithClaim("tid", "t-one"), jwkstest.WithClaim("aud", "api://orders")), 200, "", 1},
		{"tid contradicting iss", f.entra.Token(s, jwkstest.WithClaim("tid", "t-two"), jwkstest.WithClaim("aud", "api://orders")), 401, "tid does not match the issuer", 1},
		{"tid not a string", f.entra.Token(s, jwkstest.WithClaim("tid", 1), jwkstest.WithClaim("aud", "api://orders")), 401, "tid does not match the issuer", 1},
		{"template key for a plain issuer", f.entra.Token(s, jwkstest.WithClaim("iss", f.verdocs.URL()), jwkstest.WithClaim("aud", "https://api.verdocs.test")), 401, "unknown signing key", 1},
		{"escaped iss chooses the same policy", signWithPayload(f.partner, `{"iss":"https:\/\/partner.example.test","aud":"partner-api","exp":`+at(3600)+`,"iat":`+at(0)+`}`), 200, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.lookups()
			res := doRequest(t, f.auth.Handler(reportHandler), tt.token)
			assert.Equal(t, tt.status, res.status, res.body)
			if tt.status != 200 {
				assert.Equal(t, tt.desc, res.body["error_description"])
			}
			assert.LessOrEqual(t, f.lookups()-before, tt.lookups, "key lookups")
			if tt.lookups == 0 {
				assert.Zero(t, f.lookups()-before, "refused before any key lookup")
			}
		})
	}
}

func TestTenantPredicate(t *testing.T) {
	f := newPolicyFixture(t, func(c *middleware.Config) {
		c.Issuers[2].Tenants = nil
		c.Issuers[2].TenantAllowed = func(tenant string) bool { return tenant == "t-pred" }
	})
	s := fullSession()
	res := doRequest(t, f.auth.Handler(reportHandler), f.entra.Token(s, jwkstest.WithClaim("iss", entraIssuer("t-pred")), jwkstest.WithClaim("aud", "api://orders")))
	assert.Equal(t, 200, res.status, res.body)
	res = doRequest(t, f.auth.Handler(reportHandler), f.entra.Token(s, jwkstest.WithClaim("aud", "api://orders")))
	assert.Equal(t, 401, res.status)
	assert.Equal(t, "tenant not allowed", res.body["error_description"])
}

func TestRules(t *testing.T) {
	f := newPolicyFixture(t, func(c *middleware.Config) {
		c.Issuers[1].Require = []middleware.Rule{
			middleware.ClaimIn("azp", "web", "cli"),
			middleware.ClaimIn("email_verified", true),
			middleware.Check("organization suspended", func(t *session.Token) bool { return t.Active.OrganizationID != "org-suspended" }),
		}
	})
	s := fullSession()
	tok := func(opts ...jwkstest.Option) string {
		return f.partner.Token(s, append([]jwkstest.Option{jwkstest.WithClaim("aud", "partner-api"),
			jwkstest.WithClaim("azp", "web"), jwkstest.WithClaim("email_verified", true)}, opts...)...)
	}
	tests := []struct {
		name   string
		token  string
		status int
		desc   string
	}{
		{"every rule passes", tok(), 200, ""},
		{"azp other", tok(jwkstest.WithClaim("azp", "evil")), 401, "claim azp not allowed"},
		{"azp escaped is the same value", tok(jwkstest.WithClaim("azp", "cli")), 200, ""},
		{"azp absent", tok(jwkstest.WithClaim("azp", nil)), 401, "claim azp not allowed"},
		{"azp null", tok(jwkstest.WithClaim("azp", json.RawMessage("null"))), 401, "claim azp not allowed"},
		{"azp array holding an allowed value", tok(jwkstest.WithClaim("azp", []string{"x", "cli"})), 200, ""},
		{"email not verified", tok(jwkstest.WithClaim("email_verified", false)), 401, "claim email_verified not allowed"},
		{"email_verified as a string (the session's own claim: refused by the decoder)", tok(jwkstest.WithClaim("email_verified", "true")), 401, "claims invalid"},
		{"custom check", tok(jwkstest.WithClaim("https://verdocs.com/organization_id", "org-suspended")), 401, "organization suspended"},
		// The rules are the partner's: a verdocs token needs no azp.
		{"other policy, no rules", f.verdocs.Token(s, jwkstest.WithClaim("aud", "https://api.verdocs.test")), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := doRequest(t, f.auth.Handler(reportHandler), tt.token)
			assert.Equal(t, tt.status, res.status, res.body)
			if tt.status != 200 {
				assert.Equal(t, map[string]any{"error": "invalid_token", "error_description": tt.desc}, res.body)
			}
		})
	}
	// A refused rule is ErrRule, and the token is not cached.
	_, err := f.auth.Verify(context.Background(), tok(jwkstest.WithClaim("azp", "evil")))
	assert.ErrorIs(t, err, middleware.ErrRule)
	assert.ErrorIs(t, err, middleware.ErrInvalidToken)
}

// A Verifier needs no HTTP: the same policies, one call.
func TestVerifier(t *testing.T) {
	f := newPolicyFixture(t, nil)
	v, err := middleware.NewVerifier(middleware.Config{Issuers: []middleware.Issuer{
		{Issuer: f.partner.URL(), Keys: f.keys["partner"], Audiences: []string{"partner-api"}},
	}})
	require.NoError(t, err)
	tok, err := v.Verify(context.Background(), f.partner.Token(fullSession(), jwkstest.WithClaim("aud", "partner-api")))
	require.NoError(t, err)
	assert.Equal(t, "auth0|42", tok.Active.Sub)
	_, err = v.Verify(context.Background(), f.verdocs.Token(fullSession()))
	assert.ErrorIs(t, err, middleware.ErrIssuer)
	var e *middleware.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "issuer", e.Reason.String())
	_, err = v.Verify(context.Background(), "a b")
	assert.ErrorIs(t, err, middleware.ErrMalformed, "white space is malformed for the verifier; only HTTP extraction answers 400")
}

func doRequest(t *testing.T, h http.Handler, token string) response {
	t.Helper()
	return (&fixture{}).do(t, h, bearer(token))
}

// signWithPayload signs payload exactly as written (to control escapes),
// with idp's ES256 key.
func signWithPayload(idp *jwkstest.Issuer, payload string) string {
	return idp.Sign([]byte(`{"alg":"ES256","kid":"`+idp.KID()+`"}`), []byte(payload))
}

// at is now plus seconds, as a NumericDate.
func at(seconds int64) string { return formatInt(time.Now().Unix() + seconds) }

// Claim maps: tokens of identity providers that do not emit Verdocs claims
// fill the same session, and a namespaced-only policy ignores plain roles.
func TestClaimMaps(t *testing.T) {
	idp := jwkstest.New("https://idp.example.test")
	t.Cleanup(idp.Close)
	keys := staticKeys(t, idp, idp.URL())
	newAuth := func(cm middleware.ClaimMap) *middleware.Authenticator {
		a, err := middleware.New(middleware.Config{Issuers: []middleware.Issuer{{
			Issuer: idp.URL(), Keys: keys, Audiences: []string{"api"}, Claims: cm}}})
		require.NoError(t, err)
		return a
	}
	base := func(extra map[string]any) string {
		c := map[string]any{"iss": idp.URL(), "aud": "api", "sub": "u-1", "iat": time.Now().Unix(), "exp": time.Now().Unix() + 600}
		for k, v := range extra {
			c[k] = v
		}
		return idp.RawToken(c)
	}
	owner := middleware.RequireRole("owner")
	tests := []struct {
		name   string
		cm     middleware.ClaimMap
		claims map[string]any
		status int
		desc   string
	}{
		{"Keycloak realm roles", middleware.ClaimMap{Roles: "realm_access.roles"},
			map[string]any{"realm_access": map[string]any{"roles": []string{"owner", "offline_access"}}}, 200, ""},
		{"Keycloak, no owner", middleware.ClaimMap{Roles: "realm_access.roles"},
			map[string]any{"realm_access": map[string]any{"roles": []string{"member"}}}, 403, "role required"},
		{"Keycloak, the plain Verdocs roles claim does not count", middleware.ClaimMap{Roles: "realm_access.roles"},
			map[string]any{"realm_access": map[string]any{"roles": []string{}}, "roles": []string{"owner"}}, 403, "role required"},
		{"mapped claim absent", middleware.ClaimMap{Roles: "realm_access.roles"}, map[string]any{}, 401, "claims invalid"},
		{"mapped claim of another type", middleware.ClaimMap{Roles: "realm_access.roles"},
			map[string]any{"realm_access": "owner"}, 401, "claims invalid"},
		{"Entra app roles", middleware.ClaimMap{Roles: "roles"}, map[string]any{"roles": []string{"owner"}}, 200, ""},
		{"Cognito groups", middleware.ClaimMap{Roles: "cognito:groups"}, map[string]any{"cognito:groups": []string{"owner"}}, 200, ""},
		{"a space-delimited string", middleware.ClaimMap{Roles: "groups"}, map[string]any{"groups": "reader owner"}, 200, ""},
		{"Verdocs default, plain roles", middleware.ClaimMap{}, map[string]any{"roles": []string{"owner"}}, 200, ""},
		{"namespaced only: plain roles never grant", middleware.ClaimMap{NamespacedOnly: true},
			map[string]any{"roles": []string{"owner"}}, 403, "role required"},
		{"namespaced only: namespaced roles grant", middleware.ClaimMap{NamespacedOnly: true},
			map[string]any{"https://verdocs.com/roles": []string{"owner"}}, 200, ""},
		{"namespaced only: a plain document_id still marks a signing token", middleware.ClaimMap{NamespacedOnly: true},
			map[string]any{"document_id": "d-1", "https://verdocs.com/roles": []string{"owner"}}, 401, "token kind not accepted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := doRequest(t, newAuth(tt.cm).Handler(owner(reportHandler)), base(tt.claims))
			assert.Equal(t, tt.status, res.status, res.body)
			if tt.status != 200 {
				assert.Equal(t, tt.desc, res.body["error_description"])
			}
		})
	}
	// Auth0 permissions.
	a := newAuth(middleware.ClaimMap{Permissions: "permissions"})
	res := doRequest(t, a.Handler(middleware.RequirePermission("read:orders")(reportHandler)),
		base(map[string]any{"permissions": []string{"read:orders", "write:orders"}}))
	assert.Equal(t, 200, res.status, res.body)
}

// Scopes: scope (RFC 9068, a string) and scp (Entra: a string; Hydra: an
// array) decoded once; the scope guards name what they require.
func TestScopeGuards(t *testing.T) {
	idp := jwkstest.New("https://idp.example.test")
	t.Cleanup(idp.Close)
	a, err := middleware.New(middleware.Config{Realm: "api", Issuers: []middleware.Issuer{{
		Issuer: idp.URL(), Keys: staticKeys(t, idp, idp.URL()), Audiences: []string{"api"}}}})
	require.NoError(t, err)
	tok := func(extra map[string]any) string {
		c := map[string]any{"iss": idp.URL(), "aud": "api", "sub": "u-1", "iat": time.Now().Unix(), "exp": time.Now().Unix() + 600}
		for k, v := range extra {
			c[k] = v
		}
		return idp.RawToken(c)
	}
	all := middleware.RequireScope("documents:read", "documents:write")
	anyOf := middleware.RequireAnyScope("documents:read", "admin")
	tests := []struct {
		name      string
		guard     func(http.Handler) http.Handler
		claims    map[string]any
		status    int
		challenge string
	}{
		{"scope string, all present", all, map[string]any{"scope": "openid documents:read documents:write"}, 200, ""},
		{"scp string (Entra)", all, map[string]any{"scp": "documents:read documents:write"}, 200, ""},
		{"scp array (Hydra)", all, map[string]any{"scp": []string{"documents:read", "documents:write"}}, 200, ""},
		{"one missing", all, map[string]any{"scope": "documents:read"}, 403,
			`Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="documents:read documents:write"`},
		{"no scope at all", all, map[string]any{}, 403,
			`Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="documents:read documents:write"`},
		{"a scope is not a prefix", anyOf, map[string]any{"scope": "documents:readonly"}, 403,
			`Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="documents:read admin"`},
		{"any of them", anyOf, map[string]any{"scope": "admin"}, 200, ""},
		{"scope and scp disagreeing", anyOf, map[string]any{"scope": "admin", "scp": "documents:read"}, 401,
			`Bearer realm="api", error="invalid_token", error_description="claims invalid"`},
		{"scope of the wrong type", anyOf, map[string]any{"scope": []string{"admin"}}, 401,
			`Bearer realm="api", error="invalid_token", error_description="claims invalid"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := doRequest(t, a.Handler(tt.guard(reportHandler)), tok(tt.claims))
			assert.Equal(t, tt.status, res.status, res.body)
			assert.Equal(t, tt.challenge, res.challenge)
		})
	}
}
