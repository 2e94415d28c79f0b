package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"
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
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			tok := benchToken(b, bc.alg)
			verify := floorVerifier(b, bc.alg, tok)
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

// floorVerifier prepares the floor's inputs outside the timed loop and
// returns the timed part.
func floorVerifier(b *testing.B, alg, tok string) func() bool {
	k := keys(b)
	last := strings.LastIndexByte(tok, '.')
	msg := []byte(tok[:last])
	sig, err := base64.RawURLEncoding.DecodeString(tok[last+1:])
	if err != nil {
		b.Fatal(err)
	}
	switch pub := k.public(alg).(type) {
	case *rsa.PublicKey:
		if alg == PS256 {
			opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}
			return func() bool {
				h := sha256.Sum256(msg)
				return rsa.VerifyPSS(pub, crypto.SHA256, h[:], sig, opts) == nil
			}
		}
		return func() bool {
			h := sha256.Sum256(msg)
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) == nil
		}
	case *ecdsa.PublicKey:
		der := asn1Signature(nil, sig[:32], sig[32:])
		return func() bool {
			h := sha256.Sum256(msg)
			return ecdsa.VerifyASN1(pub, h[:], der)
		}
	case ed25519.PublicKey:
		return func() bool { return ed25519.Verify(pub, msg, sig) }
	}
	b.Fatalf("no floor for %s", alg)
	return nil
}

// BenchmarkInterleaved runs the floor and the package's path alternately
// in the same loop and reports their ratio (x-floor), which is robust
// against the load changes of a shared machine that skew ratios between
// separately timed benchmarks. ns/op is the sum of both.
func BenchmarkInterleaved(b *testing.B) {
	k := keys(b)
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			tok := benchToken(b, bc.alg)
			pub := k.public(bc.alg)
			p := &Policy{Typ: "JWT"}
			floor := floorVerifier(b, bc.alg, tok)
			full := func() bool {
				var parsed Parsed
				return p.ParseInto(tok, &parsed) == nil && Verify(parsed.Alg, pub, parsed.SigningInput, parsed.Signature) == nil
			}
			var tFloor, tFull time.Duration
			odd := false
			for b.Loop() {
				odd = !odd
				t0 := time.Now()
				okA := odd && floor() || !odd && full()
				t1 := time.Now()
				okB := odd && full() || !odd && floor()
				t2 := time.Now()
				if !okA || !okB {
					b.Fatal("verification failed")
				}
				if odd {
					tFloor, tFull = tFloor+t1.Sub(t0), tFull+t2.Sub(t1)
				} else {
					tFull, tFloor = tFull+t1.Sub(t0), tFloor+t2.Sub(t1)
				}
			}
			b.ReportMetric(float64(tFull)/float64(tFloor), "x-floor")
			b.ReportMetric(float64(tFloor.Nanoseconds())/float64(b.N), "floor-ns/op")
			b.ReportMetric(float64(tFull.Nanoseconds())/float64(b.N), "jws-ns/op")
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
