//lint:file-ignore SA1019 the tests build invalid ECDSA keys from raw coordinates on purpose

package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"math/big"
	"strconv"
	"testing"
)

const testSigningInput = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0"

func TestVerifyKeyMismatch(t *testing.T) {
	k := keys(t)
	p256Params := *elliptic.P256().Params() // a CurveParams copy is not the stdlib P-256
	tests := []struct {
		name string
		alg  string
		key  crypto.PublicKey
	}{
		{"ES256 with RSA key", ES256, &k.rsa2048.PublicKey},
		{"ES256 with Ed25519 key", ES256, k.ed.Public()},
		{"ES256 with P-384 key", ES256, &k.p384.PublicKey},
		{"ES384 with P-256 key", ES384, &k.p256.PublicKey},
		{"ES512 with P-384 key", ES512, &k.p384.PublicKey},
		{"ES512 with P-256 key", ES512, &k.p256.PublicKey},
		{"ES256 with generic CurveParams", ES256, &ecdsa.PublicKey{Curve: &p256Params, X: k.p256.X, Y: k.p256.Y}},
		{"ES256 with nil curve", ES256, &ecdsa.PublicKey{X: k.p256.X, Y: k.p256.Y}},
		{"ES256 with nil coordinates", ES256, &ecdsa.PublicKey{Curve: elliptic.P256()}},
		{"ES256 with nil *ecdsa.PublicKey", ES256, (*ecdsa.PublicKey)(nil)},
		{"ES256 with private key", ES256, k.p256},
		{"ES256 with ecdsa.PublicKey value", ES256, k.p256.PublicKey},
		{"RS256 with 1024-bit key", RS256, &k.rsa1024.PublicKey},
		{"PS256 with 1024-bit key", PS256, &k.rsa1024.PublicKey},
		{"RS512 with 1024-bit key", RS512, &k.rsa1024.PublicKey},
		{"RS256 with ECDSA key", RS256, &k.p256.PublicKey},
		{"PS384 with Ed25519 key", PS384, k.ed.Public()},
		{"RS256 with nil *rsa.PublicKey", RS256, (*rsa.PublicKey)(nil)},
		{"RS256 with empty rsa.PublicKey", RS256, &rsa.PublicKey{}},
		{"RS256 with negative modulus", RS256, &rsa.PublicKey{N: new(big.Int).Neg(k.rsa2048.N), E: 65537}},
		{"RS256 with private key", RS256, k.rsa2048},
		{"EdDSA with RSA key", EdDSA, &k.rsa2048.PublicKey},
		{"EdDSA with ECDSA key", EdDSA, &k.p256.PublicKey},
		{"EdDSA with private key", EdDSA, k.ed},
		{"EdDSA with short key", EdDSA, ed25519.PublicKey(make([]byte, 31))},
		{"EdDSA with long key", EdDSA, ed25519.PublicKey(make([]byte, 33))},
		{"EdDSA with nil key", EdDSA, ed25519.PublicKey(nil)},
		{"EdDSA with raw bytes", EdDSA, []byte(k.ed.Public().(ed25519.PublicKey))},
		{"EdDSA with pointer", EdDSA, func() *ed25519.PublicKey { p := k.ed.Public().(ed25519.PublicKey); return &p }()},
		{"Ed25519 with RSA key", Ed25519, &k.rsa2048.PublicKey},
		{"Ed25519 with ECDSA key", Ed25519, &k.p256.PublicKey},
		{"Ed25519 with private key", Ed25519, k.ed},
		{"Ed25519 with short key", Ed25519, ed25519.PublicKey(make([]byte, 31))},
		{"nil key", RS256, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A signature that would be valid for the right pairing, where
			// one exists, so only the key check can reject.
			sig := make([]byte, 64)
			if _, ok := tc.key.(*rsa.PublicKey); ok && (tc.alg[0] == 'R' || tc.alg[0] == 'P') {
				sig = signRaw(t, tc.alg, k.rsa1024, testSigningInput)
			}
			err := Verify(tc.alg, tc.key, testSigningInput, sig)
			if !errors.Is(err, ErrKeyMismatch) {
				t.Fatalf("err = %v, want ErrKeyMismatch", err)
			}
		})
	}
}

