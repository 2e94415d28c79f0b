package middleware_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/middleware"
	"github.com/sessiongate/sessiongate/session"
)

const realm = "test"

// fixture is an identity provider from the test kit, a key set fetching from
// it, and an authenticator in front of a handler that reports what it saw.
// The key set fetches discovery and keys through the issuer's in-process
// client, so a fixture works inside a synctest bubble: the tests whose
// verdicts depend on time build theirs in one, where time stands still
// unless the test sleeps.
type fixture struct {
	idp  *jwkstest.Issuer
	keys *jwks.Set
	auth *middleware.Authenticator
}

func newFixture(t *testing.T, edit func(*middleware.Config)) *fixture {
	t.Helper()
	f := &fixture{idp: jwkstest.New("https://idp.example.test")}
	keys, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.OIDCSource(f.idp.URL())}, HTTPClient: f.idp.Client()})
	require.NoError(t, err)
	t.Cleanup(keys.Close)
	f.keys = keys
	cfg := middleware.Config{
		Issuers: []middleware.Issuer{{Issuer: f.idp.URL(), Keys: keys, Audiences: []string{jwkstest.DefaultAudience}}},
		Realm:   realm,
	}
	if edit != nil {
		edit(&cfg)
	}
	f.auth, err = middleware.New(cfg)
	require.NoError(t, err)
	return f
}

// expired makes a token that expired an hour ago (by the clock of the
// bubble, inside one).
func expired() jwkstest.Option { return jwkstest.WithClaim("exp", time.Now().Add(-time.Hour)) }

// withSignature replaces the signature of a compact JWS.
func withSignature(token string, sig []byte) string {
	return token[:strings.LastIndexByte(token, '.')+1] + base64.RawURLEncoding.EncodeToString(sig)
}

// reportHandler answers 200 with what the handler learns from the context.
var reportHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{}
	if s, ok := session.FromContext(r.Context()); ok {
		out["sub"] = s.Sub
		out["organization_id"] = s.OrganizationID
		out["permissions"] = len(s.Permissions)
	}
	if t, ok := session.TokenFromContext(r.Context()); ok {
		out["raw_len"] = len(t.Raw)
		out["iss"] = t.Registered.Issuer
	}
	if s, ok := session.SigningFromContext(r.Context()); ok {
		out["document_id"] = s.DocumentID
	}
	_ = json.NewEncoder(w).Encode(out)
})

type response struct {
	status    int
	challenge string
	body      map[string]any
	header    http.Header
}

func (f *fixture) do(t *testing.T, h http.Handler, mutate func(*http.Request)) response {
	t.Helper()
	r := httptest.NewRequest("GET", "/x", nil)
	if mutate != nil {
		mutate(r)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	res := response{status: rec.Code, challenge: rec.Header().Get("WWW-Authenticate"), header: rec.Header()}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &res.body), "body %q", rec.Body.String())
	return res
}

