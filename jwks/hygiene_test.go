package jwks

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sessiongate/sessiongate/internal/jws"
)

func TestParseKeySetHygiene(t *testing.T) {
	good := ecJWK(t, "good")
	rsa := rsaJWK(t, "rsa", 2048)
	p384 := ecJWKOf(t, "p384", &ecKey(t, elliptic.P384()).PublicKey)
	p521 := ecJWKOf(t, "p521", &ecKey(t, elliptic.P521()).PublicKey)
	ed := edJWK(t, "ed")
	tests := []struct {
		name   string
		keys   []jwkMap
		kept   []string // kids kept, in order
		reason string   // substring of the reason of the first dropped key
	}{
		{"all supported types", []jwkMap{good, rsa, p384, p521, ed, rsa.with("kid", "rsa4096").with("n", b64(rsaModulus(t, 4096).Bytes()))}, []string{"good", "rsa", "p384", "p521", "ed", "rsa4096"}, ""},
		{"oct key", []jwkMap{{"kty": "oct", "kid": "hs", "k": "c2VjcmV0"}, good}, []string{"good"}, "symmetric"},
		{"RSA private key", []jwkMap{rsa.with("d", "AQAB"), good}, []string{"good"}, `member "d"`},
		{"EC private key", []jwkMap{p384.with("d", "AQAB"), good}, []string{"good"}, `member "d"`},
		{"OKP private key", []jwkMap{ed.with("d", "AQAB"), good}, []string{"good"}, `member "d"`},
		{"member k on RSA", []jwkMap{rsa.with("k", "AQAB"), good}, []string{"good"}, `member "k"`},
		{"member oth", []jwkMap{rsa.with("oth", []any{}), good}, []string{"good"}, `member "oth"`},
		{"RSA 1024 bits", []jwkMap{rsa.with("n", b64(rsaModulus(t, 1024).Bytes())), good}, []string{"good"}, "1024 bits is below 2048"},
		{"RSA 2047 bits", []jwkMap{rsa.with("n", b64(new(big.Int).Rsh(rsaModulus(t, 2048), 1).Bytes())), good}, []string{"good"}, "below 2048"},
		{"RSA 16384 bits", []jwkMap{rsa.with("n", b64(rsaModulus(t, 16384).Bytes())), good}, []string{"good"}, "exceeds 8192"},
		{"RSA even modulus", []jwkMap{rsa.with("n", b64(new(big.Int).Lsh(rsaModulus(t, 2040), 8).Bytes())), good}, []string{"good"}, "even"},
		{"RSA e=1", []jwkMap{rsa.with("e", "AQ"), good}, []string{"good"}, "exponent 1 "},
		{"RSA e=2", []jwkMap{rsa.with("e", "Ag"), good}, []string{"good"}, "exponent 2 "},
		{"RSA e=0", []jwkMap{rsa.with("e", "AA"), good}, []string{"good"}, "exponent 0 "},
		{"RSA e=3 kept", []jwkMap{rsa.with("e", "Aw")}, []string{"rsa"}, ""},
		{"RSA huge e", []jwkMap{rsa.with("e", "AQAAAAAAAAAB"), good}, []string{"good"}, "too large"},
		{"RSA e leading zeros ok", []jwkMap{rsa.with("e", "AAEAAQ")}, []string{"rsa"}, ""},
		{"RSA no n", []jwkMap{rsa.with("n", nil), good}, []string{"good"}, ""},
		{"use enc", []jwkMap{good.with("use", "enc"), rsa}, []string{"rsa"}, `use "enc"`},
		{"use sig kept", []jwkMap{good.with("use", "sig")}, []string{"good"}, ""},
		{"use not a string", []jwkMap{good.with("use", 1), rsa}, []string{"rsa"}, "not a string"},
		{"key_ops without verify", []jwkMap{good.with("key_ops", []string{"sign"}), rsa}, []string{"rsa"}, "verify"},
		{"key_ops encrypt", []jwkMap{good.with("key_ops", []string{"encrypt", "wrapKey"}), rsa}, []string{"rsa"}, "verify"},
		{"key_ops verify kept", []jwkMap{good.with("key_ops", []string{"verify"})}, []string{"good"}, ""},
		{"key_ops malformed", []jwkMap{good.with("key_ops", "verify"), rsa}, []string{"rsa"}, "key_ops"},
		{"EC alg on wrong curve", []jwkMap{p384.with("alg", "ES256"), good}, []string{"good"}, `alg "ES256" does not fit`},
		{"ES512 on P-256", []jwkMap{good.with("alg", "ES512"), rsa}, []string{"rsa"}, "does not fit"},
		{"RSA key with ES alg", []jwkMap{rsa.with("alg", "ES256"), good}, []string{"good"}, "does not fit"},
		{"EdDSA alg on EC", []jwkMap{good.with("alg", "EdDSA"), rsa}, []string{"rsa"}, "does not fit"},
		{"Ed25519 alg kept", []jwkMap{ed.with("alg", "Ed25519")}, []string{"ed"}, ""},
		{"EdDSA alg kept", []jwkMap{ed.with("alg", "EdDSA")}, []string{"ed"}, ""},
		{"Ed25519 alg on EC", []jwkMap{good.with("alg", "Ed25519"), rsa}, []string{"rsa"}, `alg "Ed25519" does not fit`},
		{"Ed25519 alg on RSA", []jwkMap{rsa.with("alg", "Ed25519"), good}, []string{"good"}, "does not fit"},
		{"Ed448 alg", []jwkMap{ed.with("alg", "Ed448"), good}, []string{"good"}, `alg "Ed448" is not a supported signature algorithm`},
		{"ed25519 alg (wrong case)", []jwkMap{ed.with("alg", "ed25519"), good}, []string{"good"}, "not a supported"},
		{"RSA-OAEP alg", []jwkMap{rsa.with("alg", "RSA-OAEP"), good}, []string{"good"}, "not a supported signature algorithm"},
		{"HS256 alg on RSA", []jwkMap{rsa.with("alg", "HS256"), good}, []string{"good"}, "not a supported"},
		{"alg none", []jwkMap{rsa.with("alg", "none"), good}, []string{"good"}, "not a supported"},
		{"unknown kty beside good key", []jwkMap{{"kty": "PQC", "kid": "future", "pub": "AAAA"}, good}, []string{"good"}, `unsupported kty "PQC"`},
		{"missing kty", []jwkMap{{"kid": "x", "n": "AQAB"}, good}, []string{"good"}, "missing kty"},
		{"unknown crv", []jwkMap{good.with("crv", "P-192").with("alg", nil), rsa}, []string{"rsa"}, `unsupported crv "P-192"`},
		{"Ed448", []jwkMap{ed.with("crv", "Ed448"), good}, []string{"good"}, `unsupported crv "Ed448"`},
		{"OKP without crv", []jwkMap{ed.with("crv", nil), good}, []string{"good"}, `unsupported crv ""`},
		{"kty RSA with EC members", []jwkMap{good.with("kty", "RSA").with("kid", "w"), rsa}, []string{"rsa"}, "malformed RSA key"},
		{"X25519", []jwkMap{ed.with("crv", "X25519"), good}, []string{"good"}, "not a signature key"},
		{"EC point off curve", []jwkMap{good.with("y", good["x"]), rsa}, []string{"rsa"}, "not on the curve"},
		{"EC coordinates of another curve", []jwkMap{good.with("crv", "P-384").with("alg", "ES384"), rsa}, []string{"rsa"}, "not on the curve"},
		{"Ed25519 short", []jwkMap{ed.with("x", "AAAA"), good}, []string{"good"}, "Ed25519"},
		{"duplicate kid", []jwkMap{good, ecJWK(t, "good"), rsa}, []string{"rsa"}, "duplicate kid"},
		{"duplicate kid, one of them enc", []jwkMap{good, rsa.with("kid", "good").with("use", "enc")}, []string{"good"}, "use"},
		{"several keys without kid", []jwkMap{good.with("kid", nil), rsa.with("kid", nil)}, []string{"", ""}, ""},
		{"kid not a string", []jwkMap{good.with("kid", 7), rsa}, []string{"rsa"}, `"kid" is not a string`},
		{"only hostile keys", []jwkMap{{"kty": "oct", "k": "AAAA"}, rsa.with("d", "AQ")}, nil, "symmetric"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := parseKeySet(setJSON(tt.keys...), "iss", nil)
			if len(tt.kept) == 0 {
				if !errors.Is(err, ErrInvalidKeySet) {
					t.Fatalf("err = %v, want ErrInvalidKeySet", err)
				}
			} else if err != nil {
				t.Fatalf("parseKeySet: %v", err)
			}
			var kids []string
			for _, k := range ps.keys {
				kids = append(kids, k.ID)
				if k.Issuer != "iss" {
					t.Errorf("key %q issuer = %q", k.ID, k.Issuer)
				}
				if !k.checked || k.fits == 0 {
					t.Errorf("key %q has no algorithms", k.ID)
				}
			}
			if !slices.Equal(kids, tt.kept) {
				t.Errorf("kept %q, want %q", kids, tt.kept)
			}
			if want := len(tt.keys) - len(tt.kept); len(ps.rejected) != want {
				t.Fatalf("dropped %d keys (%+v), want %d", len(ps.rejected), ps.rejected, want)
			}
			if tt.reason != "" && !strings.Contains(ps.rejected[0].reason, tt.reason) {
				t.Errorf("reason %q does not contain %q", ps.rejected[0].reason, tt.reason)
			}
		})
	}
}