func TestVerifyUnknownAlg(t *testing.T) {
	k := keys(t)
	for _, alg := range []string{"", "none", "None", "HS256", "HS384", "HS512", "hs256", "rs256", "Rs256", "ES256K", "ed25519", "ED25519", "Ed448", "RSA-OAEP", "RS256 "} {
		t.Run(alg, func(t *testing.T) {
			sig := signRaw(t, RS256, k.rsa2048, testSigningInput)
			if err := Verify(alg, &k.rsa2048.PublicKey, testSigningInput, sig); !errors.Is(err, ErrAlgNotAllowed) {
				t.Fatalf("err = %v, want ErrAlgNotAllowed", err)
			}
		})
	}
}

func TestVerifySignatureRejected(t *testing.T) {
	k := keys(t)
	type tcase struct {
		name string
		alg  string
		key  crypto.PublicKey
		si   string
		sig  []byte
	}
	var tests []tcase

	// Every algorithm: tampered input, flipped signature bit, wrong
	// lengths, zeros, a signature by another key.
	for _, alg := range allAlgs {
		sig := signRaw(t, alg, k.signer(alg), testSigningInput)
		pub := k.public(alg)
		flipped := append([]byte(nil), sig...)
		flipped[len(flipped)/2] ^= 0x01
		tests = append(tests,
			tcase{alg + " tampered input", alg, pub, testSigningInput + "x", sig},
			tcase{alg + " input with changed last char", alg, pub, testSigningInput[:len(testSigningInput)-1] + "Q", sig},
			tcase{alg + " empty input", alg, pub, "", sig},
			tcase{alg + " flipped bit", alg, pub, testSigningInput, flipped},
			tcase{alg + " one byte short", alg, pub, testSigningInput, sig[:len(sig)-1]},
			tcase{alg + " one byte long", alg, pub, testSigningInput, append(append([]byte(nil), sig...), 0)},
			tcase{alg + " leading zero byte", alg, pub, testSigningInput, append([]byte{0}, sig...)},
			tcase{alg + " empty", alg, pub, testSigningInput, nil},
			tcase{alg + " zeros", alg, pub, testSigningInput, make([]byte, len(sig))},
			tcase{alg + " ones", alg, pub, testSigningInput, func() []byte {
				b := make([]byte, len(sig))
				for i := range b {
					b[i] = 0xff
				}
				return b
			}()},
		)
	}
	// The same signature under the wrong padding scheme or hash.
	rs := signRaw(t, RS256, k.rsa2048, testSigningInput)
	ps := signRaw(t, PS256, k.rsa2048, testSigningInput)
	rsaPub := &k.rsa2048.PublicKey
	tests = append(tests,
		tcase{"RS256 signature as PS256", PS256, rsaPub, testSigningInput, rs},
		tcase{"PS256 signature as RS256", RS256, rsaPub, testSigningInput, ps},
		tcase{"RS256 signature as RS384", RS384, rsaPub, testSigningInput, rs},
		tcase{"PS256 signature as PS512", PS512, rsaPub, testSigningInput, ps},
		tcase{"RS256 signature equal to the modulus", RS256, rsaPub, testSigningInput, k.rsa2048.N.Bytes()},
	)
	// PSS salt length must equal the hash length (RFC 7518 §3.5).
	for _, salt := range []int{rsa.PSSSaltLengthAuto, 0, 20, 33} {
		h, d := hashOf(PS256, []byte(testSigningInput))
		sig, err := rsa.SignPSS(rand.Reader, k.rsa2048, h, d, &rsa.PSSOptions{SaltLength: salt})
		if err != nil {
			t.Fatal(err)
		}
		tests = append(tests, tcase{"PS256 salt length " + strconv.Itoa(salt), PS256, rsaPub, testSigningInput, sig})
	}
	// ECDSA: r and s must be in [1, n-1]; R||S only, never DER.
	for _, alg := range []string{ES256, ES384, ES512} {
		priv := k.signer(alg).(*ecdsa.PrivateKey)
		pub := &priv.PublicKey
		size := (priv.Curve.Params().BitSize + 7) / 8
		sig := signRaw(t, alg, priv, testSigningInput)
		r, s := sig[:size], sig[size:]
		n := priv.Curve.Params().N
		nBytes := n.FillBytes(make([]byte, size))
		nPlus := new(big.Int).Add(n, big.NewInt(1)).FillBytes(make([]byte, size))
		rPlusN := new(big.Int).Add(new(big.Int).SetBytes(r), n)
		cat := func(a, b []byte) []byte { return append(append([]byte(nil), a...), b...) }
		zero := make([]byte, size)
		tests = append(tests,
			tcase{alg + " r=s=0", alg, pub, testSigningInput, cat(zero, zero)},
			tcase{alg + " r=0", alg, pub, testSigningInput, cat(zero, s)},
			tcase{alg + " s=0", alg, pub, testSigningInput, cat(r, zero)},
			tcase{alg + " r=n", alg, pub, testSigningInput, cat(nBytes, s)},
			tcase{alg + " s=n", alg, pub, testSigningInput, cat(r, nBytes)},
			tcase{alg + " r=n+1", alg, pub, testSigningInput, cat(nPlus, s)},
			tcase{alg + " s=n+1", alg, pub, testSigningInput, cat(r, nPlus)},
			tcase{alg + " r and s swapped", alg, pub, testSigningInput, cat(s, r)},
			tcase{alg + " half", alg, pub, testSigningInput, r},
			tcase{alg + " DER", alg, pub, testSigningInput, asn1Signature(nil, r, s)},
		)
		if rPlusN.BitLen() <= 8*size {
			tests = append(tests, tcase{alg + " r+n", alg, pub, testSigningInput, cat(rPlusN.FillBytes(make([]byte, size)), s)})
		}
	}
	// Ed25519: S must be below the group order L (no malleability).
	edSig := signRaw(t, EdDSA, k.ed, testSigningInput)
	L, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
	sLE := edSig[32:]
	sBE := make([]byte, 32)
	for i := range sBE {
		sBE[i] = sLE[31-i]
	}
	sPlusL := new(big.Int).Add(new(big.Int).SetBytes(sBE), L).FillBytes(make([]byte, 32))
	malleable := append([]byte(nil), edSig[:32]...)
	for i := range 32 {
		malleable = append(malleable, sPlusL[31-i])
	}
	tests = append(tests,
		tcase{"EdDSA S+L", EdDSA, k.ed.Public(), testSigningInput, malleable},
		tcase{"Ed25519 S+L", Ed25519, k.ed.Public(), testSigningInput, malleable})

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := Verify(tc.alg, tc.key, tc.si, tc.sig); !errors.Is(err, ErrSignature) {
				t.Fatalf("err = %v, want ErrSignature", err)
			}
		})
	}
}