func bearer(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

func fullSession() session.ActiveSession {
	org := session.Organization{ID: "org-1", Name: "Analytical Engines"}
	return session.ActiveSession{
		Sub: "auth0|42", Email: "ada@example.com", EmailVerified: true,
		ProfileID: "p-1", OrganizationID: "org-1",
		Roles:       []session.Role{{ID: session.RoleOwner, Name: session.RoleOwner}},
		Permissions: []session.Permission{{ID: session.PermOrgView, Name: session.PermOrgView}, {ID: session.PermTemplateMemberRead, Name: session.PermTemplateMemberRead}},
		Plans:       []session.Plan{session.PlanOrgStandard},
		Profile:     session.Profile{ID: "p-1", OrganizationID: "org-1", FirstName: "Ada", Organization: org},
	}
}

func invalidToken(desc string) string {
	return fmt.Sprintf(`Bearer realm=%q, error="invalid_token", error_description=%q`, realm, desc)
}

func TestValidToken(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.idp.Token(fullSession())
	res := f.do(t, f.auth.Handler(reportHandler), bearer(tok))
	require.Equal(t, 200, res.status, res.body)
	assert.Equal(t, map[string]any{"sub": "auth0|42", "organization_id": "org-1", "permissions": float64(2),
		"raw_len": float64(len(tok)), "iss": f.idp.URL()}, res.body)
}

func TestNoToken(t *testing.T) {
	f := newFixture(t, nil)
	res := f.do(t, f.auth.Handler(reportHandler), nil)
	assert.Equal(t, 401, res.status)
	assert.Equal(t, `Bearer realm="test"`, res.challenge)
	assert.Equal(t, "unauthorized", res.body["error"])

	// Another scheme carries no bearer token.
	res = f.do(t, f.auth.Handler(reportHandler), func(r *http.Request) { r.Header.Set("Authorization", "Basic dTpw") })
	assert.Equal(t, 401, res.status)
	assert.Equal(t, `Bearer realm="test"`, res.challenge)
}

// b64 is unpadded base64url.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// publishedJWK returns the JWK idp publishes for kid.
func publishedJWK(t *testing.T, idp *jwkstest.Issuer, kid string) map[string]any {
	t.Helper()
	var set struct{ Keys []map[string]any }
	require.NoError(t, json.Unmarshal(idp.JWKS(), &set))
	for _, k := range set.Keys {
		if k["kid"] == kid {
			return k
		}
	}
	t.Fatalf("kid %q not published", kid)
	return nil
}

// TestRejectedTokens runs in a synctest bubble, without subtests (which a
// bubble does not allow): time stands still between minting and verifying,
// so the rows at the edges of the leeway always get the same verdict.
func TestRejectedTokens(t *testing.T) { synctest.Test(t, testRejectedTokens) }

func testRejectedTokens(t *testing.T) {
	f := newFixture(t, nil)
	ec := f.idp.AddKey("ES256") // published, not the signer
	iss := f.idp
	iss.Rotate("RS256") // the HS256 confusions need an RSA public key
	now := time.Now()
	s := fullSession()
	good := iss.Token(s)
	parts := strings.Split(good, ".")
	rsaPub := iss.Key(iss.KID()).Public().(*rsa.PublicKey)
	der, err := x509.MarshalPKIXPublicKey(rsaPub)
	require.NoError(t, err)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	rsaJWK := publishedJWK(t, iss, iss.KID())
	jwkBytes, err := json.Marshal(rsaJWK)
	require.NoError(t, err)
	hs := func(secret []byte) string { // HS256 with the public key as the shared secret
		si := b64(`{"alg":"HS256","typ":"JWT"}`) + "." + parts[1]
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(si))
		return si + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	claims := func(extra string) string { // a payload with valid registered claims plus extra members
		return fmt.Sprintf(`{"iss":%q,"aud":%q,"iat":%d,"exp":%d%s}`, iss.URL(), jwkstest.DefaultAudience, now.Unix(), now.Add(time.Hour).Unix(), extra)
	}
	signed := func(header, payload string) string { return iss.Sign([]byte(header), []byte(payload)) }
	kidHeader := `{"alg":"RS256","kid":"` + iss.KID() + `"`

	tests := []struct {
		name   string
		token  string
		status int    // default 401
		desc   string // error_description
	}{
		// Form.
		{"alg none, no signature", b64(`{"alg":"none"}`) + "." + parts[1] + ".", 0, "malformed token"},
		{"alg none, signature kept", b64(`{"alg":"none"}`) + "." + parts[1] + "." + parts[2], 0, "algorithm not allowed"},
		{"alg None", b64(`{"alg":"None"}`) + "." + parts[1] + "." + parts[2], 0, "algorithm not allowed"},
		{"alg NONE", b64(`{"alg":"NONE"}`) + "." + parts[1] + "." + parts[2], 0, "algorithm not allowed"},
		{"alg nOnE", b64(`{"alg":"nOnE"}`) + "." + parts[1] + "." + parts[2], 0, "algorithm not allowed"},
		{"JWE, five parts", good + ".a.b", 0, "malformed token"},
		{"four parts", good + ".a", 0, "malformed token"},
		{"leading dot", "." + good, 0, "malformed token"},
		{"trailing dot", good + ".", 0, "malformed token"},
		{"flattened JSON serialization", `{"protected":"` + parts[0] + `","payload":"` + parts[1] + `","signature":"` + parts[2] + `"}`, 0, "malformed token"},
		{"general JSON serialization", `{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`, 0, "malformed token"},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], 0, "malformed token"},
		{"standard alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+/", 0, "malformed token"},
		{"oversized", signed(`{"alg":"RS256"}`, claims(`,"pad":"`+strings.Repeat("x", 16<<10)+`"`)), 0, "token too large"},
		// Header policy.
		{"HS256 with RSA public key PEM", hs(pemBytes), 0, "algorithm not allowed"},
		{"HS256 with RSA public key DER", hs(der), 0, "algorithm not allowed"},
		{"HS256 with RSA public key JWK", hs(jwkBytes), 0, "algorithm not allowed"},
		{"header alg HS256 over RS256 signature", b64(`{"alg":"HS256"}`) + "." + parts[1] + "." + parts[2], 0, "algorithm not allowed"},
		{"header alg ES256 over RS256 signature", iss.Token(s, jwkstest.WithHeader("alg", "ES256")), 0, "algorithm not allowed for key"},
		{"header alg PS256 over RS256 signature (the JWK says RS256)", iss.Token(s, jwkstest.WithHeader("alg", "PS256")), 0, "algorithm not allowed for key"},
		{"header without alg", iss.Token(s, jwkstest.WithHeader("alg", nil)), 0, "algorithm not allowed"},
		{"kid of a key of another type", iss.Token(s, jwkstest.WithHeader("kid", ec)), 0, "algorithm not allowed for key"},
		{"kid path traversal", iss.Token(s, jwkstest.WithHeader("kid", "../../../../etc/passwd")), 0, "unknown signing key"},
		{"kid SQL", iss.Token(s, jwkstest.WithHeader("kid", "' OR 1=1 --")), 0, "unknown signing key"},
		{"embedded jwk", iss.Token(s, jwkstest.WithHeader("jwk", rsaJWK)), 0, "header parameter not allowed"},
		{"jku", iss.Token(s, jwkstest.WithHeader("jku", "https://evil.example/jwks.json")), 0, "header parameter not allowed"},
		{"x5u", iss.Token(s, jwkstest.WithHeader("x5u", "https://evil.example/cert.pem")), 0, "header parameter not allowed"},
		{"x5c", iss.Token(s, jwkstest.WithHeader("x5c", []string{base64.StdEncoding.EncodeToString(der)})), 0, "header parameter not allowed"},
		{"crit unknown", iss.Token(s, jwkstest.WithHeader("crit", []string{"exp"})), 0, "header parameter not allowed"},
		{"crit empty", iss.Token(s, jwkstest.WithHeader("crit", []string{})), 0, "header parameter not allowed"},
		{"crit b64", iss.Token(s, jwkstest.WithHeader("crit", []string{"b64"}), jwkstest.WithHeader("b64", false)), 0, "header parameter not allowed"},
		{"b64 false", iss.Token(s, jwkstest.WithHeader("b64", false)), 0, "header parameter not allowed"},
		{"cty JWT nesting", iss.Token(s, jwkstest.WithHeader("cty", "JWT")), 0, "header parameter not allowed"},
		{"duplicate alg in header", signed(`{"alg":"RS256","alg":"RS256"}`, claims("")), 0, "malformed token"},
		// Signature.
		{"tampered payload", parts[0] + "." + b64(claims(`,"https://verdocs.com/roles":["owner"]`)) + "." + parts[2], 0, "signature invalid"},
		{"signature of another token", parts[0] + "." + parts[1] + "." + strings.Split(iss.Token(s, jwkstest.WithClaim("sub", "x")), ".")[2], 0, "signature invalid"},
		{"ECDSA r=s=0", withSignature(iss.Token(s, jwkstest.WithKey(ec)), make([]byte, 64)), 0, "signature invalid"},
		// Claims.
		{"duplicate iss", signed(kidHeader+`}`, claims(`,"iss":"x"`)), 0, "claims invalid"},
		{"duplicate sub", signed(kidHeader+`}`, claims(`,"sub":"a","sub":"b"`)), 0, "claims invalid"},
		{"trailing data after claims", signed(kidHeader+`}`, claims("")+`{}`), 0, "claims invalid"},
		{"invalid UTF-8 in claims", signed(kidHeader+`}`, claims(`,"sub":"`+"\xff"+`"`)), 0, "claims invalid"},
		{"exp missing", iss.Token(s, jwkstest.WithClaim("exp", nil)), 0, "missing exp claim"},
		{"exp null", iss.Token(s, jwkstest.WithClaim("exp", json.RawMessage("null"))), 0, "missing exp claim"},
		{"exp zero", iss.Token(s, jwkstest.WithClaim("exp", 0)), 0, "token expired"},
		{"exp negative", iss.Token(s, jwkstest.WithClaim("exp", -1)), 0, "token expired"},
		{"exp string", iss.Token(s, jwkstest.WithClaim("exp", fmt.Sprint(now.Add(time.Hour).Unix()))), 0, "claims invalid"},
		{"exp 1e18", iss.Token(s, jwkstest.WithClaim("exp", 1e18)), 0, "claims invalid"},
		{"exp far, no iat", iss.Token(s, jwkstest.WithClaim("iat", nil), jwkstest.WithClaim("exp", now.Add(7*24*time.Hour))), 0, "token lifetime too long"},
		{"expired", iss.Token(s, jwkstest.WithClaim("exp", now.Add(-time.Minute))), 0, "token expired"},
		{"lifetime too long", iss.Token(s, jwkstest.WithClaim("exp", now.Add(25*time.Hour))), 0, "token lifetime too long"},
		{"iat in the future", iss.Token(s, jwkstest.WithClaim("iat", now.Add(5*time.Minute))), 0, "token issued in the future"},
		{"nbf in the future", iss.Token(s, jwkstest.WithClaim("nbf", now.Add(5*time.Minute))), 0, "token not yet valid"},
		{"other audience", iss.Token(s, jwkstest.WithClaim("aud", "https://other.example")), 0, "audience not allowed"},
		{"empty audience array", iss.Token(s, jwkstest.WithClaim("aud", []string{})), 0, "missing aud claim"},
		{"no audience", iss.Token(s, jwkstest.WithClaim("aud", nil)), 0, "missing aud claim"},
		{"issuer with trailing slash", iss.Token(s, jwkstest.WithClaim("iss", iss.URL()+"/")), 0, "issuer not allowed"},
		{"other issuer", iss.Token(s, jwkstest.WithClaim("iss", "https://evil.example")), 0, "issuer not allowed"},
		{"no issuer", iss.Token(s, jwkstest.WithClaim("iss", nil)), 0, "issuer not allowed"},
		{"signing session", iss.SigningToken(session.SigningSession{DocumentID: "d", ProfileID: "p"}), 0, "token kind not accepted"},
	}
	for _, tt := range tests {
		res := f.do(t, f.auth.Handler(reportHandler), bearer(tt.token))
		status := tt.status
		if status == 0 {
			status = 401
		}
		assert.Equal(t, status, res.status, tt.name)
		assert.Equal(t, invalidToken(tt.desc), res.challenge, tt.name)
		assert.Equal(t, map[string]any{"error": "invalid_token", "error_description": tt.desc}, res.body, tt.name)
	}
}

