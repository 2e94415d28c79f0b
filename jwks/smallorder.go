package jwks

import (
	"crypto/ed25519"
	"math/big"
)

// ed25519P is p = 2^255 - 19, the field order of edwards25519.
var ed25519P = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

// ed25519SmallOrderY are the y coordinates of the eight points of
// edwards25519 whose order divides 8: y = 1 (the identity), y = p-1 (order
// 2), y = 0 (two points of order 4) and y = ±y8 (four points of order 8).
// Their canonical encodings, and the non-canonical aliases y = p and
// y = p+1, are the blacklist of libsodium's has_small_order and of "Taming
// the many EdDSAs" (Chalkias et al., SSR 2020).
var ed25519SmallOrderY = func() [5]*big.Int {
	y8, _ := new(big.Int).SetString("05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826", 16)
	return [5]*big.Int{
		big.NewInt(1),
		new(big.Int).Sub(ed25519P, big.NewInt(1)),
		big.NewInt(0),
		y8,
		new(big.Int).Sub(ed25519P, y8),
	}
}()

// checkEd25519 applies the Ed25519 rules to a public key: 32 bytes, the
// canonical encoding of its point (RFC 8032 section 5.1.3: y < p, and the
// sign bit clear when x = 0), and a point not of small order. It returns
// the reason to drop the key, or "".
//
// crypto/ed25519.Verify is the cofactorless RFC 8032 check and accepts a
// small-order public key A: then the signature R = B (the base point),
// S = 1, made without any private key, verifies every message whose
// challenge k makes [k]A the identity (one in 1, 2, 4 or 8).
// Non-canonical aliases decode to the same small-order points.
func checkEd25519(pub ed25519.PublicKey) string {
	if len(pub) != ed25519.PublicKeySize {
		return "malformed Ed25519 key"
	}
	// The encoding is y little-endian, with the sign of x in the top bit.
	var be [ed25519.PublicKeySize]byte
	for i, c := range pub {
		be[len(be)-1-i] = c
	}
	signBit := be[0] >> 7
	be[0] &= 0x7f
	y := new(big.Int).SetBytes(be[:])
	if y.Cmp(ed25519P) >= 0 {
		return "Ed25519 point is not canonically encoded (y >= p)"
	}
	for i, s := range ed25519SmallOrderY {
		if y.Cmp(s) != 0 {
			continue
		}
		if i < 2 && signBit == 1 {
			// y = ±1 means x = 0, which has no negative.
			return "Ed25519 point is not canonically encoded (x = 0 with the sign bit set)"
		}
		return "Ed25519 point is of small order"
	}
	return ""
}
