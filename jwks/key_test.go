package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"testing"

	"github.com/sessiongate/sessiongate/internal/jwa"
)

func TestKeyFits(t *testing.T) {
	rsaPub := &rsa.PublicKey{N: rsaModulus(t, 2048), E: 65537}
	p256 := &ecKey(t, elliptic.P256()).PublicKey
	p384 := &ecKey(t, elliptic.P384()).PublicKey
	p521 := &ecKey(t, elliptic.P521()).PublicKey
	edPub := ed25519.PublicKey(make([]byte, ed25519.PublicKeySize))
	all := jwa.Supported.Names()
	tests := []struct {
		name string
		pub  crypto.PublicKey
		alg  string
		fits []string
	}{
		{"RSA no alg", rsaPub, "", []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}},
		{"RSA RS256", rsaPub, "RS256", []string{"RS256"}},
		{"RSA PS512", rsaPub, "PS512", []string{"PS512"}},
		{"RSA with EC alg", rsaPub, "ES256", nil},
		{"P-256", p256, "", []string{"ES256"}},
		{"P-256 ES256", p256, "ES256", []string{"ES256"}},
		{"P-256 ES384", p256, "ES384", nil},
		{"P-384", p384, "", []string{"ES384"}},
		{"P-521", p521, "", []string{"ES512"}},
		{"Ed25519", edPub, "", []string{"EdDSA", "Ed25519"}},
		{"Ed25519 EdDSA", edPub, "EdDSA", []string{"EdDSA", "Ed25519"}},
		{"Ed25519 Ed25519", edPub, "Ed25519", []string{"EdDSA", "Ed25519"}},
		{"Ed25519 Ed448", edPub, "Ed448", nil},
		{"P-256 Ed25519", p256, "Ed25519", nil},
		{"RSA EdDSA", rsaPub, "EdDSA", nil},
		{"short Ed25519", ed25519.PublicKey{1, 2}, "", nil},
		{"nil RSA", (*rsa.PublicKey)(nil), "", nil},
		{"nil EC", (*ecdsa.PublicKey)(nil), "", nil},
		{"private key", ed25519.PrivateKey(make([]byte, 64)), "", nil},
		{"symmetric", []byte("secret"), "HS256", nil},
		{"nil", nil, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &Key{ID: "k", Alg: tt.alg, Public: tt.pub}
			for _, alg := range append(all, "HS256", "none", "", "rs256", "ES256K", "Ed448", "ed25519") {
				want := false
				for _, f := range tt.fits {
					want = want || f == alg
				}
				if got := k.Fits(alg); got != want {
					t.Errorf("Fits(%q) = %v, want %v", alg, got, want)
				}
			}
		})
	}
	var nilKey *Key
	if nilKey.Fits("RS256") {
		t.Error("nil key fits")
	}
}