// TestAcceptedEdgeCases runs in a bubble, as TestRejectedTokens does.
func TestAcceptedEdgeCases(t *testing.T) { synctest.Test(t, testAcceptedEdgeCases) }

func testAcceptedEdgeCases(t *testing.T) {
	f := newFixture(t, nil)
	iss := f.idp
	now := time.Now()
	s := fullSession()
	named := fullSession() // names other than the ids: written as {"id","name"} objects
	named.Roles[0].Name = "Owner"
	named.Permissions[0].Name = "View the organization"
	tests := []struct {
		name  string
		token string
	}{
		{"expired within leeway", iss.Token(s, jwkstest.WithClaim("exp", now.Add(-10*time.Second)))},
		{"nbf within leeway", iss.Token(s, jwkstest.WithClaim("nbf", now.Add(10*time.Second)))},
		{"iat within leeway", iss.Token(s, jwkstest.WithClaim("iat", now.Add(10*time.Second)))},
		{"audience array with ours", iss.Token(s, jwkstest.WithClaim("aud", []string{"https://other.example", jwkstest.DefaultAudience}))},
		{"roles and permissions as objects", iss.Token(named)},
		{"plain claim names", iss.Token(s, jwkstest.WithNamespace(""))},
		{"ES384 key", iss.Token(s, jwkstest.WithKey(iss.AddKey("ES384")))},
		{"EdDSA key", iss.Token(s, jwkstest.WithKey(iss.AddKey("EdDSA")))},
		{"Ed25519 key (RFC 9864 name)", iss.Token(s, jwkstest.WithKey(iss.AddKey("Ed25519")))},
		{"RS256 key", iss.Token(s, jwkstest.WithKey(iss.AddKey("RS256")))},
		{"PS256 key", iss.Token(s, jwkstest.WithKey(iss.AddKey("PS256")))},
	}
	for _, tt := range tests {
		res := f.do(t, f.auth.Handler(reportHandler), bearer(tt.token))
		assert.Equal(t, 200, res.status, "%s: %v", tt.name, res.body)
		assert.Equal(t, "auth0|42", res.body["sub"], tt.name)
	}
}

