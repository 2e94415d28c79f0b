package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/big"
	"slices"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sessiongate/sessiongate/internal/jwa"
)

// Key hygiene limits (the smallest RSA modulus is the table's,
// jwa.MinRSABits).
const (
	maxRSABits = 8192
	maxRSAExp  = 1<<31 - 1
)

// privateMembers are JWK members that only private or symmetric keys carry
// (RFC 7518 sections 6.2.2, 6.3.2 and 6.4.1).
var privateMembers = [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// rejectedKey is a JWK that key hygiene dropped, with the reason.
type rejectedKey struct {
	index  int
	kid    string
	kty    string
	reason string
	// sum identifies the key and reason, so each is logged once.
	sum uint64
}

// parsedSet is the result of key hygiene over one JWK set document.
type parsedSet struct {
	keys     []*Key
	rejected []rejectedKey
	// moduli are the verdicts of the costly RSA modulus tests on this
	// document's keys, handed to the next parse of the same source.
	moduli moduliVerdicts
}

// moduliVerdicts maps the SHA-256 of an RSA modulus to the reason it was
// refused by the modulus tests ("" when it passed). The primality test is a
// modular exponentiation, the costliest check of a key, so a source's
// refresh that serves the keys it served before reuses the
// verdicts of the previous fetch instead of repeating the tests. Only the
// previous fetch's moduli are kept: at most maxKeysPerSet per source.
type moduliVerdicts map[[sha256.Size]byte]string

// parseKeySet parses a JWK set document and keeps only the public signature
// keys that pass key hygiene, recording issuer on them. It fails when the
// document is not a JSON object with a "keys" array, holds more than
// maxKeysPerSet entries, or leaves no usable key. A bad key never fails the
// set: it is dropped and listed in rejected.
func parseKeySet(body []byte, issuer string, prev moduliVerdicts) (*parsedSet, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrInvalidKeySet)
	}
	rawKeys, ok := top["keys"]
	if !ok {
		return nil, fmt.Errorf("%w: no \"keys\" member", ErrInvalidKeySet)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(rawKeys, &list); err != nil || list == nil {
		return nil, fmt.Errorf("%w: \"keys\" is not an array", ErrInvalidKeySet)
	}
	if len(list) > maxKeysPerSet {
		return nil, fmt.Errorf("%w: %d keys exceed the limit of %d", ErrInvalidKeySet, len(list), maxKeysPerSet)
	}
	ps := &parsedSet{moduli: moduliVerdicts{}}
	rawOf := make([]json.RawMessage, 0, len(list))
	idx := make([]int, 0, len(list))
	for i, raw := range list {
		k, kid, kty, reason := checkKey(raw, prev, ps.moduli)
		if reason != "" {
			ps.rejected = append(ps.rejected, newRejected(i, kid, kty, reason, raw))
			continue
		}
		k.Issuer = issuer
		ps.keys = append(ps.keys, k)
		rawOf = append(rawOf, raw)
		idx = append(idx, i)
	}
	// A kid that names more than one usable key is ambiguous: drop them all.
	counts := make(map[string]int, len(ps.keys))
	for _, k := range ps.keys {
		if k.ID != "" {
			counts[k.ID]++
		}
	}
	kept := ps.keys[:0]
	for i, k := range ps.keys {
		if counts[k.ID] > 1 {
			ps.rejected = append(ps.rejected, newRejected(idx[i], k.ID, ktyOf(k), "duplicate kid (all keys with this kid are dropped)", rawOf[i]))
			continue
		}
		kept = append(kept, k)
	}
	clear(ps.keys[len(kept):])
	ps.keys = kept
	slices.SortFunc(ps.rejected, func(a, b rejectedKey) int { return a.index - b.index })
	if len(ps.keys) == 0 {
		return ps, fmt.Errorf("%w: no usable key (%d dropped)", ErrInvalidKeySet, len(ps.rejected))
	}
	return ps, nil
}

func newRejected(i int, kid, kty, reason string, raw []byte) rejectedKey {
	h := fnv.New64a()
	h.Write(raw)
	h.Write([]byte{0})
	h.Write([]byte(reason))
	return rejectedKey{index: i, kid: kid, kty: kty, reason: reason, sum: h.Sum64()}
}

func ktyOf(k *Key) string {
	kty, _ := jwa.KeyTypeOf(k.Public)
	return kty
}

