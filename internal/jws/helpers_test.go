package jws

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"os"
	"sync"
	"testing"
)

// The algorithm names as tokens spell them. The tests write them out
// rather than read them from the internal/jwa table, so that they also hold
// the table's spelling.
const (
	RS256   = "RS256"
	RS384   = "RS384"
	RS512   = "RS512"
	PS256   = "PS256"
	PS384   = "PS384"
	PS512   = "PS512"
	ES256   = "ES256"
	ES384   = "ES384"
	ES512   = "ES512"
	EdDSA   = "EdDSA"
	Ed25519 = "Ed25519"
)

// testKeys are generated once per test binary: RSA key generation is slow.
type testKeys struct {
	rsa2048, rsa1024 *rsa.PrivateKey
	p256, p384, p521 *ecdsa.PrivateKey
	ed               ed25519.PrivateKey
}

var keysOnce = sync.OnceValues(func() (*testKeys, error) {
	var k testKeys
	var err error
	if k.rsa2048, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	if k.rsa1024, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
		return nil, err
	}
	if k.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	if k.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
		return nil, err
	}
	if k.p521, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader); err != nil {
		return nil, err
	}
	// A fixed seed keeps Ed25519 tokens deterministic.
	k.ed = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	return &k, nil
})

func keys(tb testing.TB) *testKeys {
	tb.Helper()
	k, err := keysOnce()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// signer returns the private key that signs alg.
func (k *testKeys) signer(alg string) crypto.Signer {
	switch alg {
	case ES256:
		return k.p256
	case ES384:
		return k.p384
	case ES512:
		return k.p521
	case EdDSA, Ed25519:
		return k.ed
	}
	return k.rsa2048
}

// public returns the public key that verifies alg.
func (k *testKeys) public(alg string) crypto.PublicKey { return k.signer(alg).Public() }

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func hashOf(alg string, msg []byte) (crypto.Hash, []byte) {
	switch alg[2:] {
	case "384":
		h := sha512.Sum384(msg)
		return crypto.SHA384, h[:]
	case "512":
		h := sha512.Sum512(msg)
		return crypto.SHA512, h[:]
	}
	h := sha256.Sum256(msg)
	return crypto.SHA256, h[:]
}

// signRaw signs signingInput by hand with crypto/* for alg, as RFC 7518
// says (ES*: fixed-size R||S).
func signRaw(tb testing.TB, alg string, key crypto.Signer, signingInput string) []byte {
	tb.Helper()
	msg := []byte(signingInput)
	if alg == EdDSA || alg == Ed25519 {
		return ed25519.Sign(key.(ed25519.PrivateKey), msg)
	}
	h, digest := hashOf(alg, msg)
	switch alg[:2] {
	case "RS":
		sig, err := rsa.SignPKCS1v15(rand.Reader, key.(*rsa.PrivateKey), h, digest)
		if err != nil {
			tb.Fatal(err)
		}
		return sig
	case "PS":
		sig, err := rsa.SignPSS(rand.Reader, key.(*rsa.PrivateKey), h, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		if err != nil {
			tb.Fatal(err)
		}
		return sig
	case "ES":
		priv := key.(*ecdsa.PrivateKey)
		r, s, err := ecdsa.Sign(rand.Reader, priv, digest)
		if err != nil {
			tb.Fatal(err)
		}
		size := (priv.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out
	}
	tb.Fatalf("signRaw: unknown alg %q", alg)
	return nil
}

// token builds a compact JWS from raw header and payload JSON, signed for
// alg with key.
func token(tb testing.TB, alg string, key crypto.Signer, header, payload string) string {
	tb.Helper()
	si := b64(header) + "." + b64(payload)
	return si + "." + base64.RawURLEncoding.EncodeToString(signRaw(tb, alg, key, si))
}

// hdr returns a header JSON object with alg and extra members.
func hdr(alg string, extra ...any) string {
	m := map[string]any{"alg": alg}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

const testPayload = `{"iss":"https://issuer.example/","sub":"user-1","aud":"api","exp":4102444800}`

func readClaims(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile("testdata/claims.json")
	if err != nil {
		tb.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		tb.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(out)
}

// parse is ParseInto into a new Parsed, nil on error.
func parse(p *Policy, tok string) (*Parsed, error) {
	out := new(Parsed)
	if err := p.ParseInto(tok, out); err != nil {
		return nil, err
	}
	return out, nil
}

// parseVerify is what the middleware does: ParseInto, then Verify with the
// key it chose and the header alg.
func parseVerify(p *Policy, tok string, key crypto.PublicKey) (*Parsed, error) {
	parsed, err := parse(p, tok)
	if err != nil {
		return nil, err
	}
	if err := Verify(parsed.Alg, key, parsed.SigningInput, parsed.Signature); err != nil {
		return nil, err
	}
	return parsed, nil
}
