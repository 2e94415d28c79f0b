package jwkstest_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"math/big"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Helpers that check the kit from the outside with crypto/* only.

func unb64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64url %q: %v", s, err)
	}
	return b
}

// jwkPublic decodes a public JWK into a crypto public key, checking the
// fixed sizes of EC and OKP members.
func jwkPublic(t testing.TB, m map[string]any) crypto.PublicKey {
	t.Helper()
	str := func(name string) string {
		v, ok := m[name].(string)
		if !ok {
			t.Fatalf("JWK member %q = %#v, want a string", name, m[name])
		}
		return v
	}
	switch str("kty") {
	case "RSA":
		n := new(big.Int).SetBytes(unb64(t, str("n")))
		e := new(big.Int).SetBytes(unb64(t, str("e")))
		if !e.IsInt64() {
			t.Fatalf("huge e")
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}
	case "EC":
		var c elliptic.Curve
		var size int
		switch str("crv") {
		case "P-256":
			c, size = elliptic.P256(), 32
		case "P-384":
			c, size = elliptic.P384(), 48
		case "P-521":
			c, size = elliptic.P521(), 66
		default:
			t.Fatalf("crv %q", str("crv"))
		}
		x, y := unb64(t, str("x")), unb64(t, str("y"))
		if len(x) != size || len(y) != size {
			t.Fatalf("EC coordinates of %d and %d bytes, want %d", len(x), len(y), size)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(c, append(append([]byte{4}, x...), y...))
		if err != nil {
			t.Fatalf("EC point: %v", err)
		}
		return pub
	case "OKP":
		if str("crv") != "Ed25519" {
			t.Fatalf("crv %q", str("crv"))
		}
		x := unb64(t, str("x"))
		if len(x) != ed25519.PublicKeySize {
			t.Fatalf("Ed25519 x of %d bytes", len(x))
		}
		return ed25519.PublicKey(x)
	}
	t.Fatalf("kty %q", m["kty"])
	return nil
}

type jwt struct {
	header  map[string]any
	payload map[string]any
	rawPay  []byte
	input   string
	sig     []byte
}

func splitJWT(t testing.TB, tok string) jwt {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	var j jwt
	if err := json.Unmarshal(unb64(t, parts[0]), &j.header); err != nil {
		t.Fatalf("header: %v", err)
	}
	j.rawPay = unb64(t, parts[1])
	dec := json.NewDecoder(strings.NewReader(string(j.rawPay)))
	dec.UseNumber()
	if err := dec.Decode(&j.payload); err != nil {
		t.Fatalf("payload: %v", err)
	}
	j.input = parts[0] + "." + parts[1]
	j.sig = unb64(t, parts[2])
	return j
}

// verifySig verifies a JWS signature made with alg by pub's private key.
func verifySig(alg string, pub crypto.PublicKey, input string, sig []byte) error {
	var h hash.Hash
	var ch crypto.Hash
	switch alg[2:] {
	case "256":
		h, ch = sha256.New(), crypto.SHA256
	case "384":
		h, ch = sha512.New384(), crypto.SHA384
	case "512":
		h, ch = sha512.New(), crypto.SHA512
	}
	if alg == "EdDSA" || alg == "Ed25519" {
		p, ok := pub.(ed25519.PublicKey)
		if !ok || !ed25519.Verify(p, []byte(input), sig) {
			return fmt.Errorf("bad EdDSA signature")
		}
		return nil
	}
	h.Write([]byte(input))
	d := h.Sum(nil)
	switch alg[:2] {
	case "RS":
		p, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("not RSA")
		}
		return rsa.VerifyPKCS1v15(p, ch, d, sig)
	case "PS":
		p, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("not RSA")
		}
		return rsa.VerifyPSS(p, ch, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES":
		p, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("not ECDSA")
		}
		size := (p.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return fmt.Errorf("ECDSA signature of %d bytes, want %d", len(sig), 2*size)
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		if !ecdsa.Verify(p, d, r, s) {
			return fmt.Errorf("bad ECDSA signature")
		}
		return nil
	}
	return fmt.Errorf("unknown alg %q", alg)
}

type jwkSet struct {
	Keys []map[string]any `json:"keys"`
}

func getJSON(t testing.TB, c *http.Client, url string, v any) *http.Response {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("decode %s: %v\n%s", url, err, b)
		}
	}
	return res
}

// fetchKeys fetches a JWK set and indexes its public keys by kid.
func fetchKeys(t testing.TB, c *http.Client, url string) map[string]crypto.PublicKey {
	t.Helper()
	var set jwkSet
	getJSON(t, c, url, &set)
	out := map[string]crypto.PublicKey{}
	for _, k := range set.Keys {
		out[k["kid"].(string)] = jwkPublic(t, k)
	}
	return out
}

// noGoroutineLeak records the goroutine count and, at cleanup, polls
// briefly for it to come back down.
func noGoroutineLeak(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutines: %d before, %d after\n%s", before, n, buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
