package jws

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"

	"github.com/sessiongate/sessiongate/internal/jwa"
)

// Verify checks that sig is a valid signature of signingInput (the
// "<header>.<payload>" part of a compact JWS) under key with algorithm alg.
// The caller pins both: alg is normally [Parsed.Alg] once the caller has
// checked it against what the key allows, and key comes from the caller's
// configuration, never from the token.
//
// alg is a name of the internal/jwa table and key must fit it
// ([jwa.Alg.Fits]): a *rsa.PublicKey (RS256/384/512, PS256/384/512; modulus
// of at least [jwa.MinRSABits]), a *ecdsa.PublicKey on the curve the
// algorithm names (ES256 P-256, ES384 P-384, ES512 P-521) or an
// ed25519.PublicKey (EdDSA and Ed25519, the same algorithm under its RFC
// 8037 and RFC 9864 names). Any other pairing is ErrKeyMismatch; an alg
// outside the table (including "none" and HS*) is ErrAlgNotAllowed; a
// signature that does not verify, or has the wrong length or form, is
// ErrSignature.
//
// Signatures follow RFC 7518: PKCS #1 v1.5 for RS*; PSS with MGF1 over the
// same hash and a salt as long as the hash for PS* (§3.5); for ES* the
// fixed-size R||S concatenation, each big-endian and exactly the curve's
// coordinate size, with r and s in [1, n-1] (§3.4); Ed25519 per RFC 8037
// and RFC 9864.
//
// Verify never panics (whatever the signature, and for any key of the
// three types, even an invalid one) and is safe for concurrent use. It
// hashes signingInput through a stack buffer, never copying it to the heap;
// beyond what crypto/* allocates it makes one small allocation for PS* (the
// digest, which crypto/rsa retains) and ES* (the DER form of the signature
// that crypto/ecdsa wants), and none for RS*, or for EdDSA and Ed25519 with
// a signing input of up to 2 KiB.
func Verify(alg string, key crypto.PublicKey, signingInput string, sig []byte) error {
	a := jwa.Parse(alg)
	if a == 0 {
		return &Error{Err: ErrAlgNotAllowed, Param: "alg", Detail: "not supported by Verify"}
	}
	if reason := a.Misfit(key); reason != "" {
		return &Error{Err: ErrKeyMismatch, Detail: reason}
	}
	switch a.Scheme() {
	case jwa.SchemePKCS1v15, jwa.SchemePSS:
		return verifyRSA(a, key.(*rsa.PublicKey), signingInput, sig)
	case jwa.SchemeECDSA:
		return verifyECDSA(a, key.(*ecdsa.PublicKey), signingInput, sig)
	case jwa.SchemeEd25519:
		return verifyEd25519(key.(ed25519.PublicKey), signingInput, sig)
	}
	return &Error{Err: ErrAlgNotAllowed, Param: "alg", Detail: "not supported by Verify"}
}

func badSignature(detail string, cause error) error {
	return &Error{Err: ErrSignature, Detail: detail, Cause: cause}
}

// verifyRSA verifies an RS* or PS* signature with a key that fits alg.
func verifyRSA(alg jwa.Alg, pub *rsa.PublicKey, signingInput string, sig []byte) error {
	if len(sig) != (pub.N.BitLen()+7)/8 {
		return badSignature("wrong length", nil)
	}
	var err error
	if alg.Scheme() == jwa.SchemePSS {
		err = verifyPSS(alg.Hash(), pub, signingInput, sig)
	} else {
		err = verifyPKCS1v15(alg.Hash(), pub, signingInput, sig)
	}
	if err != nil {
		return badSignature("", err)
	}
	return nil
}

// verifyPSS and verifyPKCS1v15 are apart because crypto/rsa retains the
// digest in VerifyPSS only: a shared digest buffer would always escape.

