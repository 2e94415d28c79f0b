package jws

import (
	"strconv"
	"strings"
)

// The JWA algorithms (RFC 7518 §3, RFC 8037 §3.1, RFC 9864 §2) this
// package verifies. HMAC (HS*) and "none" are deliberately absent: a token
// signed with a shared secret, or not at all, is never accepted. Ed25519
// has two names, EdDSA and Ed25519, verified alike; a policy allows each
// name on its own. Ed448 is not supported (neither "Ed448" nor EdDSA with
// an Ed448 key).
const (
	RS256   = "RS256"   // RSASSA-PKCS1-v1_5 with SHA-256
	RS384   = "RS384"   // RSASSA-PKCS1-v1_5 with SHA-384
	RS512   = "RS512"   // RSASSA-PKCS1-v1_5 with SHA-512
	PS256   = "PS256"   // RSASSA-PSS with SHA-256, MGF1-SHA-256, salt length 32
	PS384   = "PS384"   // RSASSA-PSS with SHA-384, MGF1-SHA-384, salt length 48
	PS512   = "PS512"   // RSASSA-PSS with SHA-512, MGF1-SHA-512, salt length 64
	ES256   = "ES256"   // ECDSA on P-256 with SHA-256
	ES384   = "ES384"   // ECDSA on P-384 with SHA-384
	ES512   = "ES512"   // ECDSA on P-521 with SHA-512
	EdDSA   = "EdDSA"   // Ed25519 (RFC 8037; deprecated by RFC 9864); Ed448 is not supported
	Ed25519 = "Ed25519" // Ed25519, the fully-specified name of RFC 9864
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

// MinRSABits is the smallest RSA modulus Verify accepts.
const MinRSABits = 2048

// DefaultAlgorithms returns a new slice of the algorithms a zero Policy
// allows: RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA
// Ed25519.
func DefaultAlgorithms() []string {
	return []string{RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519}
}

// supportedAlg returns the package's constant for alg when alg is one of
// the supported algorithms (exact, case-sensitive match), or "".
func supportedAlg(alg []byte) string {
	switch string(alg) {
	case RS256:
		return RS256
	case RS384:
		return RS384
	case RS512:
		return RS512
	case PS256:
		return PS256
	case PS384:
		return PS384
	case PS512:
		return PS512
	case ES256:
		return ES256
	case ES384:
		return ES384
	case ES512:
		return ES512
	case EdDSA:
		return EdDSA
	case Ed25519:
		return Ed25519
	}
	return ""
}

// Policy is the form and header policy that [Policy.Parse] enforces before
// any cryptography. The zero value (and a nil *Policy) applies the
// documented defaults.
//
// A Policy is read, never written, by Parse, so one value may be shared by
// any number of goroutines as long as nobody modifies it.
type Policy struct {
	// Algorithms lists the allowed JWA "alg" values, compared exactly
	// (case-sensitive). nil means [DefaultAlgorithms]. Only the algorithms
	// of this package can be allowed: "none", HS256/HS384/HS512 and
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
		if supportedAlg([]byte(a)) == "" {
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
func (p *Policy) allowed(alg string) bool {
	if p == nil || p.Algorithms == nil {
		return true // every supported algorithm is a default
	}
	for _, a := range p.Algorithms {
		if a == alg {
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
	if !p.allowed(parsed.Alg) {
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
