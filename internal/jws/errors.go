package jws

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error returned by [Policy.ParseInto],
// [Verify] and [Policy.Validate] wraps exactly one of them, so callers can
// classify a rejection with errors.Is.
var (
	// ErrMalformed reports a token that is not one strict compact JWS:
	// wrong number of segments, an empty segment, a character outside the
	// base64url alphabet (padding, '+', '/', white space, CR/LF …), a
	// non-canonical encoding, a header that is not one strict JSON object
	// (duplicate names, invalid UTF-8, trailing data …), or a header
	// parameter of the wrong JSON type or length.
	ErrMalformed = errors.New("jws: malformed token")
	// ErrTooLarge reports a token longer than Policy.MaxTokenSize.
	ErrTooLarge = errors.New("jws: token too large")
	// ErrAlgNotAllowed reports a missing, unknown or forbidden "alg"
	// ("none" and HS* in any casing are always forbidden), or one that is
	// not in Policy.Algorithms. Verify also reports it for an alg it does
	// not implement.
	ErrAlgNotAllowed = errors.New("jws: algorithm not allowed")
	// ErrForbiddenHeader reports a header parameter that is never
	// accepted: crit, b64, cty, jku, jwk, x5u, x5c, zip or enc. The
	// *[Error] names it in Param.
	ErrForbiddenHeader = errors.New("jws: header parameter not allowed")
	// ErrTyp reports a "typ" header that is missing or differs from
	// Policy.Typ.
	ErrTyp = errors.New("jws: token type not allowed")
	// ErrKeyMismatch reports a key that does not fit the algorithm: another
	// key type or curve, an RSA key under 2048 bits, or an unusable key.
	ErrKeyMismatch = errors.New("jws: key does not fit algorithm")
	// ErrSignature reports a signature that does not verify, or that has
	// the wrong length or form for its algorithm.
	ErrSignature = errors.New("jws: signature invalid")
	// ErrInvalidPolicy reports a Policy that Validate refuses (for example
	// one that lists HS256 or none).
	ErrInvalidPolicy = errors.New("jws: invalid policy")
)

// Error is the type of every error this package returns. It wraps one of
// the sentinels (Err) and, for header JSON errors, the strictjson error that
// caused it (Cause).
//
// Error() is meant for logs: it holds the sentinel text and a fixed
// description of the problem, plus the name of a header parameter from a
// fixed set. It never contains bytes of the token, key material or
// attacker-chosen text. For the client use [Error.Reason].
type Error struct {
	// Err is the sentinel: ErrMalformed, ErrTooLarge, ErrAlgNotAllowed,
	// ErrForbiddenHeader, ErrTyp, ErrKeyMismatch, ErrSignature or
	// ErrInvalidPolicy.
	Err error
	// Param names the header parameter concerned ("alg", "kid", "typ",
	// "crit" …), or is empty.
	Param string
	// Detail says what exactly was wrong, in fixed words.
	Detail string
	// Cause is the underlying error (a *strictjson.Error, a crypto/*
	// error), or nil.
	Cause error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if e.Param != "" {
		b.WriteString(": ")
		b.WriteString(e.Param)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

// Unwrap returns the sentinel and, when there is one, the cause.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

func malformed(detail string) error { return &Error{Err: ErrMalformed, Detail: detail} }