// TestVerifyAccepted covers signatures that are valid by RFC 7518 and must
// pass: each algorithm, large signing inputs (beyond the stack buffers) and
// the ECDSA high-S form, which RFC 7518 does not forbid.
func TestVerifyAccepted(t *testing.T) {
	k := keys(t)
	long := testSigningInput
	for len(long) < 5000 {
		long += "abcdefghijklmnopqrstuvwxyz-_0123456789"
	}
	for _, alg := range allAlgs {
		for _, si := range []string{testSigningInput, long, "a.b"} {
			sig := signRaw(t, alg, k.signer(alg), si)
			if err := Verify(alg, k.public(alg), si, sig); err != nil {
				t.Fatalf("%s over %d bytes: %v", alg, len(si), err)
			}
		}
	}
	for _, alg := range []string{ES256, ES384, ES512} {
		priv := k.signer(alg).(*ecdsa.PrivateKey)
		size := (priv.Curve.Params().BitSize + 7) / 8
		sig := signRaw(t, alg, priv, testSigningInput)
		s := new(big.Int).SetBytes(sig[size:])
		highS := append([]byte(nil), sig[:size]...)
		highS = append(highS, new(big.Int).Sub(priv.Curve.Params().N, s).FillBytes(make([]byte, size))...)
		if err := Verify(alg, &priv.PublicKey, testSigningInput, highS); err != nil {
			t.Fatalf("%s high-S: %v", alg, err)
		}
	}
}

