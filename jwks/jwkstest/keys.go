package jwkstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"

	"github.com/sessiongate/sessiongate/internal/jwa"
)

// Signature algorithms the kit signs with (JWA names, RFC 7518, RFC 8037 and
// RFC 9864). RSA algorithms use 2048-bit keys; ES256, ES384 and ES512 use
// P-256, P-384 and P-521; EdDSA and Ed25519 (the same algorithm under its
// RFC 8037 and its fully-specified RFC 9864 name) use Ed25519. Ed448 is not
// supported.
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

// Algorithms lists every algorithm the kit can generate keys for and sign
// with, in a stable order: every algorithm sessiongate verifies.
func Algorithms() []string { return jwa.Supported.Names() }

// Key is a signing key of an [Issuer]: its kid, the algorithm it signs with,
// and its private key.
type Key struct {
	// KID is the key id published in the JWK set and put in token headers.
	KID string
	// Alg is the JWA algorithm the key signs with.
	Alg string
	// Private is the private key: an *rsa.PrivateKey, *ecdsa.PrivateKey or
	// ed25519.PrivateKey for keys the kit generated.
	Private crypto.Signer
}

// Public returns the public key.
func (k Key) Public() crypto.PublicKey { return k.Private.Public() }

// JWK returns the key's public JWK as a fresh map (kty, kid, use "sig", alg
// and the key parameters) that the caller may change, e.g. to craft a hostile
// variant for [Issuer.AddRawJWK].
func (k Key) JWK() map[string]any { return PublicJWK(k.Public(), k.KID, k.Alg) }

// PublicJWK builds the public JWK of an *rsa.PublicKey (n, e), an
// *ecdsa.PublicKey on P-256, P-384 or P-521 (crv, and x and y padded to the
// curve's size) or an ed25519.PublicKey (OKP, crv Ed25519, x), with use
// "sig". kid and alg are left out when empty. It panics on any other key.
func PublicJWK(pub crypto.PublicKey, kid, alg string) map[string]any {
	m := thumbprintMembers(pub)
	m["use"] = "sig"
	if kid != "" {
		m["kid"] = kid
	}
	if alg != "" {
		m["alg"] = alg
	}
	return m
}

// Thumbprint returns the RFC 7638 JWK thumbprint (SHA-256, base64url) of a
// public key of a type [PublicJWK] accepts. Keys the kit generates use it as
// their kid.
func Thumbprint(pub crypto.PublicKey) string {
	// json.Marshal sorts map keys and adds no whitespace, and the values
	// need no escaping: this is the RFC 7638 canonical form.
	b, err := json.Marshal(thumbprintMembers(pub))
	if err != nil {
		panic("jwkstest: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return b64(sum[:])
}

// thumbprintMembers returns the required members of a public JWK.
func thumbprintMembers(pub crypto.PublicKey) map[string]any {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return map[string]any{
			"kty": "RSA",
			"n":   b64(p.N.Bytes()),
			"e":   b64(big.NewInt(int64(p.E)).Bytes()),
		}
	case *ecdsa.PublicKey:
		_, crv := jwa.KeyTypeOf(p)
		if crv == "" {
			panic("jwkstest: unsupported elliptic curve")
		}
		size := (p.Curve.Params().BitSize + 7) / 8
		raw, err := p.Bytes() // 0x04 || X || Y, each padded to size
		if err != nil || len(raw) != 1+2*size {
			panic(fmt.Sprintf("jwkstest: invalid EC public key: %v", err))
		}
		return map[string]any{
			"kty": "EC",
			"crv": crv,
			"x":   b64(raw[1 : 1+size]),
			"y":   b64(raw[1+size:]),
		}
	case ed25519.PublicKey:
		return map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(p)}
	}
	panic(fmt.Sprintf("jwkstest: unsupported public key type %T", pub))
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// algOf returns the table's entry for an algorithm the kit signs with, and
// panics for any other name.
func algOf(alg string) jwa.Alg {
	a := jwa.Parse(alg)
	if a == 0 {
		panic(fmt.Sprintf("jwkstest: unsupported algorithm %q", alg))
	}
	return a
}

// checkKey panics unless key is of the type and curve alg needs. Unlike a
// verifier it takes an RSA key of any size: tests sign with weak keys on
// purpose.
func checkKey(alg string, key crypto.Signer) {
	if key == nil {
		panic("jwkstest: nil key")
	}
	a := algOf(alg)
	if kty, crv := jwa.KeyTypeOf(key.Public()); kty != a.KeyType() || crv != a.Curve() {
		panic(fmt.Sprintf("jwkstest: a %T cannot sign %s", key.Public(), alg))
	}
}

// sign signs input (the JWS signing input) with key as alg, producing the
// JWS signature bytes: PKCS #1 v1.5 or PSS (salt length = hash length) for
// RSA, the fixed-size R||S for ECDSA, and the Ed25519 signature.
func sign(key crypto.Signer, alg string, input []byte) ([]byte, error) {
	a := jwa.Parse(alg)
	if a == 0 {
		return nil, fmt.Errorf("jwkstest: unsupported algorithm %q", alg)
	}
	if a.Scheme() == jwa.SchemeEd25519 {
		return key.Sign(rand.Reader, input, crypto.Hash(0))
	}
	h := a.Hash()
	hh := h.New()
	hh.Write(input)
	digest := hh.Sum(nil)
	switch a.Scheme() {
	case jwa.SchemePKCS1v15:
		return key.Sign(rand.Reader, digest, h)
	case jwa.SchemePSS:
		return key.Sign(rand.Reader, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h})
	}
	// ES: crypto.Signer returns ASN.1 DER; JWS wants R||S.
	der, err := key.Sign(rand.Reader, digest, h)
	if err != nil {
		return nil, err
	}
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &rs); err != nil {
		return nil, fmt.Errorf("jwkstest: ECDSA signature: %w", err)
	}
	pub, _ := key.Public().(*ecdsa.PublicKey)
	if pub == nil || pub.Curve != a.EllipticCurve() {
		return nil, fmt.Errorf("jwkstest: %s needs an ECDSA key on %s", alg, a.Curve())
	}
	size := (pub.Curve.Params().BitSize + 7) / 8
	if rs.R.Sign() < 0 || rs.S.Sign() < 0 || rs.R.BitLen() > 8*size || rs.S.BitLen() > 8*size {
		return nil, fmt.Errorf("jwkstest: ECDSA signature out of range")
	}
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out, nil
}