func verifyPSS(h crypto.Hash, pub *rsa.PublicKey, signingInput string, sig []byte) error {
	var sum [sha512.Size]byte
	digest := digestOf(h, &sum, signingInput)
	return rsa.VerifyPSS(pub, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
}

func verifyPKCS1v15(h crypto.Hash, pub *rsa.PublicKey, signingInput string, sig []byte) error {
	var sum [sha512.Size]byte
	digest := digestOf(h, &sum, signingInput)
	return rsa.VerifyPKCS1v15(pub, h, digest, sig)
}

// digestOf hashes signingInput with h (SHA-256, SHA-384 or SHA-512, as the
// table says) into sum.
func digestOf(h crypto.Hash, sum *[sha512.Size]byte, signingInput string) []byte {
	switch h {
	case crypto.SHA256:
		return sum256(sum, signingInput)
	case crypto.SHA384:
		return sum384(sum, signingInput)
	}
	return sum512(sum, signingInput)
}

// verifyECDSA verifies an ES* signature with a key on alg's curve.
func verifyECDSA(alg jwa.Alg, pub *ecdsa.PublicKey, signingInput string, sig []byte) error {
	curve := alg.EllipticCurve()
	params := curve.Params()
	size := (params.BitSize + 7) / 8
	if len(sig) != 2*size {
		return badSignature("wrong length", nil)
	}
	r, s := sig[:size], sig[size:]
	var order [66]byte
	n := params.N.FillBytes(order[:size])
	if !inRange(r, n) || !inRange(s, n) {
		return badSignature("r or s out of range", nil)
	}
	// crypto/ecdsa keeps references to both inputs, so they escape: share
	// one allocation.
	var scratch struct {
		sum [sha512.Size]byte
		der [2*(2+67) + 3]byte
	}
	digest := digestOf(alg.Hash(), &scratch.sum, signingInput)
	if !ecdsa.VerifyASN1(pub, digest, asn1Signature(scratch.der[:0], r, s)) {
		return badSignature("", nil)
	}
	return nil
}

// inRange reports 1 <= v <= n-1 for big-endian v and n of the same length.
func inRange(v, n []byte) bool {
	zero := true
	for _, c := range v {
		if c != 0 {
			zero = false
			break
		}
	}
	return !zero && bytes.Compare(v, n) < 0
}

// asn1Signature appends the DER SEQUENCE { INTEGER r, INTEGER s } that
// crypto/ecdsa verifies. r and s are non-zero big-endian integers of at
// most 66 bytes, so the content is at most 138 bytes.
func asn1Signature(dst, r, s []byte) []byte {
	ilen := func(v []byte) int {
		for len(v) > 1 && v[0] == 0 {
			v = v[1:]
		}
		if v[0]&0x80 != 0 {
			return len(v) + 1
		}
		return len(v)
	}
	lr, ls := ilen(r), ilen(s)
	content := 2 + lr + 2 + ls
	dst = append(dst, 0x30)
	if content >= 0x80 {
		dst = append(dst, 0x81)
	}
	dst = append(dst, byte(content))
	dst = appendASN1Int(dst, r, lr)
	return appendASN1Int(dst, s, ls)
}

func appendASN1Int(dst, v []byte, l int) []byte {
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	dst = append(dst, 0x02, byte(l))
	if l > len(v) {
		dst = append(dst, 0)
	}
	return append(dst, v...)
}

// edStackSize is the signing-input size up to which Ed25519 verification
// copies the input to the stack rather than the heap.
const edStackSize = 2048

// verifyEd25519 verifies an EdDSA or Ed25519 signature with a 32-byte key.
func verifyEd25519(pub ed25519.PublicKey, signingInput string, sig []byte) error {
	if len(sig) != ed25519.SignatureSize {
		return badSignature("wrong length", nil)
	}
	var stack [edStackSize]byte
	var msg []byte
	if len(signingInput) <= len(stack) {
		msg = stack[:copy(stack[:], signingInput)]
	} else {
		msg = []byte(signingInput)
	}
	if !ed25519.Verify(pub, msg, sig) {
		return badSignature("", nil)
	}
	return nil
}

// hashChunk is the stack buffer through which a string is fed to a hash
// without copying it whole to the heap.
const hashChunk = 512

// sum256 writes SHA-256(s) into sum and returns that part of it. The
// concrete digest stays on the stack (the calls are devirtualized).
func sum256(sum *[sha512.Size]byte, s string) []byte {
	h := sha256.New()
	var buf [hashChunk]byte
	for len(s) > 0 {
		n := copy(buf[:], s)
		h.Write(buf[:n])
		s = s[n:]
	}
	return h.Sum(sum[:0])
}

// sum384 is sum256 for SHA-384.
func sum384(sum *[sha512.Size]byte, s string) []byte {
	h := sha512.New384()
	var buf [hashChunk]byte
	for len(s) > 0 {
		n := copy(buf[:], s)
		h.Write(buf[:n])
		s = s[n:]
	}
	return h.Sum(sum[:0])
}

// sum512 is sum256 for SHA-512.
func sum512(sum *[sha512.Size]byte, s string) []byte {
	h := sha512.New()
	var buf [hashChunk]byte
	for len(s) > 0 {
		n := copy(buf[:], s)
		h.Write(buf[:n])
		s = s[n:]
	}
	return h.Sum(sum[:0])
}
