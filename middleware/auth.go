package middleware

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/sessiongate/sessiongate/internal/jws"
	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/session"
)

// Authenticator verifies each request's token and stores its session in the
// request context. Create it with [New]; it is safe for concurrent use.
type Authenticator struct {
	keys         KeySource
	issuers      []string
	audiences    []string
	policy       jws.Policy
	decoder      session.Decoder
	leeway       time.Duration
	maxLifetime  time.Duration
	extractors   []Extractor
	cache        *tokenCache // nil when disabled
	now          func() time.Time
	log          *slog.Logger
	hooks        Hooks
	onError      ErrorHandler
	allowSigning bool
	acceptBound  bool
	skipIssuer   bool
	skipAudience bool
	guards       guards
	realm        string
}

// New validates cfg and returns an Authenticator. It does no network I/O.
func New(cfg Config) (*Authenticator, error) {
	if cfg.Keys == nil {
		return nil, configError("Keys is required")
	}
	if len(cfg.Issuers) == 0 && !cfg.Insecure.SkipIssuerCheck {
		return nil, configError("Issuers is required (or set Insecure.SkipIssuerCheck)")
	}
	for _, iss := range cfg.Issuers {
		if iss == "" {
			return nil, configError("empty issuer")
		}
	}
	if len(cfg.Audiences) == 0 && !cfg.Insecure.SkipAudienceCheck {
		return nil, configError("Audiences is required (or set Insecure.SkipAudienceCheck)")
	}
	for _, aud := range cfg.Audiences {
		if aud == "" {
			return nil, configError("empty audience")
		}
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = DefaultAlgorithms()
	}
	supported := DefaultAlgorithms()
	for _, alg := range algs {
		if !slices.Contains(supported, alg) {
			return nil, configError("algorithm %q is not supported (asymmetric JWS algorithms only)", alg)
		}
	}
	t := cfg.Token
	if t.Leeway == 0 {
		t.Leeway = DefaultLeeway
	} else if t.Leeway < 0 {
		t.Leeway = 0
	}
	if t.Leeway > 10*time.Minute {
		return nil, configError("Token.Leeway %v is more than 10 minutes", t.Leeway)
	}
	if t.MaxLifetime == 0 {
		t.MaxLifetime = DefaultMaxLifetime
	} else if t.MaxLifetime < 0 {
		return nil, configError("negative Token.MaxLifetime")
	}
	if t.MaxSize == 0 {
		t.MaxSize = DefaultMaxTokenSize
	} else if t.MaxSize < 0 {
		return nil, configError("negative Token.MaxSize")
	}
	if cfg.Cache.Size < 0 {
		return nil, configError("negative Cache.Size")
	}
	if cfg.Cache.MaxBytes < 0 {
		return nil, configError("negative Cache.MaxBytes")
	}
	a := &Authenticator{
		keys:         cfg.Keys,
		issuers:      slices.Clone(cfg.Issuers),
		audiences:    slices.Clone(cfg.Audiences),
		policy:       jws.Policy{Algorithms: slices.Clone(algs), MaxTokenSize: t.MaxSize, Typ: t.Typ},
		decoder:      session.Decoder{Namespace: t.Namespace},
		leeway:       t.Leeway,
		maxLifetime:  t.MaxLifetime,
		extractors:   slices.Clone(cfg.Extractors),
		now:          cfg.Now,
		log:          cfg.Logger,
		hooks:        cfg.Hooks,
		onError:      cfg.Hooks.ErrorHandler,
		allowSigning: cfg.AllowSigningSessions,
		acceptBound:  cfg.Insecure.AcceptBoundTokensAsBearer,
		skipIssuer:   cfg.Insecure.SkipIssuerCheck,
		skipAudience: cfg.Insecure.SkipAudienceCheck,
		realm:        cfg.Realm,
	}
	if err := a.policy.Validate(); err != nil {
		return nil, configError("%v", err)
	}
	if len(a.extractors) == 0 {
		a.extractors = []Extractor{FromAuthorizationHeader}
	}
	for _, x := range a.extractors {
		if x == nil {
			return nil, configError("nil extractor")
		}
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.onError == nil {
		realm := a.realm
		a.onError = func(w http.ResponseWriter, _ *http.Request, err error) { WriteError(w, err, realm) }
	}
	if !cfg.Cache.Disabled {
		size := cfg.Cache.Size
		if size == 0 {
			size = DefaultCacheSize
		}
		maxBytes := cfg.Cache.MaxBytes
		if maxBytes == 0 {
			maxBytes = DefaultCacheBytes
		}
		a.cache = newTokenCache(size, maxBytes)
	}
	// The authenticator's guards report like the authenticator: Debug log,
	// OnRejected, then the error handler.
	a.guards = guards{onError: a.reject}
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

func (a *Authenticator) serve(w http.ResponseWriter, r *http.Request, next http.Handler, optional bool) {
	raw, err := a.extract(r)
	if err == nil && raw == "" && !optional {
		err = &Error{Category: ErrNoToken, Cause: ErrNoToken, Description: "authentication required"}
	}
	if err == nil && raw != "" {
		var tok *session.Token
		if tok, err = a.authenticate(r.Context(), raw); err == nil {
			// The request gets its own deep copy of the (possibly cached
			// and shared) token: what a handler changes stays in it.
			r = r.WithContext(session.NewTokenContext(r.Context(), tok))
			if a.hooks.OnAuthenticated != nil {
				tok, _ = session.TokenFromContext(r.Context())
				a.hooks.OnAuthenticated(r, tok)
			}
			next.ServeHTTP(w, r)
			return
		}
	}
	if err != nil {
		a.reject(w, r, err)
		return
	}
	next.ServeHTTP(w, r) // optional, no token
}

func (a *Authenticator) reject(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	if a.log.Enabled(ctx, slog.LevelDebug) {
		var e *Error
		desc := ""
		if errors.As(err, &e) {
			desc = e.Description
		}
		a.log.LogAttrs(ctx, slog.LevelDebug, "sessiongate: request rejected",
			slog.String("reason", desc), slog.String("error", err.Error()),
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
				err = &Error{Category: ErrInvalidRequest, Cause: err, Description: "invalid request"}
			}
			return "", err
		}
		if tok == "" {
			continue
		}
		if found != "" {
			return "", requestError(ErrSeveralTokens, "token sent in more than one place")
		}
		found = tok
	}
	return found, nil
}

// Authenticate verifies a compact token and returns its decoded claims, for
// uses outside an HTTP middleware chain (a WebSocket upgrade, a gRPC
// interceptor). Errors are *Error values, as the middleware reports them.
// The returned Token is the caller's own copy (see [session.Token.Clone]):
// changing it changes nothing the authenticator keeps.
func (a *Authenticator) Authenticate(ctx context.Context, raw string) (*session.Token, error) {
	tok, err := a.authenticate(ctx, raw)
	if err != nil {
		return nil, err
	}
	return tok.Clone(), nil
}

// authenticate is Authenticate returning the shared token (cached, or about
// to be): callers must not change it or hand it out.
func (a *Authenticator) authenticate(ctx context.Context, raw string) (*session.Token, error) {
	now := a.now()
	if a.cache != nil {
		if e := a.cache.get(raw); e != nil {
			key, err := a.keys.Key(ctx, "", e.kid, e.alg)
			if err == nil && key == e.key {
				if err := a.checkTime(&e.tok.Registered, now); err != nil {
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
	if hasSpace(raw) {
		return nil, requestError(ErrMalformedHeader, "malformed Authorization header")
	}
	var p jws.Parsed
	tok, key, err := a.verify(ctx, raw, &p, now)
	if err != nil {
		return nil, err
	}
	if a.cache != nil {
		a.cache.put(&cacheEntry{raw: raw, tok: tok, key: key, kid: p.KID, alg: p.Alg, cost: entryCost(raw, tok)})
	}
	return tok, nil
}

// verify is the cold path, in the order written in the package
// documentation ("Order of checks"). Before any cryptography only the form
// and the header are checked (jws, strictly) and the three segments decoded:
// work bounded by the token's size and cheaper than the signature check, so
// a forged token costs the server no more than a genuine one. The payload is
// decoded strictly (one pass, into the session) only once the signature
// holds, then the claims' values are checked.
func (a *Authenticator) verify(ctx context.Context, raw string, p *jws.Parsed, now time.Time) (*session.Token, *jwks.Key, error) {
	if err := a.policy.ParseInto(raw, p); err != nil {
		return nil, nil, tokenError(err, jws.Reason(err))
	}
	key, err := a.checkSignature(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	tok := &session.Token{}
	if err := a.decoder.DecodeInto(tok, p.Payload); err != nil {
		return nil, nil, tokenError(errors.Join(ErrClaims, err), "claims invalid")
	}
	tok.Raw = raw
	if err := a.checkClaims(tok, key, now); err != nil {
		return nil, nil, err
	}
	return tok, key, nil
}

// checkSignature finds the key for the header's kid and alg and verifies the
// signature with that alg and key, both pinned by the configuration.
func (a *Authenticator) checkSignature(ctx context.Context, p *jws.Parsed) (*jwks.Key, error) {
	key, err := a.keys.Key(ctx, "", p.KID, p.Alg)
	if err != nil {
		return nil, keyError(err)
	}
	if !key.Fits(p.Alg) {
		return nil, tokenError(jwks.ErrAlgMismatch, "algorithm not allowed for key")
	}
	if err := jws.Verify(p.Alg, key.Public, p.SigningInput, p.Signature); err != nil {
		return nil, tokenError(err, jws.Reason(err))
	}
	return key, nil
}

// verifySignature is the signature layer alone (form, header, key,
// signature), with no claims: the Wycheproof JWS vectors, whose payloads are
// not JWT claims, run through it.
func (a *Authenticator) verifySignature(ctx context.Context, raw string) (*jwks.Key, error) {
	var p jws.Parsed
	if err := a.policy.ParseInto(raw, &p); err != nil {
		return nil, tokenError(err, jws.Reason(err))
	}
	return a.checkSignature(ctx, &p)
}

// checkTime checks exp, nbf and iat against now with leeway, to the
// nanosecond: a NumericDate's fraction counts (exp = now − 29.5 s is still
// valid with a 30 s leeway; nbf = now + 30.9 s is not yet). It runs on
// every request, cached or not.
func (a *Authenticator) checkTime(r *session.Registered, now time.Time) error {
	if !r.Has(session.ClaimExp) {
		return tokenError(ErrMissingClaim, "missing exp claim")
	}
	if exp := r.ExpiresAtTime(); r.ExpiresAt <= 0 || !now.Before(exp.Add(a.leeway)) {
		return tokenError(ErrExpired, "token expired")
	}
	if r.Has(session.ClaimNbf) && now.Add(a.leeway).Before(r.NotBeforeTime()) {
		return tokenError(ErrNotYetValid, "token not yet valid")
	}
	if r.Has(session.ClaimIat) && r.IssuedAtTime().After(now.Add(a.leeway)) {
		return tokenError(ErrIssuedInFuture, "token issued in the future")
	}
	return nil
}

// checkClaims checks everything about the claims once, before a token is
// cached.
func (a *Authenticator) checkClaims(tok *session.Token, key *jwks.Key, now time.Time) error {
	r := &tok.Registered
	if err := a.checkTime(r, now); err != nil {
		return err
	}
	start := now
	if r.Has(session.ClaimIat) {
		start = r.IssuedAtTime()
	}
	if r.ExpiresAtTime().Sub(start) > a.maxLifetime+a.leeway {
		return tokenError(ErrLifetime, "token lifetime too long")
	}
	if !a.skipIssuer {
		if !r.Has(session.ClaimIss) {
			return tokenError(ErrMissingClaim, "missing iss claim")
		}
		if !slices.Contains(a.issuers, r.Issuer) {
			return tokenError(ErrIssuer, "issuer not allowed")
		}
	}
	if key.Issuer != "" && key.Issuer != r.Issuer {
		return tokenError(ErrKeyIssuer, "issuer not allowed")
	}
	if !a.skipAudience {
		if len(r.Audience) == 0 {
			return tokenError(ErrMissingClaim, "missing aud claim")
		}
		ok := false
		for _, aud := range a.audiences {
			if r.Audience.Contains(aud) {
				ok = true
				break
			}
		}
		if !ok {
			return tokenError(ErrAudience, "audience not allowed")
		}
	}
	if tok.Kind == session.KindSigning && !a.allowSigning {
		return tokenError(ErrKind, "token kind not accepted")
	}
	// A token bound to a key (RFC 7800 cnf: DPoP jkt, RFC 9449; mTLS
	// x5t#S256, RFC 8705) is only as safe as the proof of possession that
	// goes with it. Without that proof it would be a bearer token again, so
	// it is refused until sender constraints are supported.
	if r.Has(session.ClaimCnf) && !a.acceptBound {
		return tokenError(ErrSenderConstrained, "token is sender-constrained")
	}
	return nil
}

// keyError maps a key-lookup failure: an unavailable key set is a 503, the
// rest are token errors.
func keyError(err error) error {
	var ue *jwks.UnavailableError
	if errors.As(err, &ue) {
		return &Error{Category: ErrUnavailable, Cause: err, Description: "key set unavailable", RetryAfter: ue.RetryAfter}
	}
	if errors.Is(err, jwks.ErrUnavailable) || errors.Is(err, jwks.ErrClosed) {
		return &Error{Category: ErrUnavailable, Cause: err, Description: "key set unavailable", RetryAfter: 30 * time.Second}
	}
	if errors.Is(err, jwks.ErrAlgMismatch) {
		return tokenError(errors.Join(ErrUnknownKey, err), "algorithm not allowed for key")
	}
	return tokenError(errors.Join(ErrUnknownKey, err), "unknown signing key")
}

// RequireRole is [RequireRole] answering with the authenticator's error
// handler and realm.
func (a *Authenticator) RequireRole(ids ...string) func(http.Handler) http.Handler {
	return a.guards.RequireRole(ids...)
}

// RequireAnyRole is [RequireAnyRole] with the authenticator's error handler.
func (a *Authenticator) RequireAnyRole(ids ...string) func(http.Handler) http.Handler {
	return a.guards.RequireAnyRole(ids...)
}

// RequirePermission is [RequirePermission] with the authenticator's error
// handler.
func (a *Authenticator) RequirePermission(ids ...string) func(http.Handler) http.Handler {
	return a.guards.RequirePermission(ids...)
}

// RequireAnyPermission is [RequireAnyPermission] with the authenticator's
// error handler.
func (a *Authenticator) RequireAnyPermission(ids ...string) func(http.Handler) http.Handler {
	return a.guards.RequireAnyPermission(ids...)
}

// RequirePlan is [RequirePlan] with the authenticator's error handler.
func (a *Authenticator) RequirePlan(plans ...session.Plan) func(http.Handler) http.Handler {
	return a.guards.RequirePlan(plans...)
}

// RequireAnyPlan is [RequireAnyPlan] with the authenticator's error handler.
func (a *Authenticator) RequireAnyPlan(plans ...session.Plan) func(http.Handler) http.Handler {
	return a.guards.RequireAnyPlan(plans...)
}

// Require is [Require] with the authenticator's error handler.
func (a *Authenticator) Require(ok func(*session.ActiveSession) bool) func(http.Handler) http.Handler {
	return a.guards.Require(ok)
}