func TestParseKeySetDocument(t *testing.T) {
	good := ecJWK(t, "good")
	many := make([]jwkMap, maxKeysPerSet+1)
	for i := range many {
		many[i] = good.with("kid", i)
	}
	tests := []struct {
		name string
		body string
	}{
		{"empty", ""},
		{"invalid JSON", `{"keys": [`},
		{"array", `[` + string(must(good)) + `]`},
		{"single JWK without keys", string(must(good))},
		{"keys null", `{"keys": null}`},
		{"keys object", `{"keys": {}}`},
		{"keys string", `{"keys": "x"}`},
		{"empty keys", `{"keys": []}`},
		{"keys of non-objects", `{"keys": [1, "a", null, []]}`},
		{"upper-case KEYS", `{"KEYS": [` + string(must(good)) + `]}`},
		{"null", `null`},
		{"too many keys", string(setJSON(many...))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := parseKeySet([]byte(tt.body), "", nil)
			if !errors.Is(err, ErrInvalidKeySet) {
				t.Fatalf("err = %v, want ErrInvalidKeySet", err)
			}
			if ps != nil && len(ps.keys) != 0 {
				t.Fatalf("kept keys %v", ps.keys)
			}
		})
	}
}

func TestParseKeySetNonObjectBesideGoodKey(t *testing.T) {
	ps, err := parseKeySet([]byte(`{"keys":[1,"x",null,`+string(must(ecJWK(t, "good")))+`]}`), "", nil)
	if err != nil || len(ps.keys) != 1 || ps.keys[0].ID != "good" || len(ps.rejected) != 3 {
		t.Fatalf("got %+v, %v", ps, err)
	}
	if r := ps.rejected[0].reason; r != "not a JSON object" {
		t.Errorf("reason %q", r)
	}
}