// generateKey makes a key for alg. RSA keys come from the shared pool of
// pre-generated keys while one is free (recorded in l), then are generated.
func generateKey(alg string, l *lease) crypto.Signer {
	a := algOf(alg)
	var (
		key crypto.Signer
		err error
	)
	switch a.Scheme() {
	case jwa.SchemeECDSA:
		key, err = ecdsa.GenerateKey(a.EllipticCurve(), rand.Reader)
	case jwa.SchemeEd25519:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default: // RSA
		if k := l.acquire(); k != nil {
			return k
		}
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		panic("jwkstest: generating a key: " + err.Error())
	}
	return key
}

// rsaPool hands out the pre-generated RSA keys of testRSAKeys so that no two
// live Issuers share one: a test that signs with one issuer's key and claims
// another issuer's kid must see the signature fail. A key returns to the pool
// when its Issuer is closed or garbage collected.
//
// This is the package's only shared mutable state; it is internal, needs no
// initialization and never changes behaviour, only which key material an
// Issuer gets.
var rsaPool keyPool

type keyPool struct {
	once  sync.Once
	keys  []*rsa.PrivateKey
	mu    sync.Mutex
	inUse []bool
}

func (p *keyPool) load() {
	p.once.Do(func() {
		rest := []byte(testRSAKeys)
		for {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				panic("jwkstest: bad embedded test key: " + err.Error())
			}
			p.keys = append(p.keys, k.(*rsa.PrivateKey))
		}
		p.inUse = make([]bool, len(p.keys))
	})
}

// take returns a free pool key and its index, or (nil, -1).
func (p *keyPool) take() (*rsa.PrivateKey, int) {
	p.load()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, used := range p.inUse {
		if !used {
			p.inUse[i] = true
			return p.keys[i], i
		}
	}
	return nil, -1
}

func (p *keyPool) put(i int) {
	p.mu.Lock()
	p.inUse[i] = false
	p.mu.Unlock()
}

// lease records the pool keys one Issuer holds.
type lease struct {
	mu       sync.Mutex
	idx      []int
	released bool
}

// acquire takes a pool key for the lease holder, or returns nil when the
// pool is exhausted or the lease was released.
func (l *lease) acquire() *rsa.PrivateKey {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return nil
	}
	k, i := rsaPool.take()
	if k == nil {
		return nil
	}
	l.idx = append(l.idx, i)
	return k
}

// release returns the lease's keys to the pool. It is idempotent.
func (l *lease) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return
	}
	l.released = true
	for _, i := range l.idx {
		rsaPool.put(i)
	}
	l.idx = nil
}
