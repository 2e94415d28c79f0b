package middleware

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Reason says why a request or a token was refused. Every error the
// verifier, the authenticator and the guards produce is an *[Error] carrying
// one Reason, and a Reason is itself an error, so callers test for it with
// errors.Is:
//
//	errors.Is(err, middleware.ErrExpired)      // this reason
//	errors.Is(err, middleware.ErrInvalidToken) // any reason answered 401 invalid_token
//
// [Reason.String] is a short, stable label for metrics ("expired",
// "signature" …): a small fixed set, never token contents.
type Reason uint8

// The reasons. The categories (ErrNoToken, ErrInvalidRequest,
// ErrInvalidToken, ErrInsufficientScope, ErrUnavailable) decide the HTTP
// answer; every other reason belongs to one of them (see reasons below), and
// errors.Is matches an error against its reason and its category.
const (
	// ErrNoToken: the request carries no token. 401 without an error code
	// (RFC 6750 §3.1).
	ErrNoToken Reason = iota + 1
	// ErrInvalidRequest: the request is malformed. 400 invalid_request.
	ErrInvalidRequest
	// ErrInvalidToken: a token was presented and refused. 401
	// invalid_token.
	ErrInvalidToken
	// ErrInsufficientScope: a guard refused the session. 403
	// insufficient_scope.
	ErrInsufficientScope
	// ErrUnavailable: no usable key set (the error also matches
	// jwks.ErrUnavailable). 503 with Retry-After.
	ErrUnavailable

	// Invalid requests (400).

	ErrTooManyHeaders  // several Authorization header fields
	ErrSeveralTokens   // a token in more than one place
	ErrMalformedHeader // a broken Authorization header, white space inside a token

	// Invalid tokens (401): the token's form and header.

	ErrTooLarge        // longer than 16 KiB
	ErrMalformed       // not one strict compact JWS
	ErrAlgorithm       // alg missing, not supported, not allowed by the policy, or not the key's
	ErrForbiddenHeader // crit, jku, jwk, x5u, x5c, b64, cty, zip or enc present
	ErrTyp             // typ missing or not the policy's

	// Invalid tokens (401): the issuer and the key.

	ErrIssuer     // no policy for the token's iss (or no iss)
	ErrTenant     // a tenant the policy does not allow, or tid contradicting iss
	ErrUnknownKey // no key (or no unambiguous key) for kid and alg
	ErrSignature  // the signature does not verify

	// Invalid tokens (401): the claims.

	ErrClaims            // the payload: not strict JSON, a claim of the wrong type, a mapped claim missing
	ErrMissingClaim      // exp, iss or aud missing
	ErrExpired           // exp past (with leeway)
	ErrNotYetValid       // nbf or iat in the future (with leeway)
	ErrLifetime          // exp − iat above MaxLifetime + Leeway
	ErrAudience          // aud holds none of the policy's audiences
	ErrKind              // a signing session where they are not allowed
	ErrSenderConstrained // a token bound to a key (cnf) presented as a bearer token
	ErrRule              // one of the policy's rules refused the token

	numReasons = iota + 1
)

// reasonInfo is the one table of facts about each reason.
type reasonInfo struct {
	category Reason
	label    string // Reason.String, for metrics
	desc     string // the client-safe error_description
}

var reasons = [numReasons]reasonInfo{
	ErrNoToken:           {ErrNoToken, "no_token", "authentication required"},
	ErrInvalidRequest:    {ErrInvalidRequest, "invalid_request", "invalid request"},
	ErrInvalidToken:      {ErrInvalidToken, "invalid_token", "token rejected"},
	ErrInsufficientScope: {ErrInsufficientScope, "insufficient_scope", "insufficient scope"},
	ErrUnavailable:       {ErrUnavailable, "unavailable", "key set unavailable"},

	ErrTooManyHeaders:  {ErrInvalidRequest, "too_many_headers", "several Authorization headers"},
	ErrSeveralTokens:   {ErrInvalidRequest, "several_tokens", "token sent in more than one place"},
	ErrMalformedHeader: {ErrInvalidRequest, "malformed_header", "malformed Authorization header"},

	ErrTooLarge:        {ErrInvalidToken, "too_large", "token too large"},
	ErrMalformed:       {ErrInvalidToken, "malformed", "malformed token"},
	ErrAlgorithm:       {ErrInvalidToken, "algorithm", "algorithm not allowed"},
	ErrForbiddenHeader: {ErrInvalidToken, "forbidden_header", "header parameter not allowed"},
	ErrTyp:             {ErrInvalidToken, "typ", "token type not allowed"},

	ErrIssuer:     {ErrInvalidToken, "issuer", "issuer not allowed"},
	ErrTenant:     {ErrInvalidToken, "tenant", "tenant not allowed"},
	ErrUnknownKey: {ErrInvalidToken, "unknown_key", "unknown signing key"},
	ErrSignature:  {ErrInvalidToken, "signature", "signature invalid"},

	ErrClaims:            {ErrInvalidToken, "claims", "claims invalid"},
	ErrMissingClaim:      {ErrInvalidToken, "missing_claim", "required claim missing"},
	ErrExpired:           {ErrInvalidToken, "expired", "token expired"},
	ErrNotYetValid:       {ErrInvalidToken, "not_yet_valid", "token not yet valid"},
	ErrLifetime:          {ErrInvalidToken, "lifetime", "token lifetime too long"},
	ErrAudience:          {ErrInvalidToken, "audience", "audience not allowed"},
	ErrKind:              {ErrInvalidToken, "kind", "token kind not accepted"},
	ErrSenderConstrained: {ErrInvalidToken, "sender_constrained", "token is sender-constrained"},
	ErrRule:              {ErrInvalidToken, "rule", "token rejected by policy"},
}

