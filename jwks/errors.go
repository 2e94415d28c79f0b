package jwks

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

var (
	// ErrKeyNotFound reports that the set holds no key with the requested
	// kid, also after at most one coalesced, rate-limited refetch; or, for a
	// token without kid, that no key fits its alg.
	ErrKeyNotFound = errors.New("jwks: key not found")

	// ErrAlgMismatch reports that a key with the requested kid exists but
	// does not fit the requested alg (see [Key.Fits]), or that the alg is not
	// a supported signature algorithm at all.
	ErrAlgMismatch = errors.New("jwks: key does not fit the token's alg")

	// ErrAmbiguousKey reports that the request matches more than one key: a
	// token without kid while several keys fit its alg, or a kid that
	// several sources publish for the same alg.
	ErrAmbiguousKey = errors.New("jwks: ambiguous key")

	// ErrUnavailable reports that no usable key set is loaded: the first
	// fetch has not succeeded yet, or the last good set is older than
	// [Config.MaxStale]. It is returned inside an [*UnavailableError] that
	// carries a suggested Retry-After; an HTTP server answers 503, not 401.
	ErrUnavailable = errors.New("jwks: key set unavailable")

	// ErrClosed reports a call on a Set after [Set.Close].
	ErrClosed = errors.New("jwks: key set closed")

	// ErrInvalidConfig reports a [Config] that [New] refuses.
	ErrInvalidConfig = errors.New("jwks: invalid configuration")

	// ErrFetch reports that fetching a key set failed (transport error,
	// non-2xx status, oversized body, bad discovery document, or one whose
	// jwks_uri is not acceptable, such as http:// in a document fetched over
	// https). It is returned inside a [*FetchError].
	ErrFetch = errors.New("jwks: fetch failed")

	// ErrInvalidKeySet reports a body that is not a JWK set (a JSON object
	// with a "keys" array) or a set in which no key passed key hygiene.
	ErrInvalidKeySet = errors.New("jwks: invalid key set")
)

// UnavailableError is the error of a lookup while no usable key set is
// loaded. errors.Is(err, ErrUnavailable) is true for it.
type UnavailableError struct {
	// RetryAfter suggests when to try again (for an HTTP Retry-After
	// header); at least one second.
	RetryAfter time.Duration
	// Err is the last fetch error of the unusable source, if any.
	Err error
}

// Error implements error.
func (e *UnavailableError) Error() string {
	s := "jwks: key set unavailable (retry after " + e.RetryAfter.String() + ")"
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap returns the underlying fetch error.
func (e *UnavailableError) Unwrap() error { return e.Err }

// FetchError describes a failed fetch of a JWK set or of an OpenID Connect
// discovery document. errors.Is(err, ErrFetch) is true for it.
type FetchError struct {
	// URL is the URL that was requested.
	URL string
	// StatusCode is the HTTP status of the response, 0 when there was none.
	StatusCode int
	// Err is the cause (may be nil when StatusCode tells all).
	Err error
}

// Error implements error.
func (e *FetchError) Error() string {
	s := "jwks: fetch " + e.URL
	if e.StatusCode != 0 {
		s += ": status " + strconv.Itoa(e.StatusCode)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is ErrFetch.
func (e *FetchError) Is(target error) bool { return target == ErrFetch }

// Unwrap returns the cause.
func (e *FetchError) Unwrap() error { return e.Err }

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
}
