package middleware_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

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
