package jwa

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"math/big"
	"slices"
	"strings"
	"testing"
)

// wantNames is the table's list as the RFCs spell it, written here apart
// from the table so that a typo in either shows.
var wantNames = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}

func TestParse(t *testing.T) {
	if got := Supported.Names(); !slices.Equal(got, wantNames) {
		t.Fatalf("Supported.Names() = %v, want %v", got, wantNames)
	}
	for i, name := range wantNames {
		a := Parse(name)
		if int(a) != i+1 || a.String() != name {
			t.Errorf("Parse(%q) = %d (%q), want %d", name, a, a.String(), i+1)
		}
		for _, variant := range []string{strings.ToLower(name), strings.ToUpper(name), name + " ", " " + name, name + "\x00", name[:len(name)-1]} {
			if variant != name && Parse(variant) != 0 {
				t.Errorf("Parse(%q) = %v, want none", variant, Parse(variant))
			}
		}
	}
	for _, name := range []string{"", "none", "None", "NONE", "HS256", "HS384", "HS512", "hs256", "Ed448", "ES256K", "RSA-OAEP", "A128KW", "dir", "RS1", "ed25519", "EDDSA"} {
		if a := Parse(name); a != 0 {
			t.Errorf("Parse(%q) = %v, want none", name, a)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = Parse("Ed25519") }); n != 0 {
		t.Errorf("Parse allocates %v times", n)
	}
}

func TestTable(t *testing.T) {
	tests := []struct {
		alg    Alg
		scheme Scheme
		hash   crypto.Hash
		kty    string
		crv    string
		curve  elliptic.Curve
	}{
		{RS256, SchemePKCS1v15, crypto.SHA256, "RSA", "", nil},
		{RS384, SchemePKCS1v15, crypto.SHA384, "RSA", "", nil},
		{RS512, SchemePKCS1v15, crypto.SHA512, "RSA", "", nil},
		{PS256, SchemePSS, crypto.SHA256, "RSA", "", nil},
		{PS384, SchemePSS, crypto.SHA384, "RSA", "", nil},
		{PS512, SchemePSS, crypto.SHA512, "RSA", "", nil},
		{ES256, SchemeECDSA, crypto.SHA256, "EC", "P-256", elliptic.P256()},
		{ES384, SchemeECDSA, crypto.SHA384, "EC", "P-384", elliptic.P384()},
		{ES512, SchemeECDSA, crypto.SHA512, "EC", "P-521", elliptic.P521()},
		{EdDSA, SchemeEd25519, 0, "OKP", "Ed25519", nil},
		{Ed25519, SchemeEd25519, 0, "OKP", "Ed25519", nil},
		{0, 0, 0, "", "", nil},
		{Alg(Count + 1), 0, 0, "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.alg.String(), func(t *testing.T) {
			a := tt.alg
			if a.Scheme() != tt.scheme || a.Hash() != tt.hash || a.KeyType() != tt.kty || a.Curve() != tt.crv || a.EllipticCurve() != tt.curve {
				t.Errorf("%d: scheme %v hash %v kty %q crv %q curve %v", a, a.Scheme(), a.Hash(), a.KeyType(), a.Curve(), a.EllipticCurve())
			}
			if a.valid() != (a.Bit() != 0) || a.valid() != Supported.Has(a) {
				t.Errorf("%d: bit %b, in Supported %v", a, a.Bit(), Supported.Has(a))
			}
		})
	}
	var all Set
	for a := range Supported.All() {
		if all&a.Bit() != 0 {
			t.Errorf("%v shares a bit", a)
		}
		all |= a.Bit()
	}
	if all != Supported || Alg(0).Bit() != 0 || Set(0).Has(0) || Supported.Has(0) {
		t.Errorf("bits: all %b, Supported %b", all, Supported)
	}
	if got := (ES256.Bit() | EdDSA.Bit()).Names(); !slices.Equal(got, []string{"ES256", "EdDSA"}) {
		t.Errorf("Names = %v", got)
	}
	if Set(0).Names() != nil {
		t.Error("empty Set has names")
	}
}

