package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	auth0jwks "github.com/auth0/go-jwt-middleware/v2/jwks"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/jwtauth/v5"
	golangjwt "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/sessiongate/sessiongate/middleware"
	"github.com/sessiongate/sessiongate/session"
)

// Case names, in result order. Floor is not an HTTP case: it is the
// signature verification alone (see [NewFloor]).
const (
	CaseFloor           = "floor"
	CaseSessiongateCold = "sessiongate-cold"
	CaseSessiongateWarm = "sessiongate-warm"
	CaseAuth0           = "auth0"
	CaseAuth0JWKS       = "auth0-jwks"
	CaseJWTAuth         = "jwtauth"
	CaseKeyfunc         = "keyfunc"
	CaseJWX             = "jwx"
	CaseNoAuth          = "noauth"
)

// CaseNames lists every case, floor included, in result order.
func CaseNames() []string {
	return []string{CaseFloor, CaseSessiongateCold, CaseSessiongateWarm, CaseAuth0, CaseAuth0JWKS,
		CaseJWTAuth, CaseKeyfunc, CaseJWX, CaseNoAuth}
}

// CaseDescriptions says what each case runs.
func CaseDescriptions() map[string]string {
	return map[string]string{
		CaseFloor:           "crypto/* only: SHA-256 of the signing input + the public-key verification (signature decoded beforehand)",
		CaseSessiongateCold: "sessiongate middleware, token cache off: parse, verify, decode the session on every request",
		CaseSessiongateWarm: "sessiongate middleware, token cache on (the token was seen before)",
		CaseAuth0:           "auth0/go-jwt-middleware v2.3.1, validator with the static public key, typed custom claims",
		CaseAuth0JWKS:       "auth0/go-jwt-middleware v2.3.1, validator with its caching JWKS provider (pre-warmed), typed custom claims",
		CaseJWTAuth:         "go-chi/jwtauth v5.3.3 Verifier + Authenticator, claims read with jwtauth.FromContext as its README does",
		CaseKeyfunc:         "MicahParks/keyfunc v3.9.1 (JWK set) + golang-jwt v5.3.1 ParseWithClaims into typed claims, minimal middleware",
		CaseJWX:             "lestrrat-go/jwx v2.1.7 jwt.ParseString with jwt.WithKeySet, minimal middleware",
		CaseNoAuth:          "the same chi router and handler without authentication",
	}
}

// Case is one way of authenticating GET /me.
type Case struct {
	Name string
	// Middleware authenticates; nil for the no-auth baseline.
	Middleware func(http.Handler) http.Handler
	// Facts reads the facts from the request context with the case's own
	// API; nil for the no-auth baseline.
	Facts func(r *http.Request) (Facts, bool)
}

