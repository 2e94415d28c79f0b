package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
)

// Key is a public signature key that passed key hygiene (see the package
// documentation, "Key hygiene").
//
// A *Key returned by [Set.Key] is shared and must be treated as read-only.
// The same key is returned as the same pointer for as long as it stays in the
// set, also across refreshes that serve it unchanged, so callers may compare
// pointers to learn that a key left the set.
type Key struct {
	// ID is the JWK "kid" ("" if the JWK had none).
	ID string
	// Alg is the JWK "alg" ("" if the JWK had none).
	Alg string
	// Issuer is the issuer of the source the key came from ("" when the
	// source has none configured).
	Issuer string
	// Public is an *rsa.PublicKey, an *ecdsa.PublicKey or an
	// ed25519.PublicKey; never a private or a symmetric key.
	Public crypto.PublicKey

	// fits is the set of algorithms (algBit values) the key may verify,
	// computed once by the Set; valid only when checked is true.
	fits    algMask
	checked bool
}

// Fits reports whether the key may verify a JWS whose header names the JWA
// algorithm alg: alg is allowed (by the Set's [Config.Algorithms]; for a Key
// not made by a Set, by the default list), alg fits the key type (RS* and PS*
// an RSA key; ES256 a P-256, ES384 a P-384 and ES512 a P-521 ECDSA key; EdDSA
// and Ed25519 an Ed25519 key), and alg equals k.Alg when k.Alg is not "".
// "EdDSA" and "Ed25519" name the same algorithm for an Ed25519 key (RFC 9864
// section 2), so a k.Alg of either fits a token naming either, as far as
// both are allowed.
//
// Fits does not repeat key hygiene (key size, exponent, curve point); that is
// applied when a Set loads keys.
func (k *Key) Fits(alg string) bool {
	b := algBit(alg)
	if b == 0 || k == nil {
		return false
	}
	if k.checked {
		return k.fits&b != 0
	}
	return keyMask(k.Public, k.Alg, defaultAlgs)&b != 0
}

// algMask is a set of JWA signature algorithms, one bit each.
type algMask uint16

const (
	algRS256 algMask = 1 << iota
	algRS384
	algRS512
	algPS256
	algPS384
	algPS512
	algES256
	algES384
	algES512
	algEdDSA
	algEd25519

	numAlgs = iota

	rsaAlgs = algRS256 | algRS384 | algRS512 | algPS256 | algPS384 | algPS512
	// edAlgs are the two names of Ed25519: "EdDSA" (RFC 8037, deprecated
	// by RFC 9864) and the fully-specified "Ed25519" (RFC 9864). Ed448 is
	// not supported under either name.
	edAlgs      = algEdDSA | algEd25519
	defaultAlgs = rsaAlgs | algES256 | algES384 | algES512 | edAlgs
)

// algNames lists the supported algorithms in bit order.
var algNames = [numAlgs]string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}

// algBit returns the bit of a supported JWA signature algorithm, 0 for any
// other string (HS*, none, unknown).
func algBit(alg string) algMask {
	switch alg {
	case "RS256":
		return algRS256
	case "RS384":
		return algRS384
	case "RS512":
		return algRS512
	case "PS256":
		return algPS256
	case "PS384":
		return algPS384
	case "PS512":
		return algPS512
	case "ES256":
		return algES256
	case "ES384":
		return algES384
	case "ES512":
		return algES512
	case "EdDSA":
		return algEdDSA
	case "Ed25519":
		return algEd25519
	}
	return 0
}

// keyAlgMask returns the algorithms a JWK whose "alg" is alg may verify: alg
// itself, and both names of Ed25519 for either of them (RFC 9864 section 2:
// EdDSA with an Ed25519 key is Ed25519). 0 for an unsupported alg.
func keyAlgMask(alg string) algMask {
	if b := algBit(alg); b&edAlgs == 0 {
		return b
	}
	return edAlgs
}

// algIndex returns the index of a supported algorithm in algNames, or -1.
func algIndex(alg string) int {
	b := algBit(alg)
	if b == 0 {
		return -1
	}
	i := 0
	for b > 1 {
		b >>= 1
		i++
	}
	return i
}

// typeMask returns the algorithms a public key's type and curve can verify.
func typeMask(pub crypto.PublicKey) algMask {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p == nil {
			return 0
		}
		return rsaAlgs
	case *ecdsa.PublicKey:
		if p == nil {
			return 0
		}
		switch p.Curve {
		case elliptic.P256():
			return algES256
		case elliptic.P384():
			return algES384
		case elliptic.P521():
			return algES512
		}
	case ed25519.PublicKey:
		if len(p) == ed25519.PublicKeySize {
			return edAlgs
		}
	}
	return 0
}

// keyMask returns the algorithms a key may verify: its type's algorithms,
// restricted to allowed and, when the JWK named one, to its own alg (see
// keyAlgMask).
func keyMask(pub crypto.PublicKey, keyAlg string, allowed algMask) algMask {
	m := typeMask(pub) & allowed
	if keyAlg != "" {
		m &= keyAlgMask(keyAlg)
	}
	return m
}