// TestEd25519AlgorithmNames holds the rules for the two names of Ed25519
// end to end: a token naming "Ed25519" (RFC 9864, as panva's oidc-provider
// signs) verifies with a key published as "Ed25519" or "EdDSA", and the
// other way round; Config.Algorithms compares the token's name exactly;
// Ed448 is refused.
func TestEd25519AlgorithmNames(t *testing.T) {
	s := fullSession()
	tests := []struct {
		name    string
		allowed []string
		keyAlg  string // the alg the key is published with
		tokAlg  string // the alg the token's header names
		desc    string // "" for accepted
	}{
		{"Ed25519 key, Ed25519 token", nil, "Ed25519", "Ed25519", ""},
		{"EdDSA key, Ed25519 token", nil, "EdDSA", "Ed25519", ""},
		{"Ed25519 key, EdDSA token", nil, "Ed25519", "EdDSA", ""},
		{"only EdDSA allowed, Ed25519 token", []string{"EdDSA"}, "Ed25519", "Ed25519", "algorithm not allowed"},
		{"only EdDSA allowed, EdDSA token", []string{"EdDSA"}, "Ed25519", "EdDSA", ""},
		{"only Ed25519 allowed, EdDSA token", []string{"Ed25519"}, "EdDSA", "EdDSA", "algorithm not allowed"},
		{"only Ed25519 allowed, Ed25519 token", []string{"Ed25519"}, "EdDSA", "Ed25519", ""},
		{"Ed448 token", nil, "Ed25519", "Ed448", "algorithm not allowed"},
		{"Ed25519 token, RSA key", nil, "RS256", "Ed25519", "algorithm not allowed for key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *middleware.Config) { c.Issuers[0].Algorithms = tt.allowed })
			kid := f.idp.AddKey(tt.keyAlg)
			res := f.do(t, f.auth.Handler(reportHandler), bearer(f.idp.Token(s, jwkstest.WithKey(kid), jwkstest.WithHeader("alg", tt.tokAlg))))
			if tt.desc == "" {
				require.Equal(t, 200, res.status, res.body)
				assert.Equal(t, "auth0|42", res.body["sub"])
				return
			}
			assert.Equal(t, 401, res.status)
			assert.Equal(t, invalidToken(tt.desc), res.challenge)
		})
	}
	_, err := middleware.New(middleware.Config{Issuers: []middleware.Issuer{{Issuer: "https://x", Keys: newFixture(t, nil).keys, Audiences: []string{"a"}, Algorithms: []string{"Ed448"}}}})
	assert.ErrorIs(t, err, middleware.ErrConfig)
}

