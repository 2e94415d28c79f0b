package jws

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/sessiongate/sessiongate/internal/jwa"
)

// seedTokens returns real-looking tokens and every attack shape of the
// tests, for the fuzz corpora.
func seedTokens(tb testing.TB) []string {
	k := keys(tb)
	var out []string
	for _, alg := range allAlgs {
		out = append(out,
			token(tb, alg, k.signer(alg), hdr(alg, "kid", "key-1", "typ", "at+jwt"), testPayload),
			token(tb, alg, k.signer(alg), hdr(alg), `{}`),
		)
	}
	valid := token(tb, RS256, k.rsa2048, hdr(RS256, "kid", "k"), testPayload)
	h, p, s := split(valid)
	signed := func(header string) string { return token(tb, RS256, k.rsa2048, header, testPayload) }
	for _, none := range caseVariants("none") {
		out = append(out, b64(hdr(none))+"."+p+".", b64(hdr(none))+"."+p+"."+s)
	}
	for _, header := range []string{
		hdr("HS256"), `{"kid":"k"}`, `{}`, hdr(ES256), hdr(PS256), `{"alg":null}`, `{"alg":["RS256"]}`,
		hdr(RS256, "jwk", map[string]string{"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
		hdr(RS256, "jku", "https://attacker.example/jwks.json"), hdr(RS256, "x5u", "https://a/c.pem"),
		hdr(RS256, "x5c", []string{"MIIB"}), hdr(RS256, "crit", []string{"exp"}), hdr(RS256, "crit", []string{}),
		hdr(RS256, "crit", []string{"b64"}, "b64", false), hdr(RS256, "b64", false), hdr(RS256, "cty", "JWT"),
		hdr(RS256, "zip", "DEF"), hdr(RS256, "enc", "A256GCM"),
		`{"alg":"RS256","alg":"RS256"}`, `{"alg":"RS256","\u0061lg":"none"}`, "{\"alg\":\"RS256\",\"kid\":\"\xff\"}",
		`{"alg":"RS256"}x`, `{"alg":"RS256"}{}`, `[]`, hdr(RS256, "kid", strings.Repeat("k", 257)), `{"alg":"RS256","kid":1}`,
		`{"alg":"RS256","typ":"application/at+JWT"}`, `{"alg":"RS256","kid":"a\"b\u00e9"}`,
	} {
		out = append(out, signed(header))
	}
	out = append(out,
		"", ".", "..", "...", valid+".", "."+valid, valid+"."+s, h+"."+p, h+".."+s,
		b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`)+".a2V5.aXY."+p+".dGFn",
		`{"payload":"`+p+`","protected":"`+h+`","signature":"`+s+`"}`,
		`{"payload":"`+p+`","signatures":[{"protected":"`+h+`","signature":"AAAA"},{"protected":"`+h+`","signature":"`+s+`"}]}`,
		h+"=."+p+"."+s, strings.ReplaceAll(valid, "_", "/"), strings.ReplaceAll(valid, "-", "+"),
		h[:10]+"\n"+h[10:]+"."+p+"."+s, h+"."+p+"\r\n."+s, " "+valid, valid+" ", "\t"+valid+"\r\n",
		"eyJhbGciOiJSUzI1NiJ9.e30.AA", "eyJhbGciOiJSUzI1NiJ9.e30.AB", "eyJhbGciOiJSUzI1NiJ9.e31.AA",
	)
	return out
}

func FuzzParse(f *testing.F) {
	for _, tok := range seedTokens(f) {
		f.Add(tok)
	}
	policies := []*Policy{nil, {Algorithms: []string{RS256, EdDSA}, Typ: "at+jwt", MaxKIDLength: 16, MaxTokenSize: 2048}, {Algorithms: []string{Ed25519}}}
	enc := base64.RawURLEncoding.Strict()
	f.Fuzz(func(t *testing.T, tok string) {
		for _, p := range policies {
			got, err := parse(p, tok)
			if err != nil {
				var e *Error
				if got != nil || !errors.As(err, &e) || !isSentinel(e.Err) || e.Err == ErrInvalidPolicy {
					t.Fatalf("bad rejection: %v (%T) got=%v", err, err, got)
				}
				continue
			}
			if len(tok) > p.maxTokenSize() {
				t.Fatalf("accepted a token of %d bytes", len(tok))
			}
			segs := strings.Split(tok, ".")
			if len(segs) != 3 {
				t.Fatalf("accepted %d segments", len(segs))
			}
			var dec [3][]byte
			for i, seg := range segs {
				b, err := enc.DecodeString(seg)
				if err != nil || len(seg) == 0 {
					t.Fatalf("accepted segment %d %q: %v", i, seg, err)
				}
				if re := base64.RawURLEncoding.EncodeToString(b); re != seg {
					t.Fatalf("segment %d does not re-encode: %q != %q", i, re, seg)
				}
				dec[i] = b
			}
			if got.SigningInput != segs[0]+"."+segs[1] || got.Payload != string(dec[1]) || !bytes.Equal(got.Signature, dec[2]) {
				t.Fatalf("parts differ from the segments: %+v", got)
			}
			// The header, read by encoding/json (a different parser), says
			// the same thing.
			var header map[string]json.RawMessage
			if err := json.Unmarshal(dec[0], &header); err != nil {
				t.Fatalf("accepted header encoding/json rejects: %v", err)
			}
			for _, name := range []string{"crit", "b64", "cty", "jku", "jwk", "x5u", "x5c", "zip", "enc"} {
				if _, ok := header[name]; ok {
					t.Fatalf("accepted forbidden %q", name)
				}
			}
			var alg string
			if err := json.Unmarshal(header["alg"], &alg); err != nil || alg != got.Alg || jwa.Parse(alg) == 0 || !p.allowed(jwa.Parse(alg)) {
				t.Fatalf("alg %q (parsed %q): %v", header["alg"], got.Alg, err)
			}
			if raw, ok := header["kid"]; ok != (got.KID != "") {
				t.Fatalf("kid %s parsed as %q (an empty kid is refused)", raw, got.KID)
			} else if ok {
				var kid string
				if err := json.Unmarshal(raw, &kid); err != nil || kid != got.KID || len(kid) > p.maxKIDLength() {
					t.Fatalf("kid %s (parsed %q): %v", raw, got.KID, err)
				}
			}
			if raw, ok := header["typ"]; ok {
				var typ string
				if err := json.Unmarshal(raw, &typ); err != nil || typ != got.Typ {
					t.Fatalf("typ %s (parsed %q): %v", raw, got.Typ, err)
				}
			}
			if p != nil && p.Typ != "" && !typMatches([]byte(got.Typ), p.Typ) {
				t.Fatalf("typ %q accepted for policy %q", got.Typ, p.Typ)
			}
		}
	})
}

// signed is a triple known to verify.
type signed struct {
	alg string
	key crypto.PublicKey
	si  string
	sig []byte
}

func FuzzVerify(f *testing.F) {
	k := keys(f)
	pubs := []crypto.PublicKey{&k.rsa2048.PublicKey, &k.p256.PublicKey, &k.p384.PublicKey, &k.p521.PublicKey, k.ed.Public(), &k.rsa1024.PublicKey, nil}
	var known []signed
	for _, alg := range allAlgs {
		si := b64(hdr(alg, "kid", "k")) + "." + b64(testPayload)
		sig := signRaw(f, alg, k.signer(alg), si)
		known = append(known, signed{alg, k.public(alg), si, sig})
		f.Add(alg, si, sig)
		// Attack seeds: the same signature under other algs and inputs,
		// truncated, zeroed, DER.
		f.Add(alg, si+"x", sig)
		f.Add(alg, si, sig[:len(sig)-1])
		f.Add(alg, si, make([]byte, len(sig)))
		f.Add("HS256", si, sig)
		f.Add("none", si, []byte{})
		if alg[:2] == "ES" {
			size := len(sig) / 2
			f.Add(alg, si, asn1Signature(nil, sig[:size], sig[size:]))
		}
	}
	// highS returns the ECDSA (r, n-s) twin of a signature, which is valid
	// too.
	highS := func(key crypto.PublicKey, sig []byte) []byte {
		pub, ok := key.(*ecdsa.PublicKey)
		if !ok {
			return nil
		}
		size := len(sig) / 2
		s := new(big.Int).SetBytes(sig[size:])
		out := append([]byte(nil), sig[:size]...)
		return append(out, new(big.Int).Sub(pub.Curve.Params().N, s).FillBytes(make([]byte, size))...)
	}
	f.Fuzz(func(t *testing.T, alg, si string, sig []byte) {
		for _, pub := range pubs {
			if Verify(alg, pub, si, sig) != nil {
				continue
			}
			ok := false
			for _, kn := range known {
				if kn.alg == alg && kn.si == si && keyEqual(kn.key, pub) &&
					(bytes.Equal(kn.sig, sig) || bytes.Equal(highS(pub, kn.sig), sig)) {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("Verify(%q, %T, %q, %x) accepted an unknown signature", alg, pub, si, sig)
			}
		}
	})
}

func keyEqual(a, b crypto.PublicKey) bool {
	x, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && b != nil && x.Equal(b)
}

// TestFuzzSeedsVerify checks that the FuzzVerify property is not vacuous:
// the seeded signatures do verify.
func TestFuzzSeedsVerify(t *testing.T) {
	k := keys(t)
	for _, alg := range allAlgs {
		si := b64(hdr(alg)) + "." + b64(testPayload)
		if err := Verify(alg, k.public(alg), si, signRaw(t, alg, k.signer(alg), si)); err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if _, ok := k.public(alg).(*rsa.PublicKey); ok && !keyEqual(k.public(alg), &k.rsa2048.PublicKey) {
			t.Fatal("keyEqual")
		}
	}
}