// TestParseKeySetFitsSupportedAlgorithms holds that key hygiene keeps every
// key that fits a supported algorithm, whatever the algorithm: which ones a
// token may use is its issuer policy's allow-list, handed to the lookup as
// the token's alg.
func TestParseKeySetFitsSupportedAlgorithms(t *testing.T) {
	body := setJSON(rsaJWK(t, "rs", 2048), rsaJWK(t, "rs-noalg", 2048).with("alg", nil), ecJWK(t, "ec"),
		ecJWKOf(t, "ec384", &ecKey(t, elliptic.P384()).PublicKey).with("alg", nil), edJWK(t, "ed"), edJWK(t, "ed-eddsa").with("alg", "EdDSA"))
	ps, err := parseKeySet(body, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"rs":       {"RS256"},
		"rs-noalg": {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"},
		"ec":       {"ES256"},
		"ec384":    {"ES384"},
		"ed":       {"EdDSA", "Ed25519"},
		"ed-eddsa": {"EdDSA", "Ed25519"},
	}
	if len(ps.keys) != len(want) || len(ps.rejected) != 0 {
		t.Fatalf("kept %d keys, rejected %v", len(ps.keys), ps.rejected)
	}
	for _, k := range ps.keys {
		if got := k.fits.Names(); !slices.Equal(got, want[k.ID]) {
			t.Errorf("%s fits %v, want %v", k.ID, got, want[k.ID])
		}
	}
}

// TestEd25519AlgorithmNames holds the rules for the two names of Ed25519,
// "EdDSA" and the fully-specified "Ed25519" of RFC 9864: a JWK may carry
// either; for key matching they are the same algorithm (a JWK saying one
// fits tokens naming the other). Which names a token may use is the issuer
// policy's allow-list, outside the key set.
func TestEd25519AlgorithmNames(t *testing.T) {
	ed := edJWK(t, "ed")
	tests := []struct {
		name   string
		jwkAlg string   // "" for none
		fits   []string // token algs the key is served for
	}{
		{"no alg", "", []string{"EdDSA", "Ed25519"}},
		{"alg EdDSA", "EdDSA", []string{"EdDSA", "Ed25519"}},
		{"alg Ed25519", "Ed25519", []string{"EdDSA", "Ed25519"}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jwk := ed
			if tt.jwkAlg != "" {
				jwk = ed.with("alg", tt.jwkAlg)
			}
			set, err := New(Config{Sources: []Source{StaticSource(setJSON(jwk))}})
			if err != nil {
				t.Fatal(err)
			}
			defer set.Close()
			for _, alg := range []string{"EdDSA", "Ed25519", "Ed448", "ES256"} {
				want := slices.Contains(tt.fits, alg)
				k, err := set.Key(ctx, "", "ed", alg)
				if want && (err != nil || !k.Fits(alg)) {
					t.Errorf("Key(%q) = %v, %v; want the key", alg, k, err)
				}
				if !want && !errors.Is(err, ErrAlgMismatch) {
					t.Errorf("Key(%q) = %v, %v; want ErrAlgMismatch", alg, k, err)
				}
				// A token without kid finds the key by the same rule.
				if k, err := set.Key(ctx, "", "", alg); want != (err == nil) {
					t.Errorf("Key(\"\", %q) = %v, %v", alg, k, err)
				}
			}
		})
	}
	if _, err := New(Config{Sources: []Source{StaticSource(setJSON(ed.with("alg", "Ed448")))}}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("a key saying Ed448: %v, want ErrInvalidConfig (no usable key)", err)
	}
}