// checkKey applies key hygiene to one JWK. It returns the key, or the kid
// and kty it could read and the reason it was dropped.
// prev holds verdicts to reuse (may be nil); seen receives the verdicts of
// this key's RSA modulus (may be nil).
func checkKey(raw json.RawMessage, prev, seen moduliVerdicts) (k *Key, kid, kty, reason string) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, "", "", "not a JSON object"
	}
	var bad string
	member := func(name string) string {
		v, ok := m[name]
		if !ok {
			return ""
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil && bad == "" {
			bad = fmt.Sprintf("member %q is not a string", name)
		}
		return s
	}
	kid, kty, alg, use := member("kid"), member("kty"), member("alg"), member("use")
	if bad != "" {
		return nil, kid, kty, bad
	}
	switch kty {
	case "RSA", "EC", "OKP":
	case "oct":
		return nil, kid, kty, "symmetric key (kty \"oct\")"
	case "":
		return nil, kid, kty, "missing kty"
	default:
		return nil, kid, kty, fmt.Sprintf("unsupported kty %q", kty)
	}
	for _, p := range privateMembers {
		if _, ok := m[p]; ok {
			return nil, kid, kty, fmt.Sprintf("private key material (member %q)", p)
		}
	}
	if crv := member("crv"); kty != "RSA" {
		switch {
		case kty == "EC" && (crv == "P-256" || crv == "P-384" || crv == "P-521"):
		case kty == "OKP" && crv == "Ed25519":
		case kty == "OKP" && (crv == "X25519" || crv == "X448"):
			return nil, kid, kty, fmt.Sprintf("not a signature key (crv %q)", crv)
		default:
			return nil, kid, kty, fmt.Sprintf("unsupported crv %q", crv)
		}
	}
	if _, ok := m["use"]; ok && use != "sig" {
		return nil, kid, kty, fmt.Sprintf("use %q is not \"sig\"", use)
	}
	if v, ok := m["key_ops"]; ok {
		var ops []string
		if err := json.Unmarshal(v, &ops); err != nil {
			return nil, kid, kty, "key_ops is not an array of strings"
		}
		if !slices.Contains(ops, "verify") {
			return nil, kid, kty, "key_ops does not include \"verify\""
		}
	}
	if _, ok := m["alg"]; ok && jwa.Parse(alg) == 0 {
		return nil, kid, kty, fmt.Sprintf("alg %q is not a supported signature algorithm", alg)
	}
	jk, err := jwk.ParseKey(raw)
	if err != nil {
		return nil, kid, kty, "malformed " + kty + " key: " + err.Error()
	}
	var pub any
	if err := jk.Raw(&pub); err != nil {
		return nil, kid, kty, "malformed " + kty + " key: " + err.Error()
	}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if r := checkRSA(p, m["e"], prev, seen); r != "" {
			return nil, kid, kty, r
		}
	case *ecdsa.PublicKey:
		if jwa.Fitting(p) == 0 {
			return nil, kid, kty, "unsupported EC curve"
		}
		if _, err := p.ECDH(); err != nil {
			return nil, kid, kty, "EC point is not on the curve"
		}
	case ed25519.PublicKey:
		if r := checkEd25519(p); r != "" {
			return nil, kid, kty, r
		}
	default:
		return nil, kid, kty, fmt.Sprintf("not a signature key (%T)", pub)
	}
	if alg != "" && !jwa.Parse(alg).Fits(pub) {
		return nil, kid, kty, fmt.Sprintf("alg %q does not fit the key type or curve", alg)
	}
	fits := keyAlgs(pub, alg)
	if fits == 0 {
		return nil, kid, kty, "no supported algorithm fits the key"
	}
	return &Key{ID: kid, Alg: alg, Public: pub, fits: fits, checked: true}, kid, kty, ""
}

// checkRSA applies the RSA rules: modulus of 2048 to 8192 bits, odd, without
// a prime factor below 2^16, without the ROCA fingerprint, and not prime;
// exponent a small odd value of at least 3.
func checkRSA(p *rsa.PublicKey, rawE json.RawMessage, prev, seen moduliVerdicts) string {
	var es string
	if json.Unmarshal(rawE, &es) != nil {
		return "malformed RSA key"
	}
	eb, err := base64.RawURLEncoding.DecodeString(es)
	if err != nil {
		return "malformed RSA exponent"
	}
	for len(eb) > 0 && eb[0] == 0 {
		eb = eb[1:]
	}
	if len(eb) > 4 {
		return "RSA exponent is too large"
	}
	if p.E < 3 || p.E%2 == 0 || p.E > maxRSAExp {
		return fmt.Sprintf("RSA exponent %d is not a small odd value >= 3", p.E)
	}
	if p.N == nil {
		return "malformed RSA key"
	}
	bits := p.N.BitLen()
	if bits < jwa.MinRSABits {
		return fmt.Sprintf("RSA modulus of %d bits is below %d", bits, jwa.MinRSABits)
	}
	if bits > maxRSABits {
		return fmt.Sprintf("RSA modulus of %d bits exceeds %d", bits, maxRSABits)
	}
	if p.N.Bit(0) == 0 {
		return "RSA modulus is even"
	}
	sum := sha256.Sum256(p.N.Bytes())
	r, ok := prev[sum]
	if !ok {
		r = checkModulus(p.N)
	}
	if seen != nil {
		seen[sum] = r
	}
	return r
}

// checkModulus applies the costly tests of an RSA modulus.
func checkModulus(n *big.Int) string {
	// A modulus with a small prime factor, or a prime one, is factored at
	// once: anyone can compute a private exponent from the public JWK.
	if f := smallFactor(n); f != 0 {
		return fmt.Sprintf("RSA modulus has the small prime factor %d", f)
	}
	if hasROCAFingerprint(n) {
		return "RSA modulus has the ROCA fingerprint (CVE-2017-15361)"
	}
	// Last, as the costliest test: one Miller-Rabin round (a modular
	// exponentiation) for a composite modulus.
	if n.ProbablyPrime(20) {
		return "RSA modulus is prime"
	}
	return ""
}
