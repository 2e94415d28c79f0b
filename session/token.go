package session

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Errors returned by [Decoder.Decode]. Every decode error wraps one of them;
// a *[ClaimError] also names the claim.
var (
	// ErrMalformed reports a payload that is not one strict JSON object:
	// invalid JSON, duplicate member names, invalid UTF-8, trailing data or
	// nesting that is too deep; or member names that encoding/json would
	// match differently than the decoder does (then ErrFoldedName too).
	ErrMalformed = errors.New("session: malformed claims")
	// ErrFoldedName reports member names that encoding/json, and so
	// [Token.Claims], would match to another name than the decoder does: two
	// names in one object that are equal under case folding ("sub" and
	// "SUB", or "sub" and "ſub" with U+017F), or a name that folds to a
	// claim or field name the decoder reads without being spelt exactly as
	// it ("Exp", "https://verdocs.com/Profile", "ID" inside profile). It
	// always comes with ErrMalformed: errors.Is reports both.
	ErrFoldedName = errors.New("session: member names equal under case folding")
	// ErrClaimType reports a claim (or a field inside one) of the wrong JSON
	// type.
	ErrClaimType = errors.New("session: claim has the wrong type")
	// ErrClaimRange reports a NumericDate outside ±2^53 seconds.
	ErrClaimRange = errors.New("session: claim out of range")
	// ErrClaimValue reports a claim of the right JSON type whose value is
	// refused: a session_type other than "user" or "signing", an empty
	// document_id, envelope_id or session_type, or session_type "user" in
	// a token that carries document_id or envelope_id; scope and scp that
	// disagree, or an scp item holding a space; a mapped path that matches
	// two members (see [Decoder]).
	ErrClaimValue = errors.New("session: claim value refused")
	// ErrClaimMissing reports a claim the [Decoder] was told to read (a
	// mapped path, see Claim mapping there) that the token does not have,
	// or has as null.
	ErrClaimMissing = errors.New("session: claim missing")
)

// ClaimError names the claim that failed to decode. It wraps ErrClaimType,
// ErrClaimRange, ErrClaimValue or ErrClaimMissing.
type ClaimError struct {
	// Claim is the claim's name as the token spelt it; for a mapped claim,
	// the path the Decoder was given ("realm_access.roles").
	Claim string
	// Field is the path inside the claim ("organization.name"), or "".
	Field string
	// Want is the JSON type expected ("string", "number" …), or for
	// ErrClaimValue the value expected (`"user" or "signing"`); "" for
	// ErrClaimMissing.
	Want string
	// Err is ErrClaimType, ErrClaimRange, ErrClaimValue or
	// ErrClaimMissing.
	Err error
}

// Error implements error.
func (e *ClaimError) Error() string {
	var b strings.Builder
	b.WriteString("session: claim ")
	b.WriteString(strconv.Quote(e.Claim))
	if e.Field != "" {
		b.WriteString(" field ")
		b.WriteString(e.Field)
	}
	switch {
	case errors.Is(e.Err, ErrClaimRange):
		b.WriteString(": out of range")
	case errors.Is(e.Err, ErrClaimMissing):
		b.WriteString(": missing")
	default:
		b.WriteString(": want ")
		b.WriteString(e.Want)
	}
	return b.String()
}

// Unwrap returns ErrClaimType, ErrClaimRange, ErrClaimValue or
// ErrClaimMissing.
func (e *ClaimError) Unwrap() error { return e.Err }

// Kind tells which session a token payload holds.
type Kind uint8

// The kinds of session a payload can hold.
const (
	// KindActive is an access token for a signed-in user: [ActiveSession].
	// It is any token that is not a signing session (see [KindSigning]);
	// 6.x user tokens say so with session_type "user".
	KindActive Kind = iota + 1
	// KindSigning is a signing-session token: [SigningSession]. A token is
	// one when its session_type is "signing" (6.x), or when it has no
	// session_type but carries document_id (1.0.x) or envelope_id (6.x).
	KindSigning
)

// String returns "active" or "signing".
func (k Kind) String() string {
	switch k {
	case KindActive:
		return "active"
	case KindSigning:
		return "signing"
	}
	return "unknown"
}

// ClaimSet is a set of registered claims, used to tell which were present.
type ClaimSet uint8

// Registered claims, as members of a ClaimSet.
const (
	ClaimIss ClaimSet = 1 << iota
	ClaimSub
	ClaimAud
	ClaimExp
	ClaimNbf
	ClaimIat
	ClaimJti
	// ClaimCnf is the RFC 7800 confirmation claim (cnf: a DPoP "jkt" or an
	// mTLS "x5t#S256" key binding). The decoder only records its presence:
	// it must be a JSON object (anything else, null included, is a
	// *[ClaimError] wrapping ErrClaimType), and a verifier that does not
	// check the binding should refuse a token that has it.
	ClaimCnf
)