func TestROCAFingerprint(t *testing.T) {
	for i := range 200 {
		if n := rsaModulus(t, 2048); hasROCAFingerprint(n) {
			t.Fatalf("random modulus %d flagged as ROCA: %x", i, n)
		}
	}
	// A modulus built as the product of two RSALib-style primes
	// p = k*M + (65537^a mod M) carries the fingerprint.
	m := big.NewInt(1)
	for _, p := range rocaPrimes {
		m.Mul(m, new(big.Int).SetUint64(p))
	}
	prime := func(k, a int64) *big.Int {
		g := new(big.Int).Exp(big.NewInt(65537), big.NewInt(a), m)
		return g.Add(g, new(big.Int).Mul(big.NewInt(k), m))
	}
	n := new(big.Int).Mul(prime(12345, 777), prime(67890, 4242))
	if !hasROCAFingerprint(n) {
		t.Fatal("RSALib-style modulus not flagged")
	}
}

func must(m jwkMap) []byte {
	b := setJSON(m)
	// strip {"keys":[ ... ]}
	return b[len(`{"keys":[`) : len(b)-2]
}

// TestEd25519KeyHygiene holds the rule that an Ed25519 key must be the
// canonical encoding of a point that is not of small order. With a
// small-order key, a signature R = B, S = 1 made without any private key
// verifies with crypto/ed25519 (the cofactorless RFC 8032 check); through
// the Set, the key is not served, so such a token is refused.
func TestEd25519KeyHygiene(t *testing.T) {
	type row struct {
		name, x, reason string
		forgeable       bool
	}
	var rows []row
	for _, so := range smallOrderEd25519 {
		reason := "small order"
		if !so.canonical {
			reason = "not canonically encoded"
		}
		rows = append(rows, row{so.name, so.x, reason, true})
	}
	rows = append(rows,
		row{"y = 2^255-1 (p+18)", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "y >= p", false},
		row{"y = p+2", "efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "y >= p", false},
	)
	ctx := context.Background()
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			pub := ed25519.PublicKey(unhex(t, tt.x))
			si, sig := forgeEd25519(t, pub, "weak")
			if tt.forgeable && si == "" {
				t.Fatal("the forged signature R = B, S = 1 does not verify with crypto/ed25519")
			}
			weak := jwkMap{"kty": "OKP", "crv": "Ed25519", "kid": "weak", "x": b64(pub)}
			body := setJSON(weak, edJWK(t, "good"))
			set, err := New(Config{Sources: []Source{StaticSource(body)}})
			if err != nil {
				t.Fatal(err)
			}
			defer set.Close()
			k, err := set.Key(ctx, "", "weak", "EdDSA")
			if err == nil && si != "" && jws.Verify("EdDSA", k.Public, si, sig) == nil {
				t.Fatal("a token forged without the private key verifies through the Set")
			}
			if !errors.Is(err, ErrKeyNotFound) {
				t.Fatalf("Key = %v, %v; want ErrKeyNotFound", k, err)
			}
			ps, err := parseKeySet(body, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps.keys) != 1 || ps.keys[0].ID != "good" || len(ps.rejected) != 1 {
				t.Fatalf("kept %d keys, dropped %+v", len(ps.keys), ps.rejected)
			}
			if r := ps.rejected[0].reason; !strings.Contains(r, tt.reason) {
				t.Errorf("reason %q does not contain %q", r, tt.reason)
			}
		})
	}
	t.Run("generated keys kept", func(t *testing.T) {
		keys := make([]jwkMap, 200)
		for i := range keys {
			keys[i] = edJWK(t, strconv.Itoa(i))
		}
		ps, err := parseKeySet(setJSON(keys...), "", nil)
		if err != nil || len(ps.keys) != len(keys) {
			t.Fatalf("kept %d of %d: %v %+v", len(ps.keys), len(keys), err, ps.rejected)
		}
	})
}

