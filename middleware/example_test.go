package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/middleware"
	"github.com/sessiongate/sessiongate/session"
)

// A chi router whose routes need a valid token, one of them an owner.
func Example() {
	idp := jwkstest.NewServer() // stands in for the identity provider
	defer idp.Close()

	keys, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.OIDCSource(idp.URL())}})
	if err != nil {
		panic(err)
	}
	defer keys.Close()
	auth, err := middleware.New(middleware.Config{Issuers: []middleware.Issuer{{
		Issuer:    idp.URL(),
		Keys:      keys,
		Audiences: []string{jwkstest.DefaultAudience},
	}}})
	if err != nil {
		panic(err)
	}

	r := chi.NewRouter()
	r.Use(auth.Handler)
	r.Get("/me", func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		fmt.Fprintln(w, "hello", s.Email)
	})
	r.With(middleware.RequireRole(session.RoleOwner)).Get("/admin", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "welcome, owner")
	})

	token := idp.Token(session.ActiveSession{Sub: "auth0|1", Email: "ada@example.com",
		Roles: []session.Role{{ID: session.RoleMember, Name: "Member"}}})
	for _, path := range []string{"/me", "/admin"} {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		fmt.Print(rec.Code, " ", rec.Header().Get("WWW-Authenticate"), " ", string(body))
	}
	// Output:
	// 200  hello ada@example.com
	// 403 Bearer error="insufficient_scope", error_description="role required" {"error":"insufficient_scope","error_description":"role required"}
}

// Plain net/http: wrap the mux, or single handlers.
func ExampleAuthenticator_Handler() {
	idp := jwkstest.NewServer()
	defer idp.Close()
	keys, _ := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.OIDCSource(idp.URL())}})
	defer keys.Close()
	auth, _ := middleware.New(middleware.Config{Issuers: []middleware.Issuer{{Issuer: idp.URL(), Keys: keys, Audiences: []string{jwkstest.DefaultAudience}}}, Realm: "api"})

	mux := http.NewServeMux()
	mux.Handle("GET /templates", auth.Handler(middleware.RequirePermission(session.PermTemplateMemberRead)(
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "templates") }))))

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/templates", nil)) // no token
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
	// Output: 401 Bearer realm="api"
}

// Optional authentication: anonymous requests pass without a session.
func ExampleAuthenticator_Optional() {
	idp := jwkstest.NewServer()
	defer idp.Close()
	keys, _ := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.OIDCSource(idp.URL())}})
	defer keys.Close()
	auth, _ := middleware.New(middleware.Config{Issuers: []middleware.Issuer{{Issuer: idp.URL(), Keys: keys, Audiences: []string{jwkstest.DefaultAudience}}}})
	hello := auth.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := session.FromContext(r.Context()); ok {
			fmt.Fprintln(w, "hello", s.Sub)
			return
		}
		fmt.Fprintln(w, "hello, stranger")
	}))
	for _, token := range []string{"", idp.Token(session.ActiveSession{Sub: "auth0|7"})} {
		req := httptest.NewRequest("GET", "/hello", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		hello.ServeHTTP(rec, req)
		fmt.Print(rec.Body.String())
	}
	// Output:
	// hello, stranger
	// hello auth0|7
}

// Verify serves non-HTTP uses, such as a WebSocket handshake, through the
// verified-token cache.
func ExampleAuthenticator_Verify() {
	idp := jwkstest.NewServer()
	defer idp.Close()
	keys, _ := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.OIDCSource(idp.URL())}})
	defer keys.Close()
	auth, _ := middleware.New(middleware.Config{Issuers: []middleware.Issuer{{Issuer: idp.URL(), Keys: keys, Audiences: []string{jwkstest.DefaultAudience}}}})
	tok, err := auth.Verify(context.Background(), idp.Token(session.ActiveSession{Sub: "auth0|9"}))
	fmt.Println(tok.Active.Sub, err)
	// Output: auth0|9 <nil>
}

// Several issuers, each with its own policy: the Verdocs identity provider,
// and a multi-tenant provider (Entra-style) whose issuer names the tenant.
// The token's iss chooses the policy; a tenant that is not listed is refused
// before any key lookup.
func ExampleIssuer() {
	verdocs := jwkstest.New("https://auth.verdocs.test/")
	defer verdocs.Close()
	entra := jwkstest.New("https://login.example.test/72f988bf/v2.0")
	defer entra.Close()

	// One key set, two sources; each source's keys verify its own issuer.
	entraSource := jwks.StaticSource(entra.JWKS()) // in production: jwks.OIDCSource(template)
	entraSource.Issuer = "https://login.example.test/{tenantid}/v2.0"
	verdocsSource := jwks.StaticSource(verdocs.JWKS())
	verdocsSource.Issuer = verdocs.URL()
	keys, _ := jwks.New(jwks.Config{Sources: []jwks.Source{verdocsSource, entraSource}})
	defer keys.Close()

	auth, err := middleware.New(middleware.Config{Issuers: []middleware.Issuer{
		{Issuer: verdocs.URL(), Keys: keys, Audiences: []string{"https://api.verdocs.test"}},
		{
			Issuer:    "https://login.example.test/{tenantid}/v2.0",
			Keys:      keys,
			Audiences: []string{"api://orders"},
			Tenants:   []string{"72f988bf"},
			Claims:    middleware.ClaimMap{Roles: "roles"}, // Entra app roles
		},
	}})
	if err != nil {
		panic(err)
	}
	h := auth.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, _ := session.TokenFromContext(r.Context())
		fmt.Fprintln(w, "hello from", t.Registered.Issuer)
	}))
	for _, token := range []string{
		verdocs.Token(session.ActiveSession{Sub: "ada"}, jwkstest.WithClaim("aud", "https://api.verdocs.test")),
		entra.Token(session.ActiveSession{Sub: "grace"}, jwkstest.WithClaim("aud", "api://orders"), jwkstest.WithClaim("roles", []string{"reader"})),
		entra.Token(session.ActiveSession{Sub: "eve"}, jwkstest.WithClaim("aud", "api://orders"),
			jwkstest.WithClaim("iss", "https://login.example.test/other-tenant/v2.0")),
		verdocs.Token(session.ActiveSession{Sub: "ada"}, jwkstest.WithClaim("aud", "api://orders")),
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// 200 hello from https://auth.verdocs.test/
	// 200 hello from https://login.example.test/72f988bf/v2.0
	// 401 {"error":"invalid_token","error_description":"tenant not allowed"}
	// 401 {"error":"invalid_token","error_description":"audience not allowed"}
}