// Router puts the case behind a chi router with the handler every case
// shares: it reads the facts (500 when they are missing), hands them to
// observe when set, and writes a short JSON answer.
func (c Case) Router(observe func(Facts)) http.Handler {
	contentType := []string{"application/json"}
	body := []byte(`{"ok":true}` + "\n")
	facts := c.Facts
	r := chi.NewRouter()
	if c.Middleware != nil {
		r.Use(c.Middleware)
	}
	r.Get("/me", func(w http.ResponseWriter, r *http.Request) {
		if facts != nil {
			f, ok := facts(r)
			if !ok || f.Sub == "" {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			if observe != nil {
				observe(f)
			}
		}
		w.Header()["Content-Type"] = contentType
		_, _ = w.Write(body)
	})
	return r
}

// VerdocsClaims are the Verdocs custom claims as a peer user would declare
// them for the typed-claims APIs (auth0, golang-jwt).
type VerdocsClaims struct {
	Email          string          `json:"https://verdocs.com/email"`
	EmailVerified  bool            `json:"https://verdocs.com/email_verified"`
	ProfileID      string          `json:"https://verdocs.com/profile_id"`
	OrganizationID string          `json:"https://verdocs.com/organization_id"`
	Roles          []string        `json:"https://verdocs.com/roles"`
	Permissions    []string        `json:"https://verdocs.com/permissions"`
	Plans          []string        `json:"https://verdocs.com/plans"`
	Profile        session.Profile `json:"https://verdocs.com/profile"`
}

// Cases builds every HTTP case for the fixture's algorithm.
func Cases(ctx context.Context, f *Fixture) ([]Case, error) {
	var cases []Case
	set, err := f.KeySet(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench: %s: sessiongate key set: %w", f.Alg.Name, err)
	}
	for _, cache := range []bool{false, true} {
		name := CaseSessiongateCold
		if cache {
			name = CaseSessiongateWarm
		}
		a, err := middleware.New(middleware.Config{
			Issuers: []middleware.Issuer{{Issuer: f.Issuer(), Keys: set, Audiences: []string{f.Audience()}}},
			Cache:   middleware.CacheConfig{Disabled: !cache}})
		if err != nil {
			return nil, fmt.Errorf("bench: %s %s: %w", f.Alg.Name, name, err)
		}
		cases = append(cases, Case{Name: name, Middleware: a.Handler, Facts: sessiongateFacts})
	}
	steps := []struct {
		name string
		make func(context.Context, *Fixture) (Case, error)
	}{
		{CaseAuth0, auth0Static},
		{CaseAuth0JWKS, auth0Provider},
		{CaseJWTAuth, jwtauthCase},
		{CaseKeyfunc, keyfuncCase},
		{CaseJWX, jwxCase},
	}
	for _, s := range steps {
		c, err := s.make(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("bench: %s %s: %w", f.Alg.Name, s.name, err)
		}
		c.Name = s.name
		cases = append(cases, c)
	}
	cases = append(cases, Case{Name: CaseNoAuth})
	return cases, nil
}

func sessiongateFacts(r *http.Request) (Facts, bool) {
	s, ok := session.FromContext(r.Context())
	if !ok {
		return Facts{}, false
	}
	return Facts{Sub: s.Sub, OrganizationID: s.OrganizationID, Permissions: len(s.Permissions)}, true
}

// bearer is the minimal extractor of the hand-written middlewares.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
}

// auth0 --------------------------------------------------------------------

type auth0Claims struct{ VerdocsClaims }

func (*auth0Claims) Validate(context.Context) error { return nil }

func auth0Middleware(f *Fixture, keyFunc func(context.Context) (any, error)) (Case, error) {
	v, err := validator.New(keyFunc, validator.SignatureAlgorithm(f.Alg.JWA), f.Issuer(), []string{f.Audience()},
		validator.WithCustomClaims(func() validator.CustomClaims { return &auth0Claims{} }),
		validator.WithAllowedClockSkew(30*time.Second))
	if err != nil {
		return Case{}, err
	}
	mw := jwtmiddleware.New(v.ValidateToken)
	return Case{Middleware: mw.CheckJWT, Facts: auth0Facts}, nil
}

func auth0Facts(r *http.Request) (Facts, bool) {
	vc, ok := r.Context().Value(jwtmiddleware.ContextKey{}).(*validator.ValidatedClaims)
	if !ok {
		return Facts{}, false
	}
	c, ok := vc.CustomClaims.(*auth0Claims)
	if !ok {
		return Facts{}, false
	}
	return Facts{Sub: vc.RegisteredClaims.Subject, OrganizationID: c.OrganizationID, Permissions: len(c.Permissions)}, true
}

func auth0Static(_ context.Context, f *Fixture) (Case, error) {
	pub := f.Public
	return auth0Middleware(f, func(context.Context) (any, error) { return pub, nil })
}

func auth0Provider(ctx context.Context, f *Fixture) (Case, error) {
	u, err := url.Parse(f.Issuer())
	if err != nil {
		return Case{}, err
	}
	// A TTL longer than any run: the provider never refreshes while measured.
	p := auth0jwks.NewCachingProvider(u, 24*time.Hour)
	if _, err := p.KeyFunc(ctx); err != nil { // pre-warm
		return Case{}, fmt.Errorf("pre-warming the JWKS provider: %w", err)
	}
	return auth0Middleware(f, p.KeyFunc)
}