// prime2048 is a 2048-bit prime, made once with crypto/rand.Prime (with
// 65537 prime to p-1), for moduli that anyone can factor.
const prime2048 = "" +
	"f43c747f4d70409d1e26ad951986dd5ed8c373882850a1c2b2aceb9373cfee9c" +
	"028535c80a1b526c043a6c18cac07a7e8dd578e1c8d0f1e3a41495a0a67e7548" +
	"07318b56aab897b7d6e250ec15b8134b0493d0858182af1f91766b6a35987487" +
	"2de1826909352f57d00b43056a6bbd245d79dea7e96d2abdb7ebb6f3e9abd3ee" +
	"b464b321dd921da9980214545fffb67ee96622f0ced1208e7b259dce2b120df1" +
	"455c56b7153137a578fb170c1de5afae99165f7fe0b9b772a66a5dd42052004b" +
	"6350c9cb7c779213fa7505d2c822b5f7abe00b3a7a1c983100825b8f6bceee50" +
	"16d764399501e11269c6c523230f1e3173a35ccc173c66a0774247716d043705"

// forgeRS256 signs a compact-JWS signing input (kid, alg RS256) as RS256
// under the public key (n, 65537) with a private exponent computed from phi,
// that is without the key's owner: d = 65537^-1 mod phi, s = m^d mod n for
// the EMSA-PKCS1-v1_5 encoding m of the SHA-256 digest.
func forgeRS256(t *testing.T, n, phi *big.Int, kid string) (string, []byte) {
	t.Helper()
	d := new(big.Int).ModInverse(big.NewInt(65537), phi)
	if d == nil {
		t.Fatal("65537 is not invertible modulo phi")
	}
	si := b64([]byte(`{"alg":"RS256","kid":"`+kid+`"}`)) + "." + b64([]byte(`{"sub":"attacker"}`))
	digest := sha256.Sum256([]byte(si))
	digestInfo := append([]byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}, digest[:]...)
	k := (n.BitLen() + 7) / 8
	em := make([]byte, k)
	em[1] = 0x01
	for i := 2; i < k-len(digestInfo)-1; i++ {
		em[i] = 0xff
	}
	copy(em[k-len(digestInfo):], digestInfo)
	s := new(big.Int).Exp(new(big.Int).SetBytes(em), d, n)
	return si, s.FillBytes(make([]byte, k))
}