// Rules at authentication time: a token must come from one of two clients
// (azp) and carry a verified email, or it is refused with 401 before it is
// cached.
func ExampleClaimIn() {
	idp := jwkstest.New("https://auth.example.test/")
	defer idp.Close()
	keys, _ := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.StaticSource(idp.JWKS())}})
	defer keys.Close()
	v, _ := middleware.NewVerifier(middleware.Config{Issuers: []middleware.Issuer{{
		Issuer: idp.URL(), Keys: keys, Audiences: []string{jwkstest.DefaultAudience},
		Require: []middleware.Rule{
			middleware.ClaimIn("azp", "web-client", "cli"),
			middleware.ClaimIn("email_verified", true),
		},
	}}})
	for _, azp := range []string{"cli", "unknown-client"} {
		_, err := v.Verify(context.Background(), idp.Token(session.ActiveSession{Sub: "ada", EmailVerified: true},
			jwkstest.WithNamespace(""), jwkstest.WithClaim("azp", azp))) // plain claim names: email_verified, azp
		fmt.Println(azp, err, errors.Is(err, middleware.ErrRule))
	}
	// Output:
	// cli <nil> false
	// unknown-client middleware: token rejected by policy true
}

// A Verifier has no HTTP in it: one call per token, one typed error, a
// reason to label metrics by.
func ExampleVerifier_Verify() {
	idp := jwkstest.New("https://auth.example.test/")
	defer idp.Close()
	keys, _ := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.StaticSource(idp.JWKS())}})
	defer keys.Close()
	v, _ := middleware.NewVerifier(middleware.Config{Issuers: []middleware.Issuer{{
		Issuer: idp.URL(), Keys: keys, Audiences: []string{jwkstest.DefaultAudience},
	}}})
	tok, err := v.Verify(context.Background(), idp.Token(session.ActiveSession{Sub: "ada"}))
	fmt.Println(tok.Active.Sub, err)
	_, err = v.Verify(context.Background(), idp.Token(session.ActiveSession{Sub: "ada"}, jwkstest.WithClaim("exp", time.Now().Add(-time.Hour))))
	var e *middleware.Error
	if errors.As(err, &e) {
		fmt.Println(e.Reason.String(), e.Description, errors.Is(err, middleware.ErrExpired))
	}
	// Output:
	// ada <nil>
	// expired token expired true
}

// Scope guards check the OAuth scopes of the token (scope, or scp) and name
// the missing ones in the answer, as RFC 6750 describes.
func ExampleRequireScope() {
	idp := jwkstest.New("https://auth.example.test/")
	defer idp.Close()
	keys, _ := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.StaticSource(idp.JWKS())}})
	defer keys.Close()
	auth, _ := middleware.New(middleware.Config{Issuers: []middleware.Issuer{{
		Issuer: idp.URL(), Keys: keys, Audiences: []string{jwkstest.DefaultAudience},
	}}})
	h := auth.Handler(middleware.RequireScope("documents:read")(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "documents")
	})))
	for _, scope := range []string{"openid documents:read", "openid"} {
		req := httptest.NewRequest("GET", "/documents", nil)
		req.Header.Set("Authorization", "Bearer "+idp.Token(session.ActiveSession{Sub: "ada"}, jwkstest.WithClaim("scope", scope)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Body.String())
	}
	// Output:
	// 200  documents
	//
	// 403 Bearer error="insufficient_scope", error_description="insufficient scope", scope="documents:read" {"error":"insufficient_scope","error_description":"insufficient scope","scope":"documents:read"}
}

// A Keycloak token's realm roles fill the session's roles; with
// NamespacedOnly a plain roles claim would never grant a role.
func ExampleClaimMap() {
	idp := jwkstest.New("https://keycloak.example.test/realms/acme")
	defer idp.Close()
	keys, _ := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.StaticSource(idp.JWKS())}})
	defer keys.Close()
	v, _ := middleware.NewVerifier(middleware.Config{Issuers: []middleware.Issuer{{
		Issuer: idp.URL(), Keys: keys, Audiences: []string{"account"},
		Claims: middleware.ClaimMap{Roles: "realm_access.roles"},
	}}})
	tok, err := v.Verify(context.Background(), idp.RawToken(map[string]any{
		"iss": idp.URL(), "aud": "account", "sub": "f81d4fae", "exp": time.Now().Add(time.Hour).Unix(),
		"realm_access": map[string]any{"roles": []string{"owner", "offline_access"}},
	}))
	fmt.Println(err, tok.Active.HasRole("owner"), len(tok.Active.Roles))
	// Output: <nil> true 2
}
