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

// KeySource looks up the key that may verify a token of issuer (the
// policy's [Issuer.Issuer], as written there: a template issuer is passed as
// its template) for the token's kid and alg. *jwks.Set is one. It returns a
// key that may verify alg (see [jwks.Key.Fits]), or an error wrapping
// jwks.ErrKeyNotFound, jwks.ErrAlgMismatch, jwks.ErrAmbiguousKey or
// jwks.ErrUnavailable. It must return the same *jwks.Key for as long as the
// key stays in the set: the verified-token cache compares pointers to drop
// tokens whose key has left.
type KeySource interface {
	Key(ctx context.Context, issuer, kid, alg string) (*jwks.Key, error)
}

// Config configures an [Authenticator] (and, through Issuers, a
// [Verifier]). Issuers is required; every other zero field means the
// default written on it.
type Config struct {
	// Issuers are the trusted issuers, each with its own policy. A token is
	// judged by the policy its (unverified) iss selects, and only that
	// policy's key source may supply its key; a token whose iss no policy
	// names is refused before any key lookup. Required.
	Issuers []Issuer

	// Extractors find the token in a request; all are tried, and a token
	// found by more than one is a 400. Default: [FromAuthorizationHeader]
	// only. Add [FromCookie] for server-rendered apps; [FromQuery] only if
	// nothing else is possible.
	Extractors []Extractor

	// Cache configures the verified-token cache (on by default).
	Cache CacheConfig

	// Logger receives a Debug record for every rejection, with the reason
	// (never the token). Default: nil, which discards.
	Logger *slog.Logger

	// Hooks observe outcomes and may replace the error answer.
	Hooks Hooks

	// Realm is the realm written in WWW-Authenticate challenges. Default:
	// none.
	Realm string
}

// Issuer is one trusted issuer's policy: everything that can differ between
// identity providers. Issuer, Keys and Audiences are required; every other
// zero field means the default written on it.
type Issuer struct {
	// Issuer is the iss this policy accepts, compared exactly (a trailing
	// slash matters). It may hold the path segment "{tenantid}" (once, as
	// a whole segment) for a multi-tenant provider such as Entra
	// ("https://login.microsoftonline.com/{tenantid}/v2.0"): it then matches
	// every iss that fills the segment with an allowed tenant (Tenants or
	// TenantAllowed), and a tid claim, when the token has one, must name
	// the same tenant. Required.
	Issuer string

	// Keys is where this issuer's keys come from, usually a *jwks.Set
	// (several policies may share one: keys are resolved per issuer).
	// Required.
	Keys KeySource

	// Audiences are the accepted audiences: the token's aud (a string or an
	// array) must contain at least one. Required unless
	// InsecureSkipAudienceCheck.
	Audiences []string

	// Algorithms are the accepted JWA algorithms, compared exactly.
	// Default: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384,
	// ES512, EdDSA and Ed25519 (RFC 9864). "none", HS* and Ed448 are never
	// accepted.
	Algorithms []string

	// Typ, when set, is the required typ header, compared as RFC 7515 says
	// (case-insensitively, "application/" optional), e.g. "at+jwt" for RFC
	// 9068 access tokens. Default: not checked.
	Typ string

	// Leeway is the clock skew allowed for exp, nbf and iat. Default: 30 s;
	// a negative value means none; at most 10 minutes.
	Leeway time.Duration

	// MaxLifetime bounds a token's lifetime: exp − iat (exp − now without
	// iat) must be at most MaxLifetime + Leeway. Default: 24 h.
	MaxLifetime time.Duration

	// Claims says where the session's claims come from. Default: Verdocs
	// claims, plain or under "https://verdocs.com/".
	Claims ClaimMap

	// Tenants are the tenant ids a template issuer accepts. Required (or
	// TenantAllowed) when Issuer holds "{tenantid}"; not allowed otherwise.
	Tenants []string

	// TenantAllowed, when set, decides the tenants of a template issuer
	// instead of (or besides) Tenants: a tenant is allowed when it is in
	// Tenants or TenantAllowed reports true.
	TenantAllowed func(tenant string) bool

	// Require are rules the token must pass at authentication time (401
	// invalid_token, before the token is cached), after every other check.
	Require []Rule

	// AllowSigningSessions accepts document-signing tokens (1.0.12
	// document_id, 6.x session_type "signing", see session.SigningSession).
	// Default: false — they are refused ("token kind not accepted"), so a
	// signing invitation never opens routes meant for signed-in users.
	AllowSigningSessions bool

	// InsecureSkipAudienceCheck accepts tokens for any audience, which lets
	// a token minted for another API of the same identity provider in.
	InsecureSkipAudienceCheck bool

	// InsecureAcceptBoundTokensAsBearer accepts tokens bound to a key (a
	// cnf claim: DPoP, RFC 9449, or an mTLS certificate, RFC 8705)
	// presented as plain bearer tokens, without any proof of possession.
	// That throws the binding away: a stolen bound token then works for
	// whoever holds it. Default: false, such tokens are refused ("token is
	// sender-constrained").
	InsecureAcceptBoundTokensAsBearer bool
}

// ClaimMap says where an issuer's tokens carry what the session needs. The
// zero value reads Verdocs claims, plain or under the namespace (the
// namespaced form winning whole). Roles, Permissions and Plans each name a
// claim or a dotted path into nested objects ("realm_access.roles"); see
// [session.Decoder] for the exact rules and the value forms accepted. A
// configured claim that a token lacks refuses the token.
type ClaimMap struct {
	// Namespace is the custom-claim prefix. Default: "https://verdocs.com/".
	Namespace string
	// NamespacedOnly reads custom claims only under Namespace: a plain
	// roles claim (which some providers let users set) never grants a
	// role.
	NamespacedOnly bool
	// Roles is where roles come from, e.g. "realm_access.roles" (Keycloak),
	// "roles" (Entra), "cognito:groups" (Cognito). Default: Verdocs roles.
	Roles string
	// Permissions is where permissions come from, e.g. "permissions"
	// (Auth0). Default: Verdocs permissions.
	Permissions string
	// Plans is where plans come from. Default: Verdocs plans.
	Plans string
}

// CacheConfig configures the verified-token cache. A hit skips signature
// verification and claims decoding, but exp and nbf are checked again on
// every hit and an entry whose key has left the key set is dropped at once.
// The cache is bounded by entries and by the bytes its entries hold
// (estimated per entry from the token and its decoded session), whichever
// is reached first; a token whose entry would take more than 1/16 of
// MaxBytes is verified on every request instead.
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
	// errors.Is for the reason, or the Reason field as a metrics label),
	// including requests without a token on required routes and refusals
	// by guards behind this authenticator.
	OnRejected func(r *http.Request, err error)
	// ErrorHandler writes the answer to a refused request; err is always
	// an *Error. Default: [WriteError] with Config.Realm.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// ErrConfig reports a Config that New or NewVerifier refuses.
var ErrConfig = errors.New("middleware: invalid configuration")

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
}