func TestASN1Signature(t *testing.T) {
	// Leading zeros are stripped, a high bit gets a 0x00 prefix, and long
	// contents use the 0x81 length form.
	tests := []struct {
		r, s []byte
		want []byte
	}{
		{[]byte{0, 0, 1}, []byte{0x7f}, []byte{0x30, 6, 2, 1, 1, 2, 1, 0x7f}},
		{[]byte{0x80}, []byte{0, 0xff}, []byte{0x30, 8, 2, 2, 0, 0x80, 2, 2, 0, 0xff}},
	}
	for _, tc := range tests {
		if got := asn1Signature(nil, tc.r, tc.s); string(got) != string(tc.want) {
			t.Errorf("asn1Signature(%x, %x) = %x, want %x", tc.r, tc.s, got, tc.want)
		}
	}
	r := make([]byte, 66)
	r[0] = 0x01
	long := asn1Signature(nil, r, r)
	if long[0] != 0x30 || long[1] != 0x81 || int(long[2]) != len(long)-3 {
		t.Errorf("long form header = %x", long[:3])
	}
}

// TestVerifyOddKeysNoPanic feeds RSA and ECDSA keys that no key set should
// hold; Verify must answer with an error, never a panic.
func TestVerifyOddKeysNoPanic(t *testing.T) {
	k := keys(t)
	n := k.rsa2048.N
	even := new(big.Int).Lsh(n, 1)
	huge := new(big.Int).Lsh(big.NewInt(1), 20000)
	huge.Add(huge, big.NewInt(1))
	offCurve := &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(1)}
	hugeXY := &ecdsa.PublicKey{Curve: elliptic.P256(), X: huge, Y: huge}
	negXY := &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(-1), Y: k.p256.Y}
	tests := []struct {
		name string
		alg  string
		key  crypto.PublicKey
		sig  []byte
	}{
		{"RSA E=0", RS256, &rsa.PublicKey{N: n, E: 0}, make([]byte, 256)},
		{"RSA E=1", RS256, &rsa.PublicKey{N: n, E: 1}, make([]byte, 256)},
		{"RSA E=-3", PS256, &rsa.PublicKey{N: n, E: -3}, make([]byte, 256)},
		{"RSA E even", RS256, &rsa.PublicKey{N: n, E: 65536}, make([]byte, 256)},
		{"RSA N even", RS256, &rsa.PublicKey{N: even, E: 65537}, make([]byte, 257)},
		{"RSA N huge", RS512, &rsa.PublicKey{N: huge, E: 65537}, make([]byte, 2501)},
		// ECDSA rows get a real signature by the P-256 key, so only the key is odd.
		{"ECDSA point off the curve", ES256, offCurve, nil},
		{"ECDSA coordinates too large", ES256, hugeXY, nil},
		{"ECDSA negative coordinate", ES256, negXY, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig := tc.sig
			if sig == nil {
				sig = signRaw(t, ES256, k.p256, testSigningInput)
			}
			err := Verify(tc.alg, tc.key, testSigningInput, sig)
			if !errors.Is(err, ErrSignature) && !errors.Is(err, ErrKeyMismatch) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