func TestInvalidRequests(t *testing.T) {
	f := newFixture(t, func(c *middleware.Config) {
		c.Extractors = []middleware.Extractor{middleware.FromAuthorizationHeader, middleware.FromCookie("token")}
	})
	tok := f.idp.Token(fullSession())
	tests := []struct {
		name   string
		mutate func(*http.Request)
		desc   string
	}{
		{"two Authorization headers", func(r *http.Request) {
			r.Header["Authorization"] = []string{"Bearer " + tok, "Bearer " + tok}
		}, "several Authorization headers"},
		{"header and cookie", func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+tok)
			r.AddCookie(&http.Cookie{Name: "token", Value: tok})
		}, "token sent in more than one place"},
		{"space inside token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok[:10]+" "+tok[10:]) }, "malformed Authorization header"},
		{"CR/LF inside token", func(r *http.Request) { r.Header["Authorization"] = []string{"Bearer " + tok[:10] + "\r\n" + tok[10:]} }, "malformed Authorization header"},
		{"bearer without token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer") }, "malformed Authorization header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(t, f.auth.Handler(reportHandler), tt.mutate)
			assert.Equal(t, 400, res.status)
			assert.Equal(t, fmt.Sprintf(`Bearer realm="test", error="invalid_request", error_description=%q`, tt.desc), res.challenge)
			assert.Equal(t, "invalid_request", res.body["error"])
		})
	}
	// The cookie alone works.
	res := f.do(t, f.auth.Handler(reportHandler), func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "token", Value: tok}) })
	assert.Equal(t, 200, res.status)
}

func TestOptional(t *testing.T) {
	f := newFixture(t, nil)
	h := f.auth.Optional(reportHandler)
	res := f.do(t, h, nil)
	assert.Equal(t, 200, res.status)
	assert.Empty(t, res.body)

	res = f.do(t, h, bearer(f.idp.Token(fullSession())))
	assert.Equal(t, 200, res.status)
	assert.Equal(t, "auth0|42", res.body["sub"])

	// A token that is present but invalid is never treated as anonymous.
	res = f.do(t, h, bearer(f.idp.Token(fullSession(), expired())))
	assert.Equal(t, 401, res.status)
	assert.Equal(t, invalidToken("token expired"), res.challenge)
	res = f.do(t, h, func(r *http.Request) { r.Header.Set("Authorization", "Bearer") })
	assert.Equal(t, 400, res.status)
}

