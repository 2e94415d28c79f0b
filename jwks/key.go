package jwks

import (
	"crypto"

	"github.com/sessiongate/sessiongate/internal/jwa"
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
	// Issuer is the issuer the key's source is bound to ([Source.Issuer];
	// the template itself for a template issuer), "" when the source has
	// none: such a key verifies tokens of any issuer.
	Issuer string
	// Public is an *rsa.PublicKey, an *ecdsa.PublicKey or an
	// ed25519.PublicKey; never a private or a symmetric key.
	Public crypto.PublicKey

	// fits is the set of algorithms the key may verify, computed once by
	// the Set; valid only when checked is true.
	fits    jwa.Set
	checked bool
}

// Fits reports whether the key may verify a JWS whose header names the JWA
// algorithm alg: alg is a supported signature algorithm (RS256, RS384, RS512,
// PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519; never HS*,
// "none" or Ed448), alg fits the key type (RS* and PS* an RSA key of at
// least 2048 bits; ES256 a P-256, ES384 a P-384 and ES512 a P-521 ECDSA key;
// EdDSA and Ed25519 an Ed25519 key), and alg equals k.Alg when k.Alg is not
// "". "EdDSA" and "Ed25519" name the same algorithm for an Ed25519 key (RFC
// 9864 section 2), so a k.Alg of either fits a token naming either. Which
// algorithms an issuer's tokens may use is the caller's allow-list, not the
// key's.
//
// Fits does not repeat key hygiene (exponent, curve point); that is applied
// when a Set loads keys.
func (k *Key) Fits(alg string) bool {
	a := jwa.Parse(alg)
	if a == 0 || k == nil {
		return false
	}
	if k.checked {
		return k.fits.Has(a)
	}
	return keyAlgs(k.Public, k.Alg).Has(a)
}

// keyAlgs returns the algorithms a key may verify: those its type, curve
// and size fit, restricted, when the JWK named one, to its own alg and the
// names equivalent to it (EdDSA and Ed25519).
func keyAlgs(pub crypto.PublicKey, keyAlg string) jwa.Set {
	m := jwa.Fitting(pub)
	if keyAlg != "" {
		m &= jwa.Parse(keyAlg).Equivalent()
	}
	return m
}
