package jwkstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"github.com/sessiongate/sessiongate/internal/jwa"
)

// issuerKey is one key of an Issuer. A removed key is no longer published
// but can still sign ([WithKey]).
type issuerKey struct {
	kid, alg  string
	priv      crypto.Signer
	published bool
}

// AddKey generates a key for alg and publishes it in the JWK set; the key
// that signs tokens does not change (use [WithKey] to sign with the new
// one). It returns the key's kid, its RFC 7638 thumbprint.
//
// alg is one of the algorithms sessiongate verifies: RS256, RS384, RS512,
// PS256, PS384, PS512 (a 2048-bit RSA key, generated on demand: tens of
// milliseconds), ES256, ES384, ES512 (P-256, P-384, P-521) or EdDSA and
// Ed25519 (an Ed25519 key published under that name). AddKey panics on any
// other alg.
func (iss *Issuer) AddKey(alg string) (kid string) { return iss.addKey("AddKey", alg, nil, false) }

// Rotate generates a key for alg as [Issuer.AddKey] does and makes it the
// key that signs tokens. The previous keys stay published until
// [Issuer.RemoveKey].
func (iss *Issuer) Rotate(alg string) (kid string) { return iss.addKey("Rotate", alg, nil, true) }

// ImportKey publishes a key of your own for alg, such as a 4096-bit or a
// too-weak 1024-bit RSA key, and returns its kid (its RFC 7638 thumbprint).
// Like [Issuer.AddKey] it does not change the key that signs tokens. It
// panics if key cannot sign alg or if the Issuer already has this key.
func (iss *Issuer) ImportKey(alg string, key crypto.Signer) (kid string) {
	if key == nil {
		panic(fmt.Sprintf("jwkstest: ImportKey(%q, nil): the key is nil", alg))
	}
	return iss.addKey("ImportKey", alg, key, false)
}

func (iss *Issuer) addKey(method, alg string, key crypto.Signer, makeSigner bool) string {
	a := algOf(method, alg)
	if key == nil {
		key = generateKey(a)
	} else if kty, crv := jwa.KeyTypeOf(key.Public()); kty != a.KeyType() || crv != a.Curve() {
		panic(fmt.Sprintf("jwkstest: %s(%q): a %T cannot sign %s, which needs %s", method, alg, key, alg, keyNeeded(a)))
	}
	k := &issuerKey{kid: thumbprint(key.Public()), alg: alg, priv: key, published: true}
	iss.mu.Lock()
	defer iss.mu.Unlock()
	if iss.findLocked(k.kid) != nil {
		panic(fmt.Sprintf("jwkstest: %s(%q): the issuer already has this key (kid %q)", method, alg, k.kid))
	}
	iss.keys = append(iss.keys, k)
	if makeSigner {
		iss.signer = k
	}
	return k.kid
}

// RemoveKey withdraws the key with this kid from the JWK set and reports
// whether it was published. The Issuer keeps the private key, so tokens
// signed by a retired key can still be minted ([WithKey]); if it was the
// key that signs tokens, it stays so until [Issuer.Rotate].
func (iss *Issuer) RemoveKey(kid string) bool {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	k := iss.findLocked(kid)
	if k == nil || !k.published {
		return false
	}
	k.published = false
	return true
}

// KID returns the kid of the key that signs tokens: the key made by [New]
// or [NewServer], or the last one [Issuer.Rotate] made.
func (iss *Issuer) KID() string {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.signer.kid
}

// Key returns the private key with this kid, published or removed: an
// *ecdsa.PrivateKey, *rsa.PrivateKey or ed25519.PrivateKey for the keys the
// kit made, the key itself for an imported one. Its Public method gives the
// public key a verifier uses. Key panics if the Issuer has no such key.
func (iss *Issuer) Key(kid string) crypto.Signer {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.mustFindLocked("Key", kid).priv
}

