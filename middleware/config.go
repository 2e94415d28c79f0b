package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/session"
)

// Defaults for zero fields of [Config].
const (
	DefaultLeeway       = 30 * time.Second
	DefaultMaxLifetime  = 24 * time.Hour
	DefaultMaxTokenSize = 16 << 10
	DefaultCacheSize    = 10_000
	DefaultCacheBytes   = 64 << 20
)

// DefaultAlgorithms are the algorithms accepted when Config.Algorithms is
// empty: asymmetric signatures only. "EdDSA" and "Ed25519" (RFC 9864's
// fully-specified name) both mean Ed25519; Ed448 is not supported.
func DefaultAlgorithms() []string {
	return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}
}

// KeySource looks up the key for a token's kid and alg. *jwks.Set is one.
// It returns a key that may verify alg (see [jwks.Key.Fits]), or an error
// wrapping jwks.ErrKeyNotFound, jwks.ErrAlgMismatch, jwks.ErrAmbiguousKey or
// jwks.ErrUnavailable. It must return the same *jwks.Key for as long as the
// key stays in the set: the verified-token cache compares pointers to drop
// tokens whose key has left.
type KeySource interface {
	Key(ctx context.Context, kid, alg string) (*jwks.Key, error)
}

// Config configures an [Authenticator]. Keys, Issuers and Audiences are
// required; every other zero field means the default written on it.
type Config struct {
	// Keys is where verification keys come from, usually a *jwks.Set.
	// Required.
	Keys KeySource

	// Issuers are the accepted "iss" values, compared exactly (a trailing
	// slash matters). Required unless Insecure.SkipIssuerCheck. A key whose
	// source names an issuer (jwks.Key.Issuer) only verifies tokens of that
	// issuer, whatever this list says.
	Issuers []string

	// Audiences are the accepted audiences: the token's "aud" (a string or
	// an array) must contain at least one. Required unless
	// Insecure.SkipAudienceCheck.
	Audiences []string

	// Algorithms are the accepted JWA algorithms. Default:
	// [DefaultAlgorithms] (RS256/384/512, PS256/384/512, ES256/384/512,
	// EdDSA, Ed25519). "none" and HS* are refused: keys come from a public
	// key set. The token's alg is compared exactly: listing "EdDSA" does not
	// accept tokens naming "Ed25519", nor the other way round (a key whose
	// JWK says either verifies both). Ed448 is not supported.
	Algorithms []string

	// Token holds the rules for the token itself (leeway, lifetime, size,
	// typ, claims namespace).
	Token TokenRules

	// Extractors find the token in a request; all are tried, and a token
	// found by more than one is a 400. Default: [FromAuthorizationHeader]
	// only. Add [FromCookie] for server-rendered apps; [FromQuery] only if
	// nothing else is possible.
	Extractors []Extractor

	// Cache configures the verified-token cache (on by default).
	Cache CacheConfig

	// Now is the clock. Default: time.Now.
	Now func() time.Time

	// Logger receives a Debug record for every rejection, with the reason
	// (never the token). Default: nil, which discards.
	Logger *slog.Logger

	// Hooks observe outcomes and may replace the error answer.
	Hooks Hooks

	// Realm is the realm written in WWW-Authenticate challenges. Default:
	// none.
	Realm string

	// AllowSigningSessions accepts document-signing tokens (payloads with
	// document_id, see session.SigningSession). Default: false — such tokens
	// are rejected ("token kind not accepted"), so a signing invitation never
	// opens routes meant for signed-in users.
	AllowSigningSessions bool

	// Insecure switches off required checks. Each one is a hole; they exist
	// for tokens of identity providers that omit the claim.
	Insecure InsecureOptions
}

// TokenRules are the rules for a token's form and time claims.
type TokenRules struct {
	// Leeway is the clock skew allowed for exp, nbf and iat. Default: 30 s.
	// A negative value means none.
	Leeway time.Duration
	// MaxLifetime bounds a token's lifetime: exp − iat (exp − now when the
	// token has no iat) must be at most MaxLifetime + Leeway. Default: 24 h.
	MaxLifetime time.Duration
	// MaxSize bounds the compact token, in bytes, checked before any
	// decoding. Default: 16 KiB.
	MaxSize int
	// Typ, when set, is the required "typ" header (compared as RFC 7515
	// says: case-insensitively, "application/" optional), e.g. "at+jwt" for
	// RFC 9068 access tokens. Default: not checked.
	Typ string
	// Namespace is the custom-claim prefix. Default: "https://verdocs.com/".
	Namespace string
}

// CacheConfig configures the verified-token cache. A hit skips signature
// verification and claims decoding, but exp and nbf are checked again on
// every hit and an entry whose key has left the key set is dropped at once.
// Each entry holds the token and its decoded session; the cache is bounded
// both by entries and by the bytes they hold (estimated per entry from the
// token and its decoded session), whichever is reached first. A token whose
// entry would take more than 1/16 of MaxBytes is verified on every request
// instead of being cached.
type CacheConfig struct {
	// Disabled turns the cache off.
	Disabled bool
	// Size bounds the entries. Default: 10,000.
	Size int
	// MaxBytes bounds the memory the entries hold. Default: 64 MiB.
	MaxBytes int
}

// Hooks observe outcomes. They run on the request's goroutine and must be
// fast; nil hooks are skipped.
type Hooks struct {
	// OnAuthenticated is called for every request that carries a valid
	// token, before the next handler, with the request as next sees it and
	// its own copy of the token (the one in r's context).
	OnAuthenticated func(r *http.Request, t *session.Token)
	// OnRejected is called for every refused request with the *Error (use
	// errors.Is for the reason), including requests without a token on
	// required routes and refusals by the Authenticator's guard methods
	// (a.RequireRole …; the package-level guards know no Authenticator).
	OnRejected func(r *http.Request, err error)
	// ErrorHandler writes the answer to a refused request. Default:
	// [WriteError] with Config.Realm.
	ErrorHandler ErrorHandler
}

// InsecureOptions are loudly named switches for checks that are on by
// default.
type InsecureOptions struct {
	// SkipIssuerCheck accepts tokens of any issuer. Keys bound to an issuer
	// still verify only that issuer's tokens.
	SkipIssuerCheck bool
	// SkipAudienceCheck accepts tokens for any audience, which lets a token
	// minted for another API of the same identity provider in.
	SkipAudienceCheck bool
	// AcceptBoundTokensAsBearer accepts tokens bound to a key (a cnf
	// claim: DPoP, RFC 9449, or an mTLS certificate, RFC 8705) presented as
	// plain bearer tokens, without any proof of possession. That throws the
	// binding away: a stolen bound token then works for whoever holds it.
	// Default: false, such tokens are refused ("token is sender-constrained").
	AcceptBoundTokensAsBearer bool
}

// ErrConfig reports a Config that New refuses.
var ErrConfig = errors.New("middleware: invalid configuration")

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
}
