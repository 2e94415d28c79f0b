// Package jwa is the one table of the JWS algorithms sessiongate verifies
// (RFC 7518 section 3, RFC 8037 section 3.1, RFC 9864 section 2) and of the
// public keys that fit them. The verifier (internal/jws), the key set (jwks)
// and the test kit (jwks/jwkstest) read it; no other package lists
// algorithms.
//
// Supported: RS256, RS384, RS512 (RSASSA-PKCS1-v1_5), PS256, PS384, PS512
// (RSASSA-PSS), ES256, ES384, ES512 (ECDSA on P-256, P-384, P-521), and
// Ed25519 under its two names, "EdDSA" (RFC 8037, deprecated by RFC 9864)
// and the fully-specified "Ed25519" (RFC 9864). Never: "none", the HMAC
// algorithms HS256/HS384/HS512 (a public key must never serve as a shared
// secret), Ed448 (under either name), or any other name. Names are compared
// exactly, case-sensitively.
package jwa

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"iter"
)

// Alg is a supported JWS algorithm. The zero Alg is none of them: what
// [Parse] returns for every other name.
type Alg uint8

// The supported algorithms, in table order.
const (
	RS256   Alg = iota + 1 // RSASSA-PKCS1-v1_5 with SHA-256
	RS384                  // RSASSA-PKCS1-v1_5 with SHA-384
	RS512                  // RSASSA-PKCS1-v1_5 with SHA-512
	PS256                  // RSASSA-PSS with SHA-256, MGF1-SHA-256, salt length 32
	PS384                  // RSASSA-PSS with SHA-384, MGF1-SHA-384, salt length 48
	PS512                  // RSASSA-PSS with SHA-512, MGF1-SHA-512, salt length 64
	ES256                  // ECDSA on P-256 with SHA-256
	ES384                  // ECDSA on P-384 with SHA-384
	ES512                  // ECDSA on P-521 with SHA-512
	EdDSA                  // Ed25519 under its RFC 8037 name (Ed448 is not supported)
	Ed25519                // Ed25519 under its fully-specified RFC 9864 name
)

// Count is the number of supported algorithms: the valid Alg values are 1
// to Count, so an array of Count+1 entries is indexed by any Alg.
const Count = int(Ed25519)

// MinRSABits is the smallest RSA modulus that fits an RSA algorithm.
const MinRSABits = 2048

// Scheme is the signature scheme of an algorithm.
type Scheme uint8

// The signature schemes.
const (
	SchemePKCS1v15 Scheme = iota + 1 // RSASSA-PKCS1-v1_5 (RS*)
	SchemePSS                        // RSASSA-PSS, salt as long as the hash (PS*)
	SchemeECDSA                      // ECDSA, R||S of the curve's size (ES*)
	SchemeEd25519                    // Ed25519, RFC 8032 (EdDSA, Ed25519)
)

// entry is one row of the table.
type entry struct {
	name   string
	scheme Scheme
	hash   crypto.Hash    // 0 for Ed25519, which hashes internally
	kty    string         // the JWK "kty" of a fitting key
	crv    string         // the JWK "crv" of a fitting key; "" for RSA
	curve  elliptic.Curve // ECDSA only
}

// table is indexed by Alg; entry 0 is the zero Alg's.
var table = [Count + 1]entry{
	RS256:   {"RS256", SchemePKCS1v15, crypto.SHA256, "RSA", "", nil},
	RS384:   {"RS384", SchemePKCS1v15, crypto.SHA384, "RSA", "", nil},
	RS512:   {"RS512", SchemePKCS1v15, crypto.SHA512, "RSA", "", nil},
	PS256:   {"PS256", SchemePSS, crypto.SHA256, "RSA", "", nil},
	PS384:   {"PS384", SchemePSS, crypto.SHA384, "RSA", "", nil},
	PS512:   {"PS512", SchemePSS, crypto.SHA512, "RSA", "", nil},
	ES256:   {"ES256", SchemeECDSA, crypto.SHA256, "EC", "P-256", elliptic.P256()},
	ES384:   {"ES384", SchemeECDSA, crypto.SHA384, "EC", "P-384", elliptic.P384()},
	ES512:   {"ES512", SchemeECDSA, crypto.SHA512, "EC", "P-521", elliptic.P521()},
	EdDSA:   {"EdDSA", SchemeEd25519, 0, "OKP", "Ed25519", nil},
	Ed25519: {"Ed25519", SchemeEd25519, 0, "OKP", "Ed25519", nil},
}

// Parse returns the algorithm named name, compared exactly
// (case-sensitive), or the zero Alg for any other name: "none", HS256,
// HS384, HS512, Ed448, "rs256", "" and everything else. It does not
// allocate. (The cases are the table's names; TestParse holds the two
// equal.)
func Parse(name string) Alg {
	switch name {
	case "RS256":
		return RS256
	case "RS384":
		return RS384
	case "RS512":
		return RS512
	case "PS256":
		return PS256
	case "PS384":
		return PS384
	case "PS512":
		return PS512
	case "ES256":
		return ES256
	case "ES384":
		return ES384
	case "ES512":
		return ES512
	case "EdDSA":
		return EdDSA
	case "Ed25519":
		return Ed25519
	}
	return 0
}

// valid reports whether a is one of the supported algorithms.
func (a Alg) valid() bool { return a != 0 && int(a) <= Count }

func (a Alg) entry() *entry {
	if !a.valid() {
		return &table[0]
	}
	return &table[a]
}

// String returns the JWA name ("RS256" …), or "" for the zero Alg.
func (a Alg) String() string { return a.entry().name }

// Bit returns the algorithm as a one-element [Set]; the zero Alg's (and
// that of any value outside the table) is the empty Set.
func (a Alg) Bit() Set { return Set(1) << (a - 1) & Supported } // a-1 wraps to 255 for 0: no bit

