package middleware

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/sessiongate/sessiongate/session"
)

// Defaults of the cache.
const (
	defaultCacheSize  = 10_000
	defaultCacheBytes = 64 << 20
)

// Authenticator is the HTTP adapter over a [Verifier]: it extracts each
// request's token, verifies it (through a verified-token cache), answers
// refusals (400/401/403/503, RFC 6750), and stores the request's own copy of
// the token in its context for handlers and guards. Create it with [New]; it
// is safe for concurrent use.
type Authenticator struct {
	v          *Verifier
	extractors []Extractor
	cache      *tokenCache // nil when disabled
	log        *slog.Logger
	hooks      Hooks
	onError    func(w http.ResponseWriter, r *http.Request, err error)
}

// New validates cfg and returns an Authenticator. It does no network I/O.
func New(cfg Config) (*Authenticator, error) {
	v, err := NewVerifier(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Cache.Size < 0 {
		return nil, configError("negative Cache.Size")
	}
	if cfg.Cache.MaxBytes < 0 {
		return nil, configError("negative Cache.MaxBytes")
	}
	a := &Authenticator{
		v:          v,
		extractors: slices.Clone(cfg.Extractors),
		log:        cfg.Logger,
		hooks:      cfg.Hooks,
		onError:    cfg.Hooks.ErrorHandler,
	}
	if len(a.extractors) == 0 {
		a.extractors = []Extractor{FromAuthorizationHeader}
	}
	for _, x := range a.extractors {
		if x == nil {
			return nil, configError("nil extractor")
		}
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.onError == nil {
		realm := cfg.Realm
		a.onError = func(w http.ResponseWriter, _ *http.Request, err error) { WriteError(w, err, realm) }
	}
	if !cfg.Cache.Disabled {
		size, maxBytes := cfg.Cache.Size, cfg.Cache.MaxBytes
		if size == 0 {
			size = defaultCacheSize
		}
		if maxBytes == 0 {
			maxBytes = defaultCacheBytes
		}
		a.cache = newTokenCache(size, maxBytes)
	}
	return a, nil
}

// Handler requires a valid token: a request without one is answered 401, a
// request with an invalid one 401 (400 if malformed, 503 if no key set is
// available); the rest reach next with the session in their context
// ([session.FromContext], [session.TokenFromContext]). Use it with chi's
// r.Use(a.Handler) or wrap any http.Handler.
func (a *Authenticator) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.serve(w, r, next, false)
	})
}

// Optional lets requests without a token through without a session; a token
// that is present must still be valid (an invalid one is answered as by
// Handler, never treated as anonymous).
func (a *Authenticator) Optional(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.serve(w, r, next, true)
	})
}

// authContextKey stores the Authenticator that let a request through, so
// guards answer with its error handler, hooks and log.
type authContextKey struct{}

func (a *Authenticator) serve(w http.ResponseWriter, r *http.Request, next http.Handler, optional bool) {
	raw, err := a.extract(r)
	if err == nil && raw == "" && !optional {
		err = refuse(ErrNoToken, nil)
	}
	if err != nil {
		a.reject(w, r, err)
		return
	}
	ctx := context.WithValue(r.Context(), authContextKey{}, a)
	if raw == "" { // optional, no token
		next.ServeHTTP(w, r.WithContext(ctx))
		return
	}
	tok, err := a.authenticate(ctx, raw, true)
	if err != nil {
		a.reject(w, r, err)
		return
	}
	// The request gets its own deep copy of the (possibly cached and
	// shared) token: what a handler changes stays in it.
	r = r.WithContext(session.NewTokenContext(ctx, tok))
	if a.hooks.OnAuthenticated != nil {
		tok, _ = session.TokenFromContext(r.Context())
		a.hooks.OnAuthenticated(r, tok)
	}
	next.ServeHTTP(w, r)
}

// reject logs a refusal at Debug, reports it to OnRejected and answers it.
func (a *Authenticator) reject(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	if a.log.Enabled(ctx, slog.LevelDebug) {
		var e *Error
		reason, desc := "", ""
		if errors.As(err, &e) {
			reason, desc = e.Reason.String(), e.Description
		}
		a.log.LogAttrs(ctx, slog.LevelDebug, "sessiongate: request rejected",
			slog.String("reason", reason), slog.String("description", desc), slog.String("error", err.Error()),
			slog.String("method", r.Method), slog.String("path", r.URL.Path))
	}
	if a.hooks.OnRejected != nil {
		a.hooks.OnRejected(r, err)
	}
	a.onError(w, r, err)
}

// extract runs every extractor; more than one token is a 400.
func (a *Authenticator) extract(r *http.Request) (string, error) {
	found := ""
	for _, x := range a.extractors {
		tok, err := x(r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				err = refuse(ErrInvalidRequest, err)
			}
			return "", err
		}
		if tok == "" {
			continue
		}
		if found != "" {
			return "", refuse(ErrSeveralTokens, nil)
		}
		found = tok
	}
	return found, nil
}

// Verify is [Verifier.Verify] through the authenticator's verified-token
// cache, for uses outside an HTTP middleware chain. The returned Token is
// the caller's own copy (see [session.Token.Clone]).
func (a *Authenticator) Verify(ctx context.Context, token string) (*session.Token, error) {
	tok, err := a.authenticate(ctx, token, false)
	if err != nil {
		return nil, err
	}
	return tok.Clone(), nil
}

// authenticate returns the shared token (cached, or about to be): callers
// must not change it or hand it out. A token extracted from an HTTP request
// (fromHTTP) with white space inside is a malformed request (400), which
// the HTTP extraction, not the verifier, decides; it is checked on a cache
// miss only, as a cached token is known to hold none.
func (a *Authenticator) authenticate(ctx context.Context, raw string, fromHTTP bool) (*session.Token, error) {
	now := time.Now()
	if a.cache != nil {
		if e := a.cache.get(raw); e != nil {
			pol := e.v.policy
			key, err := pol.keys.Key(ctx, pol.issuer, e.v.kid, e.v.alg)
			if err == nil && key == e.v.key {
				if err := pol.checkTime(&e.tok.Registered, now); err != nil {
					a.cache.remove(e)
					return nil, err
				}
				return e.tok, nil
			}
			// The key left the set (or the set is unusable): forget the
			// token and judge it afresh.
			a.cache.remove(e)
		}
	}
	if fromHTTP && hasSpace(raw) {
		return nil, refuse(ErrMalformedHeader, nil)
	}
	tok, v, err := a.v.verify(ctx, raw, now)
	if err != nil {
		return nil, err
	}
	if a.cache != nil {
		a.cache.put(&cacheEntry{raw: raw, tok: tok, v: v, cost: entryCost(raw, tok, len(v.policy.decoder.Capture))})
	}
	return tok, nil
}

// authFromContext returns the Authenticator that let the request through.
func authFromContext(ctx context.Context) *Authenticator {
	a, _ := ctx.Value(authContextKey{}).(*Authenticator)
	return a
}

// defaultRetry is the Retry-After of an unavailable key set that gave none.
const defaultRetry = 30 * time.Second
