package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"strings"
	"testing"
)

// benchCase is one algorithm of the benchmarks, with the key size in the
// name where it matters.
type benchCase struct {
	name, alg string
}

var benchCases = []benchCase{
	{"RS256-2048", RS256},
	{"PS256", PS256},
	{"ES256", ES256},
	{"EdDSA", EdDSA},
}

// benchToken is a realistic access token: kid and typ in the header, the
// claims of testdata/claims.json (about 1.2 KB compact) as payload.
func benchToken(b *testing.B, alg string) string {
	k := keys(b)
	return token(b, alg, k.signer(alg), hdr(alg, "kid", "2024-05-key-rotation-01", "typ", "JWT"), readClaims(b))
}

// BenchmarkParseVerify is the package's whole cold path, as the middleware
// runs it: ParseInto a stack Parsed, then Verify.
func BenchmarkParseVerify(b *testing.B) {
	k := keys(b)
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			tok := benchToken(b, bc.alg)
			pub := k.public(bc.alg)
			p := &Policy{Typ: "JWT"}
			b.SetBytes(int64(len(tok)))
			b.ReportAllocs()
			for b.Loop() {
				var parsed Parsed
				if err := p.ParseInto(tok, &parsed); err != nil {
					b.Fatal(err)
				}
				if err := Verify(parsed.Alg, pub, parsed.SigningInput, parsed.Signature); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFloor is the bare crypto/* cost of the same tokens: SHA-256 of
// the signing input (already []byte) and the public-key verification
// (ECDSA with a ready-made DER signature; Ed25519 hashes inside).
func BenchmarkFloor(b *testing.B) {
	k := keys(b)
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			tok := benchToken(b, bc.alg)
			last := strings.LastIndexByte(tok, '.')
			msg := []byte(tok[:last])
			var parsed Parsed
			if err := (*Policy)(nil).ParseInto(tok, &parsed); err != nil {
				b.Fatal(err)
			}
			sig := parsed.Signature
			var verify func() bool
			switch pub := k.public(bc.alg).(type) {
			case *rsa.PublicKey:
				if bc.alg == PS256 {
					opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}
					verify = func() bool {
						h := sha256.Sum256(msg)
						return rsa.VerifyPSS(pub, crypto.SHA256, h[:], sig, opts) == nil
					}
				} else {
					verify = func() bool {
						h := sha256.Sum256(msg)
						return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) == nil
					}
				}
			case *ecdsa.PublicKey:
				der := asn1Signature(nil, sig[:32], sig[32:])
				verify = func() bool {
					h := sha256.Sum256(msg)
					return ecdsa.VerifyASN1(pub, h[:], der)
				}
			case ed25519.PublicKey:
				verify = func() bool { return ed25519.Verify(pub, msg, sig) }
			}
			b.SetBytes(int64(len(tok)))
			b.ReportAllocs()
			for b.Loop() {
				if !verify() {
					b.Fatal("floor verification failed")
				}
			}
		})
	}
}

// BenchmarkParse is the form and header checks alone.
func BenchmarkParse(b *testing.B) {
	for _, bc := range benchCases[:1] {
		b.Run(bc.name, func(b *testing.B) {
			tok := benchToken(b, bc.alg)
			p := &Policy{Typ: "JWT"}
			b.SetBytes(int64(len(tok)))
			b.ReportAllocs()
			for b.Loop() {
				var parsed Parsed
				if err := p.ParseInto(tok, &parsed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