// Scheme returns the signature scheme (0 for the zero Alg).
func (a Alg) Scheme() Scheme { return a.entry().scheme }

// Hash returns the hash the signature covers: SHA-256, SHA-384 or SHA-512;
// 0 for EdDSA and Ed25519 (Ed25519 hashes internally) and the zero Alg.
func (a Alg) Hash() crypto.Hash { return a.entry().hash }

// KeyType returns the JWK "kty" of the keys that fit: "RSA", "EC" or "OKP".
func (a Alg) KeyType() string { return a.entry().kty }

// Curve returns the JWK "crv" of the keys that fit: "P-256", "P-384",
// "P-521", "Ed25519", or "" for the RSA algorithms.
func (a Alg) Curve() string { return a.entry().crv }

// EllipticCurve returns the curve of an ECDSA algorithm, nil for the others.
func (a Alg) EllipticCurve() elliptic.Curve { return a.entry().curve }

// Equivalent returns the algorithms that are the same algorithm as a for key
// matching: EdDSA and Ed25519 for either of them (RFC 9864 section 2: EdDSA
// with an Ed25519 key is Ed25519), a alone otherwise. A JWK whose "alg" is
// a may verify tokens naming any of them. Allow-lists do not use it: they
// compare names exactly.
func (a Alg) Equivalent() Set {
	if a.Scheme() == SchemeEd25519 {
		return EdDSA.Bit() | Ed25519.Bit()
	}
	return a.Bit()
}

// Fits reports whether pub may verify signatures of algorithm a: an
// *rsa.PublicKey with a modulus of at least [MinRSABits] for RS* and PS*,
// an *ecdsa.PublicKey on the algorithm's curve (P-256, P-384, P-521) for
// ES*, an ed25519.PublicKey of 32 bytes for EdDSA and Ed25519. A nil or
// unusable key never fits, nor does any key fit the zero Alg. Fits does not
// judge the key further (exponent, point on the curve, small order): key
// hygiene does that when a key set is loaded.
func (a Alg) Fits(pub crypto.PublicKey) bool { return a.Misfit(pub) == "" }

// Misfit returns why pub does not fit a, in fixed words without key
// material ("algorithm needs an RSA public key", "RSA key shorter than 2048
// bits", "ECDSA key is on another curve" …), or "" when it fits (see
// [Alg.Fits]).
func (a Alg) Misfit(pub crypto.PublicKey) string {
	e := a.entry()
	switch e.scheme {
	case SchemePKCS1v15, SchemePSS:
		p, ok := pub.(*rsa.PublicKey)
		if !ok || p == nil || p.N == nil || p.N.Sign() <= 0 {
			return "algorithm needs an RSA public key"
		}
		if p.N.BitLen() < MinRSABits {
			return "RSA key shorter than 2048 bits"
		}
	case SchemeECDSA:
		p, ok := pub.(*ecdsa.PublicKey)
		// X and Y are only read, to refuse a key crypto/ecdsa would panic on.
		//lint:ignore SA1019 no other API tells a nil coordinate without panicking
		if !ok || p == nil || p.X == nil || p.Y == nil {
			return "algorithm needs an ECDSA public key"
		}
		if p.Curve != e.curve {
			return "ECDSA key is on another curve"
		}
	case SchemeEd25519:
		if p, ok := pub.(ed25519.PublicKey); !ok || len(p) != ed25519.PublicKeySize {
			return "algorithm needs an Ed25519 public key"
		}
	default:
		return "algorithm not supported"
	}
	return ""
}

// KeyTypeOf returns the JWK "kty" and "crv" of a public key the table knows:
// ("RSA", "") for an *rsa.PublicKey, ("EC", "P-256"), ("EC", "P-384") or
// ("EC", "P-521") for an *ecdsa.PublicKey on those curves, ("OKP",
// "Ed25519") for an ed25519.PublicKey; ("", "") for anything else,
// including nil pointers. It judges neither size nor validity (see
// [Alg.Fits]).
func KeyTypeOf(pub crypto.PublicKey) (kty, crv string) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p != nil {
			return "RSA", ""
		}
	case *ecdsa.PublicKey:
		if p == nil {
			return "", ""
		}
		for a := range Supported.All() {
			if c := a.EllipticCurve(); c != nil && c == p.Curve {
				return "EC", a.Curve()
			}
		}
	case ed25519.PublicKey:
		return "OKP", "Ed25519"
	}
	return "", ""
}

// Fitting returns every algorithm pub fits (see [Alg.Fits]): the six RSA
// algorithms for an RSA key of at least 2048 bits, the one ES* of an ECDSA
// key's curve, EdDSA and Ed25519 for an Ed25519 key, none for anything
// else.
func Fitting(pub crypto.PublicKey) Set {
	var s Set
	for a := range Supported.All() {
		if a.Fits(pub) {
			s |= a.Bit()
		}
	}
	return s
}

// Set is a set of algorithms, one bit each. The zero Set is empty.
type Set uint16

// Supported is every algorithm of the table.
const Supported Set = 1<<Count - 1

// Has reports whether a is in s (never for the zero Alg).
func (s Set) Has(a Alg) bool { return s&a.Bit() != 0 }

// All iterates over the algorithms of s in table order.
func (s Set) All() iter.Seq[Alg] {
	return func(yield func(Alg) bool) {
		for a := Alg(1); int(a) <= Count; a++ {
			if s.Has(a) && !yield(a) {
				return
			}
		}
	}
}

// Names returns a new slice of the names of the algorithms of s in table
// order.
func (s Set) Names() []string {
	var names []string
	for a := range s.All() {
		names = append(names, a.String())
	}
	return names
}