// TestRSAFactorableModulus holds the rules that an RSA modulus has no prime
// factor below 2^16 and is not prime. Such a modulus is factored at once,
// so a token signed with a private exponent computed from the public JWK
// verifies with crypto/rsa; through the Set, the key is not served.
func TestRSAFactorableModulus(t *testing.T) {
	p, ok := new(big.Int).SetString(prime2048, 16)
	if !ok || p.BitLen() != 2048 || !p.ProbablyPrime(20) {
		t.Fatal("prime2048 is not a 2048-bit prime")
	}
	pm1 := new(big.Int).Sub(p, big.NewInt(1))
	mul := func(a, b *big.Int) *big.Int { return new(big.Int).Mul(a, b) }
	num := big.NewInt
	tests := []struct {
		name   string
		n, phi *big.Int
		reason string
	}{
		{"prime", p, pm1, "RSA modulus is prime"},
		{"3 x prime", mul(num(3), p), mul(num(2), pm1), "small prime factor 3"},
		{"65521 x prime", mul(num(65521), p), mul(num(65520), pm1), "small prime factor 65521"},
		{"257 x 65521 x prime", mul(num(257*65521), p), mul(num(256*65520), pm1), "small prime factor 257"},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			si, sig := forgeRS256(t, tt.n, tt.phi, "weak")
			pub := &rsa.PublicKey{N: tt.n, E: 65537}
			digest := sha256.Sum256([]byte(si))
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
				t.Fatalf("the forged signature does not verify with crypto/rsa: %v", err)
			}
			weak := jwkMap{"kty": "RSA", "kid": "weak", "alg": "RS256", "n": b64(tt.n.Bytes()), "e": "AQAB"}
			body := setJSON(weak, ecJWK(t, "good"))
			set, err := New(Config{Sources: []Source{StaticSource(body)}})
			if err != nil {
				t.Fatal(err)
			}
			defer set.Close()
			k, err := set.Key(ctx, "", "weak", "RS256")
			if err == nil && jws.Verify("RS256", k.Public, si, sig) == nil {
				t.Fatal("a token forged from the public key verifies through the Set")
			}
			if !errors.Is(err, ErrKeyNotFound) {
				t.Fatalf("Key = %v, %v; want ErrKeyNotFound", k, err)
			}
			ps, err := parseKeySet(body, "", nil)
			if err != nil || len(ps.keys) != 1 || len(ps.rejected) != 1 {
				t.Fatalf("parseKeySet: %v, kept %d, dropped %+v", err, len(ps.keys), ps.rejected)
			}
			if r := ps.rejected[0].reason; !strings.Contains(r, tt.reason) {
				t.Errorf("reason %q does not contain %q", r, tt.reason)
			}
		})
	}
	t.Run("trial division", func(t *testing.T) {
		tab := smallPrimes()
		if len(tab.primes) != 6542 || tab.primes[0] != 2 || tab.primes[len(tab.primes)-1] != 65521 {
			t.Fatalf("%d primes, %d..%d", len(tab.primes), tab.primes[0], tab.primes[len(tab.primes)-1])
		}
		for _, tt := range []struct {
			n    *big.Int
			want uint64
		}{
			{p, 0},
			{new(big.Int).Mul(p, big.NewInt(65537)), 0}, // the first prime above the bound
			{new(big.Int).Mul(p, big.NewInt(65521*65521)), 65521},
			{new(big.Int).Mul(p, big.NewInt(2*3)), 2},
			{big.NewInt(7 * 11 * 13), 7},
			{big.NewInt(1), 0},
			{rsaModulus(t, 2048), 0},
		} {
			if got := smallFactor(tt.n); got != tt.want {
				t.Errorf("smallFactor(%x) = %d, want %d", tt.n, got, tt.want)
			}
		}
	})
}

// The costly RSA modulus tests run once per modulus and source: a parse
// reuses the previous parse's verdicts and records only its own moduli.
func TestModulusVerdictsReused(t *testing.T) {
	good, other := rsaJWK(t, "a", 2048), rsaJWK(t, "b", 2048)
	first, err := parseKeySet(setJSON(good, other), "", nil)
	if err != nil || len(first.keys) != 2 || len(first.moduli) != 2 {
		t.Fatalf("first parse: %v, %d keys, %d verdicts", err, len(first.keys), len(first.moduli))
	}
	// A verdict handed in is used as it is (here a made-up refusal, to see
	// that the tests did not run again).
	prev := moduliVerdicts{}
	for sum, r := range first.moduli {
		if r != "" {
			t.Fatalf("good modulus refused: %s", r)
		}
		prev[sum] = "refused before"
	}
	second, err := parseKeySet(setJSON(good), "", prev)
	if !errors.Is(err, ErrInvalidKeySet) || len(second.rejected) != 1 || second.rejected[0].reason != "refused before" {
		t.Fatalf("second parse: %v, rejected %+v", err, second.rejected)
	}
	if len(second.moduli) != 1 {
		t.Fatalf("%d verdicts kept, want only this document's 1", len(second.moduli))
	}
}
