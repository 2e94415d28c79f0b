package middleware

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sessiongate/sessiongate/jwks"
)

// Categories of failure. Every error the middleware produces (and hands to
// [Hooks.OnRejected] and the error handler) wraps exactly one of them, and
// [WriteError] answers by category.
var (
	// ErrNoToken: the request carries no bearer token. 401 without an
	// error code (RFC 6750 §3.1).
	ErrNoToken = errors.New("middleware: no bearer token")
	// ErrInvalidRequest: the request is malformed (several Authorization
	// headers, a token in two places, a broken Authorization header).
	// 400 invalid_request.
	ErrInvalidRequest = errors.New("middleware: invalid request")
	// ErrInvalidToken: a token was presented and rejected. 401
	// invalid_token. A more specific reason is wrapped beside it.
	ErrInvalidToken = errors.New("middleware: invalid token")
	// ErrInsufficientScope: a guard refused the session. 403
	// insufficient_scope.
	ErrInsufficientScope = errors.New("middleware: insufficient scope")
	// ErrUnavailable: no usable key set (jwks.ErrUnavailable). 503 with
	// Retry-After.
	ErrUnavailable = jwks.ErrUnavailable
)

// Specific reasons a token is rejected; each comes wrapped together with
// ErrInvalidToken. Failures of the token's form, header and signature wrap the
// internal/jws sentinels and are reported with their own safe descriptions.
var (
	ErrExpired        = errors.New("middleware: token expired")
	ErrNotYetValid    = errors.New("middleware: token not yet valid")
	ErrIssuedInFuture = errors.New("middleware: token issued in the future")
	ErrLifetime       = errors.New("middleware: token lifetime too long")
	ErrMissingClaim   = errors.New("middleware: required claim missing")
	ErrIssuer         = errors.New("middleware: issuer not allowed")
	ErrAudience       = errors.New("middleware: audience not allowed")
	ErrKeyIssuer      = errors.New("middleware: key belongs to another issuer")
	ErrKind           = errors.New("middleware: token kind not accepted")
	// ErrSenderConstrained: the token carries a cnf claim (it is bound to a
	// key: DPoP or mTLS) and was presented as a plain bearer token.
	ErrSenderConstrained = errors.New("middleware: token is sender-constrained")
	ErrClaims            = errors.New("middleware: claims invalid")
	ErrUnknownKey        = errors.New("middleware: unknown signing key")
	ErrTooManyHeaders    = errors.New("middleware: several Authorization headers")
	ErrSeveralTokens     = errors.New("middleware: token sent in more than one place")
	ErrMalformedHeader   = errors.New("middleware: malformed Authorization header")
)

// Error is the error value the middleware reports: a category (one of the
// Err* categories above), a specific cause, and the short, client-safe
// description written in error_description. errors.Is matches both the
// category and the cause.
type Error struct {
	// Category is ErrNoToken, ErrInvalidRequest, ErrInvalidToken,
	// ErrInsufficientScope or ErrUnavailable.
	Category error
	// Cause is the specific reason (may equal Category).
	Cause error
	// Description is safe to show a client ("token expired"); it never holds
	// token contents, key material or internal error text.
	Description string
	// Scope names what a guard required (insufficient_scope only).
	Scope string
	// RetryAfter is the suggested wait (ErrUnavailable only).
	RetryAfter time.Duration
}

// Error implements error. The text may hold internal detail from Cause: log
// it, do not send it to clients (use Description).
func (e *Error) Error() string {
	if e.Cause != nil && e.Cause != e.Category {
		return e.Category.Error() + ": " + e.Cause.Error()
	}
	return e.Category.Error()
}

// Unwrap returns the category and the cause.
func (e *Error) Unwrap() []error {
	if e.Cause == nil || e.Cause == e.Category {
		return []error{e.Category}
	}
	return []error{e.Category, e.Cause}
}

// Status returns the HTTP status for the error's category.
func (e *Error) Status() int {
	switch e.Category {
	case ErrNoToken, ErrInvalidToken:
		return http.StatusUnauthorized
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
	switch e.Category {
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

// tokenError is a rejected token with a client-safe description.
func tokenError(cause error, desc string) *Error {
	return &Error{Category: ErrInvalidToken, Cause: cause, Description: desc}
}

// ErrorHandler writes the answer to a request the middleware or a guard
// refused. err is always an *Error.
type ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

// WriteError is the default error handler: the one place that maps an error
// to an HTTP answer. It sets the status, the RFC 6750 WWW-Authenticate
// challenge (not for 503), Retry-After for 503, Cache-Control: no-store, and
// writes a JSON body {"error": …, "error_description": …}. Only the error's
// category and safe Description reach the client. realm may be "".
func WriteError(w http.ResponseWriter, err error, realm string) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Category: ErrInvalidToken, Cause: err, Description: "token rejected"}
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