func TestEquivalent(t *testing.T) {
	ed := EdDSA.Bit() | Ed25519.Bit()
	for a := range Supported.All() {
		want := a.Bit()
		if a == EdDSA || a == Ed25519 {
			want = ed
		}
		if a.Equivalent() != want {
			t.Errorf("%v.Equivalent() = %b, want %b", a, a.Equivalent(), want)
		}
	}
	if Alg(0).Equivalent() != 0 {
		t.Error("the zero Alg has equivalents")
	}
}

func TestFits(t *testing.T) {
	rsaKey := func(bits int) *rsa.PublicKey {
		// A modulus of the right size is all Fits looks at.
		n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
		return &rsa.PublicKey{N: n.Add(n, big.NewInt(1)), E: 65537}
	}
	ec := func(c elliptic.Curve) *ecdsa.PublicKey {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return &k.PublicKey
	}
	edPub := ed25519.PublicKey(make([]byte, ed25519.PublicKeySize))
	rsaAlgs := RS256.Bit() | RS384.Bit() | RS512.Bit() | PS256.Bit() | PS384.Bit() | PS512.Bit()
	tests := []struct {
		name     string
		pub      crypto.PublicKey
		fits     Set
		kty, crv string
	}{
		{"RSA 2048", rsaKey(2048), rsaAlgs, "RSA", ""},
		{"RSA 4096", rsaKey(4096), rsaAlgs, "RSA", ""},
		{"RSA 2047", rsaKey(2047), 0, "RSA", ""},
		{"RSA 1024", rsaKey(1024), 0, "RSA", ""},
		{"RSA nil modulus", &rsa.PublicKey{E: 3}, 0, "RSA", ""},
		{"RSA zero modulus", &rsa.PublicKey{N: new(big.Int), E: 3}, 0, "RSA", ""},
		{"nil RSA", (*rsa.PublicKey)(nil), 0, "", ""},
		{"RSA value", *rsaKey(2048), 0, "", ""},
		{"P-256", ec(elliptic.P256()), ES256.Bit(), "EC", "P-256"},
		{"P-384", ec(elliptic.P384()), ES384.Bit(), "EC", "P-384"},
		{"P-521", ec(elliptic.P521()), ES512.Bit(), "EC", "P-521"},
		{"P-224", ec(elliptic.P224()), 0, "", ""},
		{"EC without coordinates", &ecdsa.PublicKey{Curve: elliptic.P256()}, 0, "EC", "P-256"},
		{"nil EC", (*ecdsa.PublicKey)(nil), 0, "", ""},
		{"Ed25519", edPub, EdDSA.Bit() | Ed25519.Bit(), "OKP", "Ed25519"},
		{"short Ed25519", ed25519.PublicKey{1, 2}, 0, "OKP", "Ed25519"},
		{"Ed25519 private key", ed25519.PrivateKey(make([]byte, 64)), 0, "", ""},
		{"Ed25519 pointer", &edPub, 0, "", ""},
		{"symmetric", []byte("secret"), 0, "", ""},
		{"nil", nil, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fitting(tt.pub); got != tt.fits {
				t.Errorf("Fitting = %v, want %v", got.Names(), tt.fits.Names())
			}
			for a := range Supported.All() {
				reason := a.Misfit(tt.pub)
				if a.Fits(tt.pub) != tt.fits.Has(a) || (reason == "") != tt.fits.Has(a) {
					t.Errorf("%v: Fits %v, Misfit %q", a, a.Fits(tt.pub), reason)
				}
			}
			if Alg(0).Fits(tt.pub) || Alg(0).Misfit(tt.pub) == "" {
				t.Error("fits the zero Alg")
			}
			if kty, crv := KeyTypeOf(tt.pub); kty != tt.kty || crv != tt.crv {
				t.Errorf("KeyTypeOf = %q %q, want %q %q", kty, crv, tt.kty, tt.crv)
			}
		})
	}
	if got := RS256.Misfit(rsaKey(1024)); got != "RSA key shorter than 2048 bits" {
		t.Errorf("Misfit of a short RSA key = %q", got)
	}
	if got := ES384.Misfit(ec(elliptic.P256())); got != "ECDSA key is on another curve" {
		t.Errorf("Misfit of a P-256 key for ES384 = %q", got)
	}
}