// TestKeySetUnavailable runs in a bubble: the key set's retry comes on the
// fake clock.
func TestKeySetUnavailable(t *testing.T) { synctest.Test(t, testKeySetUnavailable) }

func testKeySetUnavailable(t *testing.T) {
	f := newFixture(t, nil)
	f.idp.SetFault(jwkstest.Fault{Status: 500})
	res := f.do(t, f.auth.Handler(reportHandler), bearer(f.idp.Token(fullSession())))
	assert.Equal(t, 503, res.status)
	assert.Empty(t, res.challenge)
	assert.NotEmpty(t, res.header.Get("Retry-After"))
	assert.Equal(t, map[string]any{"error": "temporarily_unavailable", "error_description": "key set unavailable"}, res.body)

	// Recovery: once the provider answers, the set's first retry (at most
	// a second after the failure) loads the keys and the same token passes.
	f.idp.SetFault(jwkstest.Fault{})
	time.Sleep(time.Second)
	res = f.do(t, f.auth.Handler(reportHandler), bearer(f.idp.Token(fullSession())))
	assert.Equal(t, 200, res.status, res.body)
}

func TestSigningSessionsWhenAllowed(t *testing.T) {
	f := newFixture(t, func(c *middleware.Config) { c.Issuers[0].AllowSigningSessions = true })
	tok := f.idp.SigningToken(session.SigningSession{DocumentID: "doc-1", ProfileID: "p"})
	res := f.do(t, f.auth.Handler(reportHandler), bearer(tok))
	assert.Equal(t, 200, res.status)
	assert.Equal(t, "doc-1", res.body["document_id"])
	// A guard that needs an active session refuses it with 403.
	res = f.do(t, f.auth.Handler(middleware.RequireRole(session.RoleOwner)(reportHandler)), bearer(tok))
	assert.Equal(t, 403, res.status)
}

func TestTypRequired(t *testing.T) {
	f := newFixture(t, func(c *middleware.Config) { c.Issuers[0].Typ = "at+jwt" })
	s := fullSession()
	for typ, status := range map[string]int{"at+jwt": 200, "application/AT+JWT": 200, "JWT": 401} {
		res := f.do(t, f.auth.Handler(reportHandler), bearer(f.idp.Token(s, jwkstest.WithHeader("typ", typ))))
		assert.Equal(t, status, res.status, typ)
	}
}

// TestCache runs in a bubble: the token expires while the test sleeps.
func TestCache(t *testing.T) { synctest.Test(t, testCache) }

func testCache(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.idp.Token(fullSession(), jwkstest.WithClaim("exp", time.Now().Add(time.Minute)))
	ctx := context.Background()
	first, err := f.auth.Verify(ctx, tok)
	require.NoError(t, err)
	second, err := f.auth.Verify(ctx, tok)
	require.NoError(t, err)
	assert.True(t, sameDecode(first, second), "a repeated token is served from the cache")
	assert.NotSame(t, first, second, "each caller gets its own copy")

	// exp is checked on every hit.
	time.Sleep(2 * time.Minute)
	_, err = f.auth.Verify(ctx, tok)
	assert.ErrorIs(t, err, middleware.ErrExpired)
	assert.ErrorIs(t, err, middleware.ErrInvalidToken)
}

// sameDecode reports whether two tokens handed out by Authenticate come from
// one decode (a cache hit): copies share their immutable payload string.
func sameDecode(a, b *session.Token) bool {
	return unsafe.StringData(a.Payload()) == unsafe.StringData(b.Payload())
}

func TestCacheDropsTokensOfRemovedKeys(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	oldKID := f.idp.KID()
	tok := f.idp.Token(fullSession())
	first, err := f.auth.Verify(ctx, tok)
	require.NoError(t, err)
	again, err := f.auth.Verify(ctx, tok)
	require.NoError(t, err)
	require.True(t, sameDecode(first, again))

	// The provider rotates and retires the old key; a token with the new kid
	// makes the set refetch, and the cached token stops working at once.
	f.idp.Rotate("ES256")
	require.True(t, f.idp.RemoveKey(oldKID))
	_, err = f.auth.Verify(ctx, f.idp.Token(fullSession()))
	require.NoError(t, err)
	_, err = f.auth.Verify(ctx, tok)
	assert.ErrorIs(t, err, middleware.ErrUnknownKey)
	assert.ErrorIs(t, err, jwks.ErrKeyNotFound)
}

