package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sessiongate/sessiongate/internal/jwa"
)

// FuzzParseKeySet feeds arbitrary bytes to JWK set parsing with key hygiene:
// it must never panic, and whatever it keeps must satisfy the policy.
func FuzzParseKeySet(f *testing.F) {
	good := ecJWK(f, "ec")
	rsaKey := rsaJWK(f, "rsa", 2048)
	ed := edJWK(f, "ed")
	seeds := [][]byte{
		// Realistic sets.
		setJSON(rsaKey, rsaJWK(f, "rsa2", 2048).with("alg", nil)),
		setJSON(good, ed, rsaKey.with("x5t", "abc").with("x5c", []string{"MIIB"})),
		setJSON(good.with("key_ops", []string{"verify"}).with("use", "sig")),
		// Hostile sets.
		setJSON(jwkMap{"kty": "oct", "k": "c2VjcmV0"}, rsaKey.with("d", "AQAB")),
		setJSON(rsaKey.with("e", "AQ"), rsaKey.with("kid", "small").with("n", "AQAB")),
		setJSON(good, good),
		setJSON(good.with("crv", "P-384"), good.with("y", good["x"]), ed.with("crv", "X25519")),
		setJSON(rsaKey.with("e", strings.Repeat("A", 400)), rsaKey.with("n", strings.Repeat("_", 3000))),
		setJSON(good.with("alg", "none"), good.with("alg", "HS256"), good.with("use", 7), good.with("key_ops", "verify")),
		setJSON(ed.with("alg", "Ed25519"), ed.with("kid", "ed2").with("alg", "Ed448"), good.with("kid", "ec2").with("alg", "Ed25519")),
		[]byte(`{"keys":[1,"a",null,[],{},{"kty":null},{"kty":"RSA","n":null,"e":null}]}`),
		[]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":""}],"keys":null}`),
		[]byte(`{"keys":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`),
		[]byte(`{"keys":[{"kty":"RSA","kty":"oct","k":"AA","n":"AQAB","e":"AQAB"}]}`),
		[]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"\u0000"}]}`),
		smallOrderSet(f),
		factorableRSASet(f),
		[]byte("\xef\xbb\xbf{\"keys\":[]}"),
		[]byte(`[]`), []byte(`null`), []byte(``), []byte(`{"keys":{}}`),
		must(good),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	// Every Wycheproof JsonWebKey set.
	if raw, err := os.ReadFile("testdata/json_web_key_test.json"); err == nil {
		var file struct {
			TestGroups []struct{ Private, Public json.RawMessage }
		}
		if json.Unmarshal(raw, &file) == nil {
			for _, g := range file.TestGroups {
				f.Add([]byte(g.Private))
				if len(g.Public) > 0 {
					f.Add([]byte(g.Public))
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := parseKeySet(data, "iss", nil)
		if err != nil {
			if !errors.Is(err, ErrInvalidKeySet) {
				t.Fatalf("error %v is not ErrInvalidKeySet", err)
			}
			if ps != nil && len(ps.keys) != 0 {
				t.Fatal("keys kept with an error")
			}
			return
		}
		if len(ps.keys) == 0 {
			t.Fatal("no keys and no error")
		}
		kids := map[string]bool{}
		for _, k := range ps.keys {
			if !k.checked || k.fits == 0 || k.fits&^jwa.Fitting(k.Public) != 0 || k.Issuer != "iss" {
				t.Fatalf("bad key %+v", k)
			}
			if k.Alg != "" && k.fits != jwa.Parse(k.Alg).Equivalent() {
				t.Fatalf("key %q fits %b, alg %q", k.ID, k.fits, k.Alg)
			}
			if k.ID != "" {
				if kids[k.ID] {
					t.Fatalf("duplicate kid %q kept", k.ID)
				}
				kids[k.ID] = true
			}
			switch p := k.Public.(type) {
			case *rsa.PublicKey:
				if b := p.N.BitLen(); b < jwa.MinRSABits || b > maxRSABits || p.E < 3 || p.E%2 == 0 {
					t.Fatalf("RSA key of %d bits, e=%d kept", b, p.E)
				}
				var r big.Int
				for q := int64(3); q < 1000; q += 2 {
					if r.Mod(p.N, big.NewInt(q)).Sign() == 0 {
						t.Fatalf("RSA modulus divisible by %d kept", q)
					}
				}
			case *ecdsa.PublicKey:
				if _, err := p.ECDH(); err != nil {
					t.Fatalf("invalid EC point kept: %v", err)
				}
			case ed25519.PublicKey:
				if len(p) != ed25519.PublicKeySize {
					t.Fatal("short Ed25519 key kept")
				}
				y := slices.Clone(p)
				slices.Reverse(y)
				y[0] &= 0x7f
				if new(big.Int).SetBytes(y).Cmp(ed25519P) >= 0 {
					t.Fatalf("non-canonical Ed25519 key %x kept", []byte(p))
				}
				for _, so := range smallOrderEd25519 {
					if hex.EncodeToString(p) == so.x {
						t.Fatalf("small-order Ed25519 key %s kept", so.name)
					}
				}
			default:
				t.Fatalf("kept a %T", p)
			}
		}
		for _, r := range ps.rejected {
			if r.reason == "" {
				t.Fatal("rejected without a reason")
			}
		}
		// The raw members of every kept key are public-only.
		var doc struct{ Keys []map[string]json.RawMessage }
		if json.Unmarshal(data, &doc) == nil {
			for _, m := range doc.Keys {
				var kid string
				_ = json.Unmarshal(m["kid"], &kid)
				if kid == "" || !kids[kid] {
					continue
				}
				for _, p := range privateMembers {
					if _, ok := m[p]; ok {
						// Another entry with the same kid may be the kept one
						// (a dropped twin); only a kept key matters.
						if countKid(doc.Keys, kid) == 1 {
							t.Fatalf("key %q with private member %q kept", kid, p)
						}
					}
				}
			}
		}
	})
}

// smallOrderSet is a JWK set of every small-order Ed25519 encoding and a
// good key.
func smallOrderSet(tb testing.TB) []byte {
	keys := []jwkMap{edJWK(tb, "good")}
	for i, so := range smallOrderEd25519 {
		keys = append(keys, jwkMap{"kty": "OKP", "crv": "Ed25519", "kid": strconv.Itoa(i), "x": b64(unhex(tb, so.x))})
	}
	return setJSON(keys...)
}

// factorableRSASet is a JWK set of RSA keys anyone can factor (a prime
// modulus, 3 x prime, 65521 x prime) and a good key.
func factorableRSASet(tb testing.TB) []byte {
	p, _ := new(big.Int).SetString(prime2048, 16)
	keys := []jwkMap{rsaJWK(tb, "good", 2048)}
	for i, m := range []int64{1, 3, 65521} {
		n := new(big.Int).Mul(p, big.NewInt(m))
		keys = append(keys, jwkMap{"kty": "RSA", "kid": strconv.Itoa(i), "n": b64(n.Bytes()), "e": "AQAB"})
	}
	return setJSON(keys...)
}

func countKid(keys []map[string]json.RawMessage, kid string) int {
	n := 0
	for _, m := range keys {
		var k string
		if json.Unmarshal(m["kid"], &k) == nil && k == kid {
			n++
		}
	}
	return n
}
