package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/middleware"
	"github.com/sessiongate/sessiongate/session"
)

// keysStartTimeout bounds the first fetch of the key set at start. When it
// fails the server serves anyway: the set keeps retrying in the background
// and protected routes answer 503 until keys are loaded.
const keysStartTimeout = 10 * time.Second

// documentsScope is the OAuth scope GET /documents requires.
const documentsScope = "documents:read"

// app is the example server's handler and what it owns.
type app struct {
	// handler serves every route.
	handler http.Handler
	// keys are the issuers' key sets, one per issuer (in the order of
	// config.issuers), so one identity provider's keys, refetches and
	// outages never touch another's tokens.
	keys []issuerKeys
	// issuer is the development issuer (nil in production mode). Its
	// discovery document and JWK set are served by handler.
	issuer *jwkstest.Issuer
	// issuerURL is the development issuer's URL ("" in production mode).
	issuerURL string
}

// issuerKeys is one issuer's key set.
type issuerKeys struct {
	issuer string
	set    *jwks.Set
}

// newApp builds the server for cfg. baseURL is the URL the server is
// reached at ("http://127.0.0.1:8080"); in development mode it is the issuer
// URL of the built-in issuer, whose keys the server then fetches from
// itself, so the handler must be served at baseURL before the first
// authenticated request (or app.start). newApp does no network I/O.
// Call app.Close when done.
func newApp(cfg config, baseURL string, logger *slog.Logger) (*app, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &app{}
	if cfg.dev() {
		a.issuerURL = baseURL
		a.issuer = newDevIssuer(baseURL)
	}
	issuers := cfg.issuers(baseURL)
	policies := make([]middleware.Issuer, len(issuers))
	for i := range issuers {
		ic := &issuers[i]
		keys, err := jwks.New(ic.keys(logger))
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("issuer %q: %w", ic.Issuer, err)
		}
		a.keys = append(a.keys, issuerKeys{issuer: ic.Issuer, set: keys})
		policies[i] = ic.policy(keys)
	}
	auth, err := middleware.New(middleware.Config{
		Issuers: policies,
		Logger:  logger,
		Hooks: middleware.Hooks{
			// Every refusal, the guards' 403s included, is answered here:
			// logged with its reason (server side only), then written by
			// the middleware's RFC 6750 writer, which sends the client only
			// the safe error_description.
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				status := http.StatusUnauthorized
				var e *middleware.Error
				if errors.As(err, &e) {
					status = e.Status()
				}
				logger.Info("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "reason", err.Error())
				middleware.WriteError(w, err, "")
			},
		},
	})
	if err != nil {
		a.Close()
		return nil, err
	}
	a.handler = a.routes(auth)
	return a, nil
}

// routes builds the route table:
//
//	GET /healthz    no guard               ok
//	GET /me         authenticated          the session as JSON (IActiveSession)
//	GET /admin      role owner             {"ok":true}
//	GET /templates  template:member:read   {"ok":true}
//	GET /billing    plan org:standard      {"ok":true}
//	GET /documents  scope documents:read   {"ok":true}
//	GET /hello      optional               {"authenticated":false} or {"authenticated":true,"email":"…"}
//
// and in development mode the issuer's discovery document and JWK set under
// /.well-known/.
func (a *app) routes(auth *middleware.Authenticator) http.Handler {
	r := chi.NewRouter()
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found"})
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed"})
	})

	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	if a.issuer != nil {
		r.Get(devDiscoveryPath, a.issuer.Handler().ServeHTTP)
		r.Get(devJWKSPath, a.issuer.Handler().ServeHTTP)
	}

	// Optional authentication: no token is anonymous, an invalid token is
	// refused (401), never treated as anonymous.
	r.With(noStore, auth.Optional).Get("/hello", hello)

	r.Group(func(r chi.Router) {
		r.Use(noStore, auth.Handler)
		r.Get("/me", me)
		r.With(middleware.RequireRole(session.RoleOwner)).Get("/admin", okJSON)
		r.With(middleware.RequirePermission(session.PermTemplateMemberRead)).Get("/templates", okJSON)
		r.With(middleware.RequirePlan(session.PlanOrgStandard)).Get("/billing", okJSON)
		r.With(middleware.RequireScope(documentsScope)).Get("/documents", okJSON)
	})
	return r
}

// start fetches the key sets, all at once, waiting at most
// keysStartTimeout. The handler must already be served at the issuer URL in
// development mode. A failure is logged, not fatal: the set keeps retrying
// in the background, and that issuer's tokens are answered 503 until it has
// keys.
func (a *app) start(ctx context.Context, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, keysStartTimeout)
	defer cancel()
	errs := make([]error, len(a.keys))
	var wg sync.WaitGroup
	for i, k := range a.keys {
		wg.Go(func() { errs[i] = k.set.Start(ctx) })
	}
	wg.Wait()
	for i, k := range a.keys {
		if errs[i] != nil {
			logger.Warn("key set not loaded yet; its tokens are answered 503 until it is, retrying in the background", "issuer", k.issuer, "error", errs[i])
			continue
		}
		logger.Info("key set loaded", "issuer", k.issuer, "keys", k.set.Stats().Keys)
	}
}

// Close stops the key sets' background work and closes the development
// issuer. It is idempotent.
func (a *app) Close() {
	for _, k := range a.keys {
		k.set.Close()
	}
	if a.issuer != nil {
		a.issuer.Close()
	}
}

// noStore marks answers that depend on the caller's token as not to be
// stored by caches (the middleware's error answers already are).
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func me(w http.ResponseWriter, r *http.Request) {
	s, ok := session.FromContext(r.Context())
	if !ok { // unreachable behind auth.Handler; fail closed anyway
		middleware.WriteError(w, middleware.ErrNoToken, "")
		return
	}
	writeJSON(w, http.StatusOK, s)
}

func okJSON(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		OK bool `json:"ok"`
	}{true})
}

func hello(w http.ResponseWriter, r *http.Request) {
	if s, ok := session.FromContext(r.Context()); ok {
		writeJSON(w, http.StatusOK, struct {
			Authenticated bool   `json:"authenticated"`
			Email         string `json:"email"`
		}{true, s.Email})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Authenticated bool `json:"authenticated"`
	}{false})
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":"internal"}` + "\n"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