// Registered holds the RFC 7519 registered claims of a token. Present tells
// which claims the token carried; a claim given as null counts as absent
// (except cnf, which may not be null).
//
// The int64 NumericDate fields are whole seconds since the Unix epoch,
// rounded down (1700000000.9 gives 1700000000; -1.5 gives -2), as the
// session types carry them. Compare instants with [Registered.ExpiresAtTime],
// [Registered.NotBeforeTime] and [Registered.IssuedAtTime], which keep the
// fraction: a rounded-down nbf or iat would let a token be used up to a
// second early, and a rounded-down exp end it up to a second early.
type Registered struct {
	Issuer    string   // iss
	Subject   string   // sub
	Audience  Audience // aud, one or several
	ExpiresAt int64    // exp, whole seconds since the Unix epoch (rounded down)
	NotBefore int64    // nbf, whole seconds since the Unix epoch (rounded down)
	IssuedAt  int64    // iat, whole seconds since the Unix epoch (rounded down)
	ID        string   // jti
	Present   ClaimSet // which of the above (and cnf) the token carried

	// The fractions of a second the int64 fields rounded down, in
	// nanoseconds [0, 1e9): zero for integer NumericDates, so a Registered
	// built by hand with whole seconds equals a decoded one.
	expNsec, nbfNsec, iatNsec int32
}

// Has reports whether all claims in c were present.
func (r *Registered) Has(c ClaimSet) bool { return r.Present&c == c }

// ExpiresAtTime returns the instant of exp, with its fraction of a second
// (rounded down to the nanosecond), or the zero Time when the token has no
// exp (or r is nil). Values are saturated at ±2^53 seconds, far inside
// time.Time's range (decoded values never exceed it).
func (r *Registered) ExpiresAtTime() time.Time {
	if r == nil {
		return time.Time{}
	}
	return r.instant(ClaimExp, r.ExpiresAt, r.expNsec)
}

// NotBeforeTime returns the instant of nbf, as [Registered.ExpiresAtTime]
// does for exp (the zero Time when the token has no nbf).
func (r *Registered) NotBeforeTime() time.Time {
	if r == nil {
		return time.Time{}
	}
	return r.instant(ClaimNbf, r.NotBefore, r.nbfNsec)
}

// IssuedAtTime returns the instant of iat, as [Registered.ExpiresAtTime]
// does for exp (the zero Time when the token has no iat).
func (r *Registered) IssuedAtTime() time.Time {
	if r == nil {
		return time.Time{}
	}
	return r.instant(ClaimIat, r.IssuedAt, r.iatNsec)
}

func (r *Registered) instant(bit ClaimSet, sec int64, nsec int32) time.Time {
	switch {
	case r.Present&bit == 0:
		return time.Time{}
	case sec >= maxNumericDate:
		sec, nsec = maxNumericDate, 0
	case sec < -maxNumericDate:
		sec, nsec = -maxNumericDate, 0
	}
	return time.Unix(sec, int64(nsec))
}

// Token is a decoded token payload: the session it holds, its registered
// claims, and the raw claims for anything else. A Token in a request
// context ([NewTokenContext]) is that request's own copy.
type Token struct {
	// Kind tells whether Active or Signing holds the session.
	Kind Kind
	// Active is the session when Kind is KindActive.
	Active ActiveSession
	// Signing is the session when Kind is KindSigning.
	Signing SigningSession
	// Registered are the registered claims (iss, sub, aud, exp, nbf, iat,
	// jti, and the presence of cnf).
	Registered Registered
	// Scopes are the OAuth scopes of the scope and scp claims, nil when
	// the token has none (see Scopes at [Decoder]).
	Scopes []string
	// Raw is the compact token the claims came from, when the decoder's
	// caller set it (the middleware does); Decode leaves it empty.
	Raw string

	payload  string
	captured []string // name, raw value, … of the claims in Decoder.Capture
}

// Claims decodes the raw claims JSON into v with encoding/json: the escape
// hatch for claims the session does not model. Claim names are as in the
// token (namespaced names keep their prefix).
//
// encoding/json matches member names to struct fields case-insensitively
// (with Unicode folding: "SUB", "Sub" and "ſub" all fill a `json:"sub"`
// field) and lets the last match win, where the decoder compares names
// exactly. So that both see the same claims, the decoder refuses
// (ErrMalformed with ErrFoldedName) a payload with two member names in one
// object, at any level, that are equal under that folding, and a member
// whose name folds to a claim or field name the decoder reads without being
// spelt as it. Every member Claims can put into a field is therefore the
// one the decoder read, or one the decoder does not read at all.
func (t *Token) Claims(v any) error {
	return json.Unmarshal([]byte(t.payload), v)
}

// Claim returns the raw JSON value of a top-level claim that the
// [Decoder] captured (see its Capture field), as the token spelt it: a
// string keeps its quotes and escapes (`"web-client"`). A claim given as
// null is present, with the value null. It reports false for a claim that
// the token does not have or that was not captured. The value is a copy:
// changing it changes nothing in t.
func (t *Token) Claim(name string) (json.RawMessage, bool) {
	for i := 0; i+1 < len(t.captured); i += 2 {
		if t.captured[i] == name {
			return json.RawMessage(t.captured[i+1]), true
		}
	}
	return nil, false
}

// Payload returns the claims JSON as it was decoded.
func (t *Token) Payload() string { return t.payload }