// jwtauth ------------------------------------------------------------------

func jwtauthCase(_ context.Context, f *Fixture) (Case, error) {
	ja := jwtauth.New(f.Alg.JWA, nil, f.Public, jwt.WithIssuer(f.Issuer()), jwt.WithAudience(f.Audience()),
		jwt.WithAcceptableSkew(30*time.Second))
	verify, authn := jwtauth.Verifier(ja), jwtauth.Authenticator(ja)
	return Case{
		Middleware: func(next http.Handler) http.Handler { return verify(authn(next)) },
		Facts:      jwtauthFacts,
	}, nil
}

func jwtauthFacts(r *http.Request) (Facts, bool) {
	_, claims, err := jwtauth.FromContext(r.Context())
	if err != nil {
		return Facts{}, false
	}
	return mapFacts(claims)
}

// mapFacts reads the facts from generic claims.
func mapFacts(claims map[string]any) (Facts, bool) {
	sub, _ := claims["sub"].(string)
	org, _ := claims[Namespace+"organization_id"].(string)
	perms, ok := claims[Namespace+"permissions"].([]any)
	return Facts{Sub: sub, OrganizationID: org, Permissions: len(perms)}, ok
}

// keyfunc + golang-jwt -------------------------------------------------------

type golangJWTClaims struct {
	golangjwt.RegisteredClaims
	VerdocsClaims
}

type golangJWTKey struct{}

func keyfuncCase(_ context.Context, f *Fixture) (Case, error) {
	k, err := keyfunc.NewJWKSetJSON(json.RawMessage(f.JWKS()))
	if err != nil {
		return Case{}, err
	}
	parser := golangjwt.NewParser(golangjwt.WithValidMethods([]string{f.Alg.JWA}), golangjwt.WithIssuer(f.Issuer()),
		golangjwt.WithAudience(f.Audience()), golangjwt.WithExpirationRequired(), golangjwt.WithLeeway(30*time.Second))
	kf := k.Keyfunc
	mw := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, ok := bearer(r)
			if !ok {
				unauthorized(w)
				return
			}
			claims := new(golangJWTClaims)
			if _, err := parser.ParseWithClaims(raw, claims, kf); err != nil {
				unauthorized(w)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), golangJWTKey{}, claims)))
		})
	}
	return Case{Middleware: mw, Facts: func(r *http.Request) (Facts, bool) {
		c, ok := r.Context().Value(golangJWTKey{}).(*golangJWTClaims)
		if !ok {
			return Facts{}, false
		}
		return Facts{Sub: c.Subject, OrganizationID: c.OrganizationID, Permissions: len(c.Permissions)}, true
	}}, nil
}

// jwx ----------------------------------------------------------------------

type jwxKey struct{}

func jwxCase(_ context.Context, f *Fixture) (Case, error) {
	set, err := jwk.Parse(f.JWKS())
	if err != nil {
		return Case{}, err
	}
	opts := []jwt.ParseOption{jwt.WithKeySet(set), jwt.WithValidate(true), jwt.WithIssuer(f.Issuer()),
		jwt.WithAudience(f.Audience()), jwt.WithAcceptableSkew(30 * time.Second)}
	mw := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, ok := bearer(r)
			if !ok {
				unauthorized(w)
				return
			}
			tok, err := jwt.ParseString(raw, opts...)
			if err != nil {
				unauthorized(w)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), jwxKey{}, tok)))
		})
	}
	return Case{Middleware: mw, Facts: func(r *http.Request) (Facts, bool) {
		tok, ok := r.Context().Value(jwxKey{}).(jwt.Token)
		if !ok {
			return Facts{}, false
		}
		org, _ := tok.Get(Namespace + "organization_id")
		perms, _ := tok.Get(Namespace + "permissions")
		orgID, _ := org.(string)
		list, ok := perms.([]any)
		return Facts{Sub: tok.Subject(), OrganizationID: orgID, Permissions: len(list)}, ok
	}}, nil
}
