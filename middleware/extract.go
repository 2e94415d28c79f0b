package middleware

import (
	"net/http"
	"strings"
)

// An Extractor finds a token in a request. It returns "" and a nil error
// when the request carries no token its way, and an error wrapping
// ErrInvalidRequest (an *Error, or any error, which is then reported as
// ErrInvalidRequest) when what it found is malformed. The authenticator runs
// every extractor and refuses a request in which more than one found a token
// (RFC 6750 §2: one method per request).
type Extractor func(r *http.Request) (string, error)

// FromAuthorizationHeader reads "Authorization: Bearer <token>". The scheme
// is matched case-insensitively (RFC 7235) and may be followed by one or more
// spaces. Several Authorization header fields or a Bearer scheme without a
// token are malformed (400); the Authenticator also refuses a token with
// white space inside with 400. A header
// with another scheme (Basic …) carries no bearer token.
func FromAuthorizationHeader(r *http.Request) (string, error) {
	values := r.Header["Authorization"]
	switch len(values) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", refuse(ErrTooManyHeaders, nil)
	}
	v := values[0]
	const scheme = "Bearer"
	if len(v) < len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", nil // another scheme: no bearer token
	}
	rest := v[len(scheme):]
	if rest == "" || rest[0] != ' ' {
		// "Bearer" alone, "Bearer\ttoken", "Bearertoken".
		return "", refuse(ErrMalformedHeader, nil)
	}
	token := strings.TrimLeft(rest, " ")
	// White space inside the token is refused with 400 too, but by the
	// Authenticator on a cache miss (a cached token is known to hold none),
	// which keeps the hot path free of a scan of the whole token.
	if token == "" {
		return "", refuse(ErrMalformedHeader, nil)
	}
	return token, nil
}

// FromCookie returns an extractor reading the token from the cookie name.
// Two cookies of that name are malformed (400).
func FromCookie(name string) Extractor {
	return func(r *http.Request) (string, error) {
		if len(r.Header["Cookie"]) == 0 {
			return "", nil
		}
		cookies := r.CookiesNamed(name)
		switch len(cookies) {
		case 0:
			return "", nil
		case 1:
			if cookies[0].Value == "" {
				return "", nil
			}
			return cookies[0].Value, nil
		}
		return "", &Error{Reason: ErrSeveralTokens, Description: "several token cookies"}
	}
}

// FromQuery returns an extractor reading the token from the URL query
// parameter name. Tokens in URLs end up in logs and browser history (RFC 6750
// §2.3 discourages it): enable it only where a client can do nothing else.
// Two parameters of that name are malformed (400).
//
// The query is read as net/url reads it (r.URL.Query()), so the extractor
// finds exactly the parameter that a handler, proxy or log sees, also when
// its name is percent-encoded ("?%74oken=…"). A query without the name and
// without any '%' or '+' is skipped without parsing.
func FromQuery(name string) Extractor {
	return func(r *http.Request) (string, error) {
		if r.URL == nil || r.URL.RawQuery == "" {
			return "", nil
		}
		if q := r.URL.RawQuery; !strings.Contains(q, name) && !strings.ContainsAny(q, "%+") {
			return "", nil
		}
		values := r.URL.Query()[name]
		switch len(values) {
		case 0:
			return "", nil
		case 1:
			return values[0], nil
		}
		return "", &Error{Reason: ErrSeveralTokens, Description: "several token query parameters"}
	}
}

// hasSpace reports whether s holds a space, tab, CR or LF (four vectorised
// IndexByte passes).
func hasSpace(s string) bool {
	return strings.IndexByte(s, ' ') >= 0 || strings.IndexByte(s, '\t') >= 0 ||
		strings.IndexByte(s, '\r') >= 0 || strings.IndexByte(s, '\n') >= 0
}