func (r Reason) info() reasonInfo {
	if r == 0 || int(r) >= len(reasons) {
		return reasons[ErrInvalidToken]
	}
	return reasons[r]
}

// Error returns "middleware: " and the reason's default description.
func (r Reason) Error() string { return "middleware: " + r.info().desc }

// String returns the reason's label for metrics, e.g. "expired".
func (r Reason) String() string { return r.info().label }

// Error is the error value of every refusal: its Reason, the specific
// cause (a jwks or session error, or nil), and the short, client-safe
// description written in error_description. errors.Is matches the reason,
// its category, and the cause.
type Error struct {
	// Reason says why (one of the Err* reasons).
	Reason Reason
	// Cause is the underlying error (a jwks or session error), or nil. Its
	// text is for logs: it is never sent to a client.
	Cause error
	// Description is safe to show a client ("token expired"); it never
	// holds token contents, key material or internal error text.
	Description string
	// Scope names the OAuth scopes a scope guard required
	// (ErrInsufficientScope only).
	Scope string
	// RetryAfter is the suggested wait (ErrUnavailable only).
	RetryAfter time.Duration
}

// Error implements error. The text may hold internal detail from Cause: log
// it, do not send it to clients (use Description).
func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Reason.Error() + ": " + e.Cause.Error()
	}
	return e.Reason.Error()
}

// Unwrap returns the reason, its category and the cause, so errors.Is and
// errors.As see all three.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 3)
	errs = append(errs, e.Reason)
	if c := e.Reason.info().category; c != e.Reason {
		errs = append(errs, c)
	}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

// Status returns the HTTP status for the error's category.
func (e *Error) Status() int {
	switch e.Reason.info().category {
	case ErrInvalidRequest:
		return http.StatusBadRequest
	case ErrInsufficientScope:
		return http.StatusForbidden
	case ErrUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusUnauthorized
}

// code is the RFC 6750 / RFC 6749 error code, "" for a missing token.
func (e *Error) code() string {
	switch e.Reason.info().category {
	case ErrInvalidToken:
		return "invalid_token"
	case ErrInvalidRequest:
		return "invalid_request"
	case ErrInsufficientScope:
		return "insufficient_scope"
	case ErrUnavailable:
		return "temporarily_unavailable"
	}
	return ""
}

// refuse returns an *Error for reason with its default description.
func refuse(reason Reason, cause error) *Error {
	return &Error{Reason: reason, Cause: cause, Description: reason.info().desc}
}

// WriteError is the default error handler: the one place that maps an error
// to an HTTP answer. It sets the status, the RFC 6750 WWW-Authenticate
// challenge (not for 503), Retry-After for 503, Cache-Control: no-store, and
// writes a JSON body {"error": …, "error_description": …}. Only the error's
// category and safe Description reach the client. realm may be "".
func WriteError(w http.ResponseWriter, err error, realm string) {
	var e *Error
	if !errors.As(err, &e) {
		e = refuse(ErrInvalidToken, err)
	}
	h := w.Header()
	status := e.Status()
	code := e.code()
	if status != http.StatusServiceUnavailable {
		h.Set("WWW-Authenticate", challenge(realm, code, e.Description, e.Scope))
	} else {
		secs := int64((e.RetryAfter + time.Second - 1) / time.Second)
		if secs < 1 {
			secs = 1
		}
		h.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if code == "" {
		code = "unauthorized"
	}
	var b strings.Builder
	b.WriteString(`{"error":`)
	writeJSONString(&b, code)
	b.WriteString(`,"error_description":`)
	writeJSONString(&b, e.Description)
	if e.Scope != "" {
		b.WriteString(`,"scope":`)
		writeJSONString(&b, e.Scope)
	}
	b.WriteString("}\n")
	_, _ = w.Write([]byte(b.String()))
}

// challenge builds a Bearer challenge. Attribute values are RFC 7230
// quoted-strings: backslash and double quote are escaped, and characters a
// quoted-string cannot hold (controls other than tab, DEL) are dropped. RFC
// 6750 limits error_description and scope further (printable ASCII); the
// middleware's own descriptions comply.
func challenge(realm, code, desc, scope string) string {
	var b strings.Builder
	b.WriteString("Bearer")
	sep := " "
	attr := func(name, value string) {
		b.WriteString(sep)
		sep = ", "
		b.WriteString(name)
		b.WriteString(`="`)
		writeQuoted(&b, value)
		b.WriteByte('"')
	}
	if realm != "" {
		attr("realm", realm)
	}
	if code != "" {
		attr("error", code)
		if desc != "" {
			attr("error_description", desc)
		}
		if scope != "" {
			attr("scope", scope)
		}
	}
	return b.String()
}

func writeQuoted(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t' || (c >= 0x20 && c < 0x7f):
			b.WriteByte(c)
		default:
			// Controls, DEL and non-ASCII are left out: they could split
			// or confuse the header.
		}
	}
}

// writeJSONString writes s as a JSON string, escaping what JSON and HTML need.
func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
