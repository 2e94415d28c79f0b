package jws

import (
	"strconv"
	"strings"

	"github.com/sessiongate/sessiongate/internal/jwa"
)

// Defaults applied by a zero Policy.
const (
	// DefaultMaxTokenSize is the largest compact token accepted when
	// Policy.MaxTokenSize is 0: 16 KiB.
	DefaultMaxTokenSize = 16 << 10
	// DefaultMaxKIDLength is the longest "kid" accepted when
	// Policy.MaxKIDLength is 0: 256 bytes.
	DefaultMaxKIDLength = 256
)

// Policy is the form and header policy that [Policy.ParseInto] enforces before
// any cryptography. The zero value (and a nil *Policy) applies the
// documented defaults.
//
// A Policy is read, never written, by Parse, so one value may be shared by
// any number of goroutines as long as nobody modifies it.
type Policy struct {
	// Algorithms lists the allowed JWA "alg" values, compared exactly
	// (case-sensitive). nil means every algorithm of the internal/jwa table. Only the algorithms
	// of the internal/jwa table can be allowed: "none", HS256/HS384/HS512 and
	// unknown names make [Policy.Validate] fail, and Parse never accepts
	// them whatever the list says. A non-nil empty list allows nothing
	// (Parse then rejects every token; Validate reports it).
	Algorithms []string
	// MaxTokenSize is the largest compact token accepted, in bytes,
	// checked before anything else. 0 (or a negative value, which Validate
	// reports) means [DefaultMaxTokenSize] (16 KiB).
	MaxTokenSize int
	// MaxKIDLength is the longest "kid" accepted, in bytes (after JSON
	// unescaping). 0 (or a negative value, which Validate reports) means
	// [DefaultMaxKIDLength] (256).
	MaxKIDLength int
	// Typ, when not empty, is the required "typ" header, e.g. "at+jwt"
	// (RFC 9068) or "JWT". It is compared as RFC 7515 §4.1.9 says:
	// case-insensitively, with the "application/" prefix implied when the
	// value has no '/', so "at+jwt" matches "application/at+JWT". A token
	// without "typ" is then rejected. "" means typ is not checked (it must
	// still be a string when present).
	Typ string
}

// Validate reports a Policy that cannot be used as written: an algorithm
// this package does not verify (including "none" and HS*, in any casing),
// an empty non-nil Algorithms, or a negative size. The error wraps
// ErrInvalidPolicy. Parse stays safe with an invalid Policy (it never
// accepts an algorithm outside the supported set), so Validate is for
// reporting configuration mistakes early, e.g. from a constructor.
func (p *Policy) Validate() error {
	if p == nil {
		return nil
	}
	if p.Algorithms != nil && len(p.Algorithms) == 0 {
		return &Error{Err: ErrInvalidPolicy, Detail: "Algorithms is empty (use nil for the defaults)"}
	}
	for _, a := range p.Algorithms {
		if jwa.Parse(a) == 0 {
			detail := "algorithm " + strconv.Quote(a) + " is not supported"
			if forbiddenAlg(a) {
				detail = "algorithm " + strconv.Quote(a) + " is never allowed"
			}
			return &Error{Err: ErrInvalidPolicy, Param: "alg", Detail: detail}
		}
	}
	if p.MaxTokenSize < 0 {
		return &Error{Err: ErrInvalidPolicy, Detail: "MaxTokenSize is negative"}
	}
	if p.MaxKIDLength < 0 {
		return &Error{Err: ErrInvalidPolicy, Detail: "MaxKIDLength is negative"}
	}
	if strings.TrimSpace(p.Typ) != p.Typ {
		return &Error{Err: ErrInvalidPolicy, Param: "typ", Detail: "Typ has surrounding white space"}
	}
	return nil
}

// forbiddenAlg reports "none" and HS* in any casing.
func forbiddenAlg(a string) bool {
	return strings.EqualFold(a, "none") || len(a) >= 2 && strings.EqualFold(a[:2], "HS")
}

func (p *Policy) maxTokenSize() int {
	if p == nil || p.MaxTokenSize <= 0 {
		return DefaultMaxTokenSize
	}
	return p.MaxTokenSize
}

func (p *Policy) maxKIDLength() int {
	if p == nil || p.MaxKIDLength <= 0 {
		return DefaultMaxKIDLength
	}
	return p.MaxKIDLength
}

// allowed reports whether the supported algorithm alg is allowed.
func (p *Policy) allowed(alg jwa.Alg) bool {
	if p == nil || p.Algorithms == nil {
		return alg != 0 // every supported algorithm is a default
	}
	name := alg.String()
	for _, a := range p.Algorithms {
		if a == name && name != "" {
			return true
		}
	}
	return false
}

// typMatches compares a token's typ with the policy's as RFC 7515 §4.1.9
// says: case-insensitively, "application/" implied when there is no '/'.
func typMatches(got []byte, want string) bool {
	return strings.EqualFold(mediaType(string(got)), mediaType(want))
}

// mediaType strips an "application/" prefix (any casing) when the rest has
// no '/', giving the short form both spellings share.
func mediaType(s string) string {
	const prefix = "application/"
	if len(s) > len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) && !strings.Contains(s[len(prefix):], "/") {
		return s[len(prefix):]
	}
	return s
}

// Admits applies the policy's algorithm allow-list and typ rule to a token
// that an other policy (one that allows every algorithm and any typ) has
// parsed: a caller that learns which policy applies only after the header
// (by the payload's issuer) parses once and admits once. It returns
// ErrAlgNotAllowed or ErrTyp errors as Parse would.
func (p *Policy) Admits(parsed *Parsed) error {
	if !p.allowed(jwa.Parse(parsed.Alg)) {
		return &Error{Err: ErrAlgNotAllowed, Param: "alg"}
	}
	if p != nil && p.Typ != "" {
		if parsed.Typ == "" {
			return &Error{Err: ErrTyp, Param: "typ", Detail: "missing"}
		}
		if !typMatches([]byte(parsed.Typ), p.Typ) {
			return &Error{Err: ErrTyp, Param: "typ"}
		}
	}
	return nil
}