func TestCacheDisabled(t *testing.T) {
	f := newFixture(t, func(c *middleware.Config) { c.Cache.Disabled = true })
	tok := f.idp.Token(fullSession())
	a, err := f.auth.Verify(context.Background(), tok)
	require.NoError(t, err)
	b, err := f.auth.Verify(context.Background(), tok)
	require.NoError(t, err)
	assert.False(t, sameDecode(a, b))
	assert.Equal(t, a, b)
}

func TestKeysBoundToTheirIssuer(t *testing.T) {
	a, b := jwkstest.NewServer(), jwkstest.NewServer()
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	keys, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.OIDCSource(a.URL()), jwks.OIDCSource(b.URL())}})
	require.NoError(t, err)
	t.Cleanup(keys.Close)
	auth, err := middleware.New(middleware.Config{Issuers: []middleware.Issuer{
		{Issuer: a.URL(), Keys: keys, Audiences: []string{jwkstest.DefaultAudience}},
		{Issuer: b.URL(), Keys: keys, Audiences: []string{jwkstest.DefaultAudience}},
	}})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = auth.Verify(ctx, a.Token(fullSession()))
	require.NoError(t, err)
	_, err = auth.Verify(ctx, b.Token(fullSession()))
	require.NoError(t, err)
	// A's key signing a token that claims to come from B.
	_, err = auth.Verify(ctx, a.Token(fullSession(), jwkstest.WithClaim("iss", b.URL())))
	assert.ErrorIs(t, err, middleware.ErrUnknownKey)
}

func TestHooksAndLogging(t *testing.T) {
	var logs bytes.Buffer
	var authenticated, rejected atomic.Int32
	var lastErr atomic.Value
	f := newFixture(t, func(c *middleware.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.Hooks.OnAuthenticated = func(*http.Request, *session.Token) { authenticated.Add(1) }
		c.Hooks.OnRejected = func(_ *http.Request, err error) { rejected.Add(1); lastErr.Store(err) }
	})
	h := f.auth.Handler(reportHandler)
	f.do(t, h, bearer(f.idp.Token(fullSession())))
	expired := f.idp.Token(fullSession(), expired())
	f.do(t, h, bearer(expired))
	f.do(t, h, nil)
	assert.Equal(t, int32(1), authenticated.Load())
	assert.Equal(t, int32(2), rejected.Load())
	assert.ErrorIs(t, lastErr.Load().(error), middleware.ErrNoToken)
	// The authenticator's guards report their refusals too.
	f.do(t, f.auth.Handler(middleware.RequirePlan(session.PlanEnvEssential)(reportHandler)), bearer(f.idp.Token(fullSession())))
	assert.Equal(t, int32(3), rejected.Load())
	assert.ErrorIs(t, lastErr.Load().(error), middleware.ErrInsufficientScope)
	assert.Contains(t, logs.String(), `reason=expired description="token expired"`)
	assert.NotContains(t, logs.String(), expired, "the token never reaches the log")
	assert.NotContains(t, logs.String(), strings.Split(expired, ".")[2])
}

func TestCustomErrorHandler(t *testing.T) {
	f := newFixture(t, func(c *middleware.Config) {
		c.Hooks.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
			var e *middleware.Error
			require.True(t, errors.As(err, &e))
			w.WriteHeader(e.Status())
			_, _ = fmt.Fprintf(w, `{"custom":%q}`, e.Description)
		}
	})
	res := f.do(t, f.auth.Handler(reportHandler), bearer(f.idp.Token(fullSession(), expired())))
	assert.Equal(t, 401, res.status)
	assert.Equal(t, map[string]any{"custom": "token expired"}, res.body)
	res = f.do(t, f.auth.Handler(middleware.RequirePlan(session.PlanEnvEssential)(reportHandler)), bearer(f.idp.Token(fullSession())))
	assert.Equal(t, 403, res.status)
	assert.Equal(t, map[string]any{"custom": "plan required"}, res.body)
}