// JWKS returns the JWK set the Issuer serves when healthy: {"keys":[…]}
// with the public JWK of each published key (kty, kid, use "sig", alg and
// the key's members), in the order the keys were added. It suits
// jwks.StaticSource.
func (iss *Issuer) JWKS() []byte {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	var b strings.Builder
	b.WriteString(`{"keys":[`)
	n := 0
	for _, k := range iss.keys {
		if !k.published {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		b.Write(mustMarshal(publicJWK(k)))
		n++
	}
	b.WriteString("]}")
	return []byte(b.String())
}

func (iss *Issuer) findLocked(kid string) *issuerKey {
	for _, k := range iss.keys {
		if k.kid == kid {
			return k
		}
	}
	return nil
}

// mustFindLocked returns the key with kid, or panics naming the method and
// the kids the Issuer has.
func (iss *Issuer) mustFindLocked(method, kid string) *issuerKey {
	if k := iss.findLocked(kid); k != nil {
		return k
	}
	kids := make([]string, len(iss.keys))
	for i, k := range iss.keys {
		kids[i] = k.kid
	}
	panic(fmt.Sprintf("jwkstest: %s(%q): the issuer has no key with this kid (its kids: %s)", method, kid, strings.Join(kids, ", ")))
}

// algOf returns the table's entry for alg, or panics naming the method and
// the algorithms the kit signs with.
func algOf(method, alg string) jwa.Alg {
	a := jwa.Parse(alg)
	if a == 0 {
		panic(fmt.Sprintf("jwkstest: %s(%q): unsupported algorithm; the kit signs with %s", method, alg, strings.Join(jwa.Supported.Names(), ", ")))
	}
	return a
}

// keyNeeded describes the key an algorithm signs with.
func keyNeeded(a jwa.Alg) string {
	switch a.Scheme() {
	case jwa.SchemeECDSA:
		return "an *ecdsa.PrivateKey on " + a.Curve()
	case jwa.SchemeEd25519:
		return "an ed25519.PrivateKey"
	}
	return "an *rsa.PrivateKey"
}

// generateKey makes a key for a: RSA keys have 2048 bits.
func generateKey(a jwa.Alg) crypto.Signer {
	var (
		key crypto.Signer
		err error
	)
	switch a.Scheme() {
	case jwa.SchemeECDSA:
		key, err = ecdsa.GenerateKey(a.EllipticCurve(), rand.Reader)
	case jwa.SchemeEd25519:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		key, err = rsa.GenerateKey(rand.Reader, jwa.MinRSABits)
	}
	if err != nil {
		panic("jwkstest: generating a key: " + err.Error())
	}
	return key
}

// publicJWK is the public JWK of k.
func publicJWK(k *issuerKey) map[string]any {
	m := thumbprintMembers(k.priv.Public())
	m["kid"], m["alg"], m["use"] = k.kid, k.alg, "sig"
	return m
}

// thumbprint returns the RFC 7638 JWK thumbprint (SHA-256, base64url) of a
// public key.
func thumbprint(pub crypto.PublicKey) string {
	// json.Marshal sorts map keys and adds no white space, and the values
	// need no escaping: this is the RFC 7638 canonical form.
	sum := sha256.Sum256(mustMarshal(thumbprintMembers(pub)))
	return b64(sum[:])
}

// thumbprintMembers returns the required members of a public JWK: n and e
// for RSA, crv and x and y (padded to the curve's size) for EC, crv and x
// for OKP.
func thumbprintMembers(pub crypto.PublicKey) map[string]any {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "n": b64(p.N.Bytes()), "e": b64(big.NewInt(int64(p.E)).Bytes())}
	case *ecdsa.PublicKey:
		_, crv := jwa.KeyTypeOf(p)
		raw, err := p.Bytes() // 0x04 || X || Y, each padded to the curve's size
		if crv == "" || err != nil {
			panic(fmt.Sprintf("jwkstest: unsupported EC public key (curve %q): %v", crv, err))
		}
		size := (len(raw) - 1) / 2
		return map[string]any{"kty": "EC", "crv": crv, "x": b64(raw[1 : 1+size]), "y": b64(raw[1+size:])}
	case ed25519.PublicKey:
		return map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(p)}
	}
	panic(fmt.Sprintf("jwkstest: unsupported public key type %T", pub))
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("jwkstest: " + err.Error())
	}
	return b
}

// sign returns the JWS signature of input by k: PKCS #1 v1.5 or PSS (salt
// as long as the hash) for RSA, the fixed-size R||S for ECDSA, and the
// Ed25519 signature.
func sign(k *issuerKey, input []byte) []byte {
	a := jwa.Parse(k.alg)
	if a.Scheme() == jwa.SchemeEd25519 {
		return mustSign(k.priv.Sign(rand.Reader, input, crypto.Hash(0)))
	}
	h := a.Hash().New()
	h.Write(input)
	digest := h.Sum(nil)
	switch a.Scheme() {
	case jwa.SchemePKCS1v15:
		return mustSign(k.priv.Sign(rand.Reader, digest, a.Hash()))
	case jwa.SchemePSS:
		return mustSign(k.priv.Sign(rand.Reader, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: a.Hash()}))
	}
	// ECDSA: crypto.Signer returns ASN.1 DER; JWS wants R||S.
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(mustSign(k.priv.Sign(rand.Reader, digest, a.Hash())), &rs); err != nil {
		panic("jwkstest: ECDSA signature: " + err.Error())
	}
	size := (a.EllipticCurve().Params().BitSize + 7) / 8
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out
}

func mustSign(sig []byte, err error) []byte {
	if err != nil {
		panic("jwkstest: signing: " + err.Error())
	}
	return sig
}
