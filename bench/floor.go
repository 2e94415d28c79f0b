package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// ErrFloor reports a floor that does not verify the fixture's token.
var ErrFloor = errors.New("bench: floor verification failed")

// NewFloor returns the physical floor for the fixture's token: a function
// that hashes the signing input with SHA-256 and verifies the signature with
// crypto/* and nothing else. The signature is decoded (and for ES256 put in
// the DER form crypto/ecdsa takes) beforehand, so the floor is the cheapest
// verification the standard library offers. It checks once that the token
// verifies.
func NewFloor(f *Fixture) (func() bool, error) {
	i := strings.LastIndexByte(f.Token, '.')
	input := []byte(f.Token[:i])
	sig, err := base64.RawURLEncoding.DecodeString(f.Token[i+1:])
	if err != nil {
		return nil, err
	}
	var verify func() bool
	switch f.Alg.JWA {
	case "RS256":
		pub := f.Public.(*rsa.PublicKey)
		verify = func() bool {
			h := sha256.Sum256(input)
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) == nil
		}
	case "PS256":
		pub := f.Public.(*rsa.PublicKey)
		opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}
		verify = func() bool {
			h := sha256.Sum256(input)
			return rsa.VerifyPSS(pub, crypto.SHA256, h[:], sig, opts) == nil
		}
	case "ES256":
		pub := f.Public.(*ecdsa.PublicKey)
		der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])})
		if err != nil {
			return nil, err
		}
		verify = func() bool {
			h := sha256.Sum256(input)
			return ecdsa.VerifyASN1(pub, h[:], der)
		}
	case "EdDSA":
		pub := f.Public.(ed25519.PublicKey)
		verify = func() bool { return ed25519.Verify(pub, input, sig) }
	default:
		return nil, fmt.Errorf("bench: no floor for %s", f.Alg.JWA)
	}
	if !verify() {
		return nil, ErrFloor
	}
	return verify, nil
}