func TestNewRejectsBadConfig(t *testing.T) {
	keys, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.URLSource("https://idp.example/jwks.json")}})
	require.NoError(t, err)
	t.Cleanup(keys.Close)
	good := func() middleware.Issuer {
		return middleware.Issuer{Issuer: "https://idp.example/", Keys: keys, Audiences: []string{"api"}}
	}
	entra := func() middleware.Issuer {
		return middleware.Issuer{Issuer: "https://login.example/{tenantid}/v2.0", Keys: keys, Audiences: []string{"api"}, Tenants: []string{"t1"}}
	}
	tests := []struct {
		name string
		edit func(*middleware.Config)
		want string // in the error: the policy it names, or the field
	}{
		{"no issuers", func(c *middleware.Config) { c.Issuers = nil }, "Issuers is required"},
		{"no keys", func(c *middleware.Config) { c.Issuers[0].Keys = nil }, `issuer[0] "https://idp.example/": Keys is required`},
		{"empty issuer", func(c *middleware.Config) { c.Issuers[0].Issuer = "" }, "issuer[0]"},
		{"no audiences", func(c *middleware.Config) { c.Issuers[0].Audiences = nil }, "Audiences is required"},
		{"empty audience", func(c *middleware.Config) { c.Issuers[0].Audiences = []string{""} }, "empty audience"},
		{"none", func(c *middleware.Config) { c.Issuers[0].Algorithms = []string{"none"} }, "never allowed"},
		{"HS256", func(c *middleware.Config) { c.Issuers[0].Algorithms = []string{"RS256", "HS256"} }, "never allowed"},
		{"unknown algorithm", func(c *middleware.Config) { c.Issuers[0].Algorithms = []string{"RS1"} }, "not supported"},
		{"empty algorithms", func(c *middleware.Config) { c.Issuers[0].Algorithms = []string{} }, "Algorithms is empty"},
		{"huge leeway", func(c *middleware.Config) { c.Issuers[0].Leeway = time.Hour }, "Leeway"},
		{"negative lifetime", func(c *middleware.Config) { c.Issuers[0].MaxLifetime = -1 }, "MaxLifetime"},
		{"two policies for one issuer", func(c *middleware.Config) { c.Issuers = append(c.Issuers, good()) }, `issuer[1] "https://idp.example/": a second policy`},
		{"template without tenants", func(c *middleware.Config) {
			e := entra()
			e.Tenants = nil
			c.Issuers = append(c.Issuers, e)
		}, `issuer[1] "https://login.example/{tenantid}/v2.0": a template issuer needs Tenants`},
		{"tenants without template", func(c *middleware.Config) { c.Issuers[0].Tenants = []string{"t"} }, "need {tenantid}"},
		{"template twice", func(c *middleware.Config) {
			e := entra()
			e.Issuer = "https://login.example/{tenantid}/{tenantid}"
			c.Issuers = append(c.Issuers, e)
		}, "must appear once"},
		{"template inside a segment", func(c *middleware.Config) {
			e := entra()
			e.Issuer = "https://login.example/t-{tenantid}/v2.0"
			c.Issuers = append(c.Issuers, e)
		}, "whole path segment"},
		{"bad tenant", func(c *middleware.Config) {
			e := entra()
			e.Tenants = []string{"a/b"}
			c.Issuers = append(c.Issuers, e)
		}, "not a path segment"},
		{"overlapping templates", func(c *middleware.Config) {
			a, b := entra(), entra()
			a.Issuer, b.Issuer = "https://x.example/{tenantid}/b/c", "https://x.example/a/{tenantid}/c"
			c.Issuers = append(c.Issuers, a, b)
		}, "may match the same issuers"},
		{"zero rule", func(c *middleware.Config) { c.Issuers[0].Require = []middleware.Rule{{}} }, "zero Rule"},
		{"negative cache", func(c *middleware.Config) { c.Cache.Size = -1 }, "Cache.Size"},
		{"negative cache bytes", func(c *middleware.Config) { c.Cache.MaxBytes = -1 }, "Cache.MaxBytes"},
		{"nil extractor", func(c *middleware.Config) { c.Extractors = []middleware.Extractor{nil} }, "nil extractor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := middleware.Config{Issuers: []middleware.Issuer{good()}}
			tt.edit(&cfg)
			_, err := middleware.New(cfg)
			assert.ErrorIs(t, err, middleware.ErrConfig)
			assert.ErrorContains(t, err, tt.want)
		})
	}
	_, err = middleware.New(middleware.Config{Issuers: []middleware.Issuer{good(), entra()}})
	assert.NoError(t, err)
	skip := good()
	skip.Audiences, skip.InsecureSkipAudienceCheck = nil, true
	_, err = middleware.New(middleware.Config{Issuers: []middleware.Issuer{skip}})
	assert.NoError(t, err)
}
