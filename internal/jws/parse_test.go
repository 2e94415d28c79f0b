package jws

import (
	"bytes"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/sessiongate/sessiongate/internal/jwa"
)

var allAlgs = []string{RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519}

func TestParseVerifyValid(t *testing.T) {
	k := keys(t)
	for _, alg := range allAlgs {
		t.Run(alg, func(t *testing.T) {
			header := hdr(alg, "kid", "key-1", "typ", "JWT", "x-unknown", map[string]any{"nested": []int{1, 2}})
			tok := token(t, alg, k.signer(alg), header, testPayload)
			got, err := parseVerify(nil, tok, k.public(alg))
			if err != nil {
				t.Fatalf("valid %s token rejected: %v", alg, err)
			}
			last := strings.LastIndexByte(tok, '.')
			sig, _ := base64.RawURLEncoding.DecodeString(tok[last+1:])
			want := Parsed{Alg: alg, KID: "key-1", Typ: "JWT", SigningInput: tok[:last], Payload: testPayload, Signature: sig}
			if got.Alg != want.Alg || got.KID != want.KID || got.Typ != want.Typ ||
				got.SigningInput != want.SigningInput || got.Payload != want.Payload || !bytes.Equal(got.Signature, want.Signature) {
				t.Fatalf("Parse = %+v\nwant    %+v", got, want)
			}
			// ParseInto fills a caller-owned value the same way.
			var into Parsed
			if err := (&Policy{}).ParseInto(tok, &into); err != nil {
				t.Fatal(err)
			}
			if into.Alg != alg || into.SigningInput != tok[:last] {
				t.Fatalf("ParseInto = %+v", into)
			}
		})
	}
}

func TestParseHeaderFields(t *testing.T) {
	k := keys(t)
	tests := []struct {
		name      string
		header    string
		kid, typ  string
		wantError error
	}{
		{name: "no kid, no typ", header: `{"alg":"RS256"}`},
		{name: "empty kid is not an absent kid", header: `{"alg":"RS256","kid":""}`, wantError: ErrMalformed},
		{name: "escaped kid", header: `{"alg":"RS256","kid":"a\"b\u00e9\/c"}`, kid: `a"bé/c`},
		{name: "escaped alg and names", header: `{"\u0061lg":"R\u0053256","k\u0069d":"k"}`, kid: "k"},
		{name: "kid path traversal is just a string", header: `{"alg":"RS256","kid":"../../etc/passwd"}`, kid: "../../etc/passwd"},
		{name: "kid SQL is just a string", header: `{"alg":"RS256","kid":"x' OR '1'='1"}`, kid: "x' OR '1'='1"},
		{name: "kid of max length", header: `{"alg":"RS256","kid":"` + strings.Repeat("a", 256) + `"}`, kid: strings.Repeat("a", 256)},
		{name: "kid too long", header: `{"alg":"RS256","kid":"` + strings.Repeat("a", 257) + `"}`, wantError: ErrMalformed},
		{name: "kid too long after unescaping counts bytes", header: `{"alg":"RS256","kid":"` + strings.Repeat(`\u00e9`, 129) + `"}`, wantError: ErrMalformed},
		{name: "typ as spelt", header: `{"alg":"RS256","typ":"application/AT+jwt"}`, typ: "application/AT+jwt"},
		{name: "white space around members", header: " {\n\t\"alg\" : \"RS256\" } \r\n"},
		{name: "unknown members ignored", header: `{"alg":"RS256","x5t":"abc","x5t#S256":"def","foo":{"crit":["x"]},"bar":[null,true,1.5e3]}`},
		{name: "nested forbidden name inside unknown member is fine", header: `{"alg":"RS256","ext":{"jwk":{},"jku":"https://x"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := token(t, RS256, k.rsa2048, tc.header, testPayload)
			got, err := parseVerify(nil, tok, k.public(RS256))
			if tc.wantError != nil {
				if !errors.Is(err, tc.wantError) {
					t.Fatalf("err = %v, want %v", err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Alg != RS256 || got.KID != tc.kid || got.Typ != tc.typ {
				t.Fatalf("got alg=%q kid=%q typ=%q", got.Alg, got.KID, got.Typ)
			}
		})
	}
}

// attack is one token that must be rejected with want (and Param, when
// set, names the header parameter).
type attack struct {
	name   string
	policy *Policy
	tok    string
	key    any // defaults to the RS256 key
	want   error
	param  string
}

func runAttacks(t *testing.T, attacks []attack) {
	t.Helper()
	k := keys(t)
	for _, tc := range attacks {
		t.Run(tc.name, func(t *testing.T) {
			key := tc.key
			if key == nil {
				key = k.public(RS256)
			}
			got, err := parseVerify(tc.policy, tc.tok, key)
			if err == nil {
				t.Fatalf("accepted: %+v", got)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err %T is not *Error", err)
			}
			if tc.param != "" && e.Param != tc.param {
				t.Fatalf("Param = %q, want %q (err %v)", e.Param, tc.param, err)
			}
			if !isSentinel(e.Err) {
				t.Fatalf("err %v wraps %v, not one of the sentinels", err, e.Err)
			}
			// The log text must not echo the token.
			for _, seg := range strings.Split(tc.tok, ".") {
				if len(seg) >= 8 && strings.Contains(err.Error(), seg) {
					t.Fatalf("error %q echoes token segment %q", err, seg)
				}
			}
		})
	}
}

// split returns the three segments of a valid token.
func split(tok string) (h, p, s string) {
	parts := strings.Split(tok, ".")
	return parts[0], parts[1], parts[2]
}

// caseVariants returns every upper/lower casing of s.
func caseVariants(s string) []string {
	out := []string{""}
	for _, c := range s {
		var next []string
		for _, prefix := range out {
			lo, up := strings.ToLower(string(c)), strings.ToUpper(string(c))
			next = append(next, prefix+lo)
			if up != lo {
				next = append(next, prefix+up)
			}
		}
		out = next
	}
	return out
}

func TestAttackAlgNone(t *testing.T) {
	k := keys(t)
	valid := token(t, RS256, k.rsa2048, hdr(RS256), testPayload)
	_, p, s := split(valid)
	var attacks []attack
	for _, none := range caseVariants("none") {
		h := b64(hdr(none))
		attacks = append(attacks,
			attack{name: none + " empty signature", tok: h + "." + p + ".", want: ErrMalformed},
			attack{name: none + " two segments", tok: h + "." + p, want: ErrMalformed},
			attack{name: none + " with signature", tok: h + "." + p + "." + s, want: ErrAlgNotAllowed, param: "alg"},
			attack{name: none + " with signature, policy lists it", policy: &Policy{Algorithms: []string{none, RS256}}, tok: h + "." + p + "." + s, want: ErrAlgNotAllowed, param: "alg"},
		)
	}
	if len(attacks) != 16*4 {
		t.Fatalf("%d none variants", len(attacks)/4)
	}
	runAttacks(t, attacks)
}

func TestAttackHMACWithPublicKey(t *testing.T) {
	k := keys(t)
	pub := &k.rsa2048.PublicKey
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	jwk, _ := json.Marshal(map[string]string{
		"kty": "RSA",
		"n":   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	})
	secrets := map[string][]byte{
		"PEM":        pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		"PKCS1 PEM":  pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)}),
		"DER":        der,
		"PKCS1 DER":  x509.MarshalPKCS1PublicKey(pub),
		"JWK":        jwk,
		"empty":      {},
		"N":          pub.N.Bytes(),
		"JWK string": []byte(string(jwk)),
	}
	var attacks []attack
	for name, secret := range secrets {
		for _, alg := range []string{"HS256", "hs256", "Hs256", "HS384", "HS512"} {
			si := b64(hdr(alg, "kid", "rsa-1")) + "." + b64(testPayload)
			mac := hmac.New(sha256.New, secret)
			mac.Write([]byte(si))
			tok := si + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
			attacks = append(attacks,
				attack{name: alg + " secret " + name, tok: tok, want: ErrAlgNotAllowed, param: "alg"},
				attack{name: alg + " secret " + name + ", policy lists it", policy: &Policy{Algorithms: []string{alg}}, tok: tok, want: ErrAlgNotAllowed, param: "alg"},
			)
			// Verify alone refuses HMAC too, whatever the key.
			if err := Verify(alg, pub, si, mac.Sum(nil)); !errors.Is(err, ErrAlgNotAllowed) {
				t.Fatalf("Verify(%s) = %v", alg, err)
			}
			if err := Verify(alg, secret, si, mac.Sum(nil)); !errors.Is(err, ErrAlgNotAllowed) {
				t.Fatalf("Verify(%s, []byte) = %v", alg, err)
			}
		}
	}
	runAttacks(t, attacks)
}

func TestAttackHeaderAlgOverRS256Signature(t *testing.T) {
	k := keys(t)
	// Each token carries a valid RS256 signature (by the RS256 key) over
	// its own signing input, but its header says something else.
	signed := func(header string) string { return token(t, RS256, k.rsa2048, header, testPayload) }
	runAttacks(t, []attack{
		{name: "HS256", tok: signed(hdr("HS256")), want: ErrAlgNotAllowed, param: "alg"},
		{name: "ES256 with the RSA key", tok: signed(hdr(ES256)), want: ErrKeyMismatch},
		{name: "ES256 not allowed", policy: &Policy{Algorithms: []string{RS256}}, tok: signed(hdr(ES256)), want: ErrAlgNotAllowed},
		{name: "PS256", tok: signed(hdr(PS256)), want: ErrSignature},
		{name: "PS256 not allowed", policy: &Policy{Algorithms: []string{RS256}}, tok: signed(hdr(PS256)), want: ErrAlgNotAllowed},
		{name: "RS384", tok: signed(hdr(RS384)), want: ErrSignature},
		{name: "EdDSA", tok: signed(hdr(EdDSA)), want: ErrKeyMismatch},
		{name: "Ed25519", tok: signed(hdr(Ed25519)), want: ErrKeyMismatch},
		{name: "Ed448", tok: signed(hdr("Ed448")), want: ErrAlgNotAllowed},
		{name: "lower case ed25519", tok: signed(hdr("ed25519")), want: ErrAlgNotAllowed},
		{name: "absent", tok: signed(`{"kid":"k"}`), want: ErrAlgNotAllowed, param: "alg"},
		{name: "empty object", tok: signed(`{}`), want: ErrAlgNotAllowed, param: "alg"},
		{name: "empty string", tok: signed(hdr("")), want: ErrAlgNotAllowed},
		{name: "lower case rs256", tok: signed(hdr("rs256")), want: ErrAlgNotAllowed},
		{name: "RS256 with space", tok: signed(hdr("RS256 ")), want: ErrAlgNotAllowed},
		{name: "RS256 with NUL", tok: signed(hdr("RS256\x00")), want: ErrAlgNotAllowed},
		{name: "unknown RS1", tok: signed(hdr("RS1")), want: ErrAlgNotAllowed},
		{name: "not in policy list", policy: &Policy{Algorithms: []string{ES256, EdDSA}}, tok: signed(hdr(RS256)), want: ErrAlgNotAllowed},
		{name: "empty allow-list allows nothing", policy: &Policy{Algorithms: []string{}}, tok: signed(hdr(RS256)), want: ErrAlgNotAllowed},
		{name: "alg null", tok: signed(`{"alg":null}`), want: ErrMalformed, param: "alg"},
		{name: "alg number", tok: signed(`{"alg":256}`), want: ErrMalformed, param: "alg"},
		{name: "alg array", tok: signed(`{"alg":["RS256"]}`), want: ErrMalformed, param: "alg"},
		{name: "alg object", tok: signed(`{"alg":{"RS256":true}}`), want: ErrMalformed, param: "alg"},
		{name: "alg bool", tok: signed(`{"alg":true}`), want: ErrMalformed, param: "alg"},
	})
}

func TestAttackForbiddenHeaders(t *testing.T) {
	k := keys(t)
	signed := func(header string) string { return token(t, RS256, k.rsa2048, header, testPayload) }
	attackerJWK := map[string]any{"kty": "RSA", "n": base64.RawURLEncoding.EncodeToString(k.rsa2048.N.Bytes()), "e": "AQAB"}
	runAttacks(t, []attack{
		{name: "jwk", tok: signed(hdr(RS256, "jwk", attackerJWK)), want: ErrForbiddenHeader, param: "jwk"},
		{name: "jku", tok: signed(hdr(RS256, "jku", "https://attacker.example/jwks.json")), want: ErrForbiddenHeader, param: "jku"},
		{name: "x5u", tok: signed(hdr(RS256, "x5u", "https://attacker.example/cert.pem")), want: ErrForbiddenHeader, param: "x5u"},
		{name: "x5c", tok: signed(hdr(RS256, "x5c", []string{"MIIB..."})), want: ErrForbiddenHeader, param: "x5c"},
		{name: "crit unknown", tok: signed(hdr(RS256, "crit", []string{"exp"}, "exp", 1)), want: ErrForbiddenHeader, param: "crit"},
		{name: "crit empty", tok: signed(hdr(RS256, "crit", []string{})), want: ErrForbiddenHeader, param: "crit"},
		{name: "crit b64", tok: signed(hdr(RS256, "crit", []string{"b64"}, "b64", false)), want: ErrForbiddenHeader},
		{name: "crit null", tok: signed(`{"alg":"RS256","crit":null}`), want: ErrForbiddenHeader, param: "crit"},
		{name: "crit escaped name", tok: signed(`{"alg":"RS256","\u0063rit":["x"]}`), want: ErrForbiddenHeader, param: "crit"},
		{name: "b64 false", tok: signed(hdr(RS256, "b64", false)), want: ErrForbiddenHeader, param: "b64"},
		{name: "b64 true", tok: signed(hdr(RS256, "b64", true)), want: ErrForbiddenHeader, param: "b64"},
		{name: "cty JWT", tok: signed(hdr(RS256, "cty", "JWT")), want: ErrForbiddenHeader, param: "cty"},
		{name: "zip", tok: signed(hdr(RS256, "zip", "DEF")), want: ErrForbiddenHeader, param: "zip"},
		{name: "enc", tok: signed(hdr(RS256, "enc", "A256GCM")), want: ErrForbiddenHeader, param: "enc"},
		{name: "forbidden with alg none", tok: signed(`{"alg":"none","jwk":{}}`), want: ErrForbiddenHeader, param: "jwk"},
		{name: "forbidden before alg", tok: signed(`{"jku":"https://a","alg":"RS256"}`), want: ErrForbiddenHeader, param: "jku"},
	})
}

// withSegment replaces segment i (0, 1, 2) of tok.
func withSegment(tok string, i int, seg string) string {
	parts := strings.Split(tok, ".")
	parts[i] = seg
	return strings.Join(parts, ".")
}

// nonCanonical flips an unused trailing bit of a segment whose length is
// not a multiple of 4, so that a lenient decoder yields the same bytes.
func nonCanonical(t *testing.T, seg string) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(seg)%4 == 0 {
		t.Fatalf("segment length %d has no trailing bits", len(seg))
	}
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	out := seg[:len(seg)-1] + string(alphabet[last|1])
	a, err1 := base64.RawURLEncoding.DecodeString(seg)
	b, err2 := base64.RawURLEncoding.DecodeString(out)
	if err1 != nil || err2 != nil || !bytes.Equal(a, b) || out == seg {
		t.Fatalf("nonCanonical(%q) = %q does not decode to the same bytes", seg, out)
	}
	return out
}

func TestAttackForm(t *testing.T) {
	k := keys(t)
	// Header, payload and signature lengths that are not multiples of 3,
	// so each segment has padding and trailing bits.
	payload := testPayload
	for len(payload)%3 == 0 {
		payload = payload[:len(payload)-1] + ` }`
	}
	header := `{"alg":"RS256","kid":"k-12"}` // 28 bytes
	valid := token(t, RS256, k.rsa2048, header, payload)
	if _, err := parseVerify(nil, valid, k.public(RS256)); err != nil {
		t.Fatal(err)
	}
	h, p, s := split(valid)
	for i, seg := range []string{h, p, s} {
		if len(seg)%4 == 0 {
			t.Fatalf("segment %d has no padding", i)
		}
	}
	padded := func(seg string) string { return seg + strings.Repeat("=", (4-len(seg)%4)%4) }
	stdAlphabet := func(seg string) string {
		out := strings.NewReplacer("-", "+", "_", "/").Replace(seg)
		if out == seg { // no - or _ in this segment: inject one
			out = "+" + seg[1:]
		}
		return out
	}
	attacks := []attack{
		{name: "empty", tok: "", want: ErrMalformed},
		{name: "one segment", tok: h, want: ErrMalformed},
		{name: "two segments", tok: h + "." + p, want: ErrMalformed},
		{name: "four segments", tok: valid + "." + s, want: ErrMalformed},
		{name: "four segments empty last", tok: valid + ".", want: ErrMalformed},
		{name: "JWE five segments", tok: b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".a2V5.aXY." + p + ".dGFn", want: ErrMalformed},
		{name: "leading dot", tok: "." + valid, want: ErrMalformed},
		{name: "leading dots", tok: ".." + p + "." + s, want: ErrMalformed},
		{name: "trailing dot", tok: h + "." + p + ".", want: ErrMalformed},
		{name: "empty payload", tok: h + ".." + s, want: ErrMalformed},
		{name: "only dots", tok: "..", want: ErrMalformed},
		{name: "flattened JSON serialization", tok: `{"payload":"` + p + `","protected":"` + h + `","signature":"` + s + `"}`, want: ErrMalformed},
		{name: "general JSON serialization", tok: `{"payload":"` + p + `","signatures":[{"protected":"` + h + `","signature":"AAAA"},{"protected":"` + h + `","signature":"` + s + `"}]}`, want: ErrMalformed},
		{name: "general JSON serialization with spaces", tok: ` {"payload": "` + p + `"}`, want: ErrMalformed},
		{name: "non-ASCII", tok: h + "é." + p + "." + s, want: ErrMalformed},
		{name: "NUL", tok: valid + "\x00", want: ErrMalformed},
		{name: "percent-encoded", tok: strings.Replace(valid, ".", "%2E", 1), want: ErrMalformed},
		{name: "oversized garbage", tok: strings.Repeat("A", DefaultMaxTokenSize+1), want: ErrTooLarge},
		{name: "oversized JSON", tok: "{" + strings.Repeat(" ", DefaultMaxTokenSize) + "}", want: ErrTooLarge},
		{name: "oversized by policy", policy: &Policy{MaxTokenSize: len(valid) - 1}, tok: valid, want: ErrTooLarge},
	}
	for i, seg := range []string{h, p, s} {
		name := []string{"header", "payload", "signature"}[i]
		attacks = append(attacks,
			attack{name: name + " padded", tok: withSegment(valid, i, padded(seg)), want: ErrMalformed},
			attack{name: name + " standard alphabet", tok: withSegment(valid, i, stdAlphabet(seg)), want: ErrMalformed},
			attack{name: name + " standard alphabet padded", tok: withSegment(valid, i, padded(stdAlphabet(seg))), want: ErrMalformed},
			attack{name: name + " non-canonical trailing bits", tok: withSegment(valid, i, nonCanonical(t, seg)), want: ErrMalformed},
			attack{name: name + " length 1 mod 4", tok: withSegment(valid, i, seg[:len(seg)-len(seg)%4]+"A"), want: ErrMalformed},
		)
		for _, ws := range []string{"\r", "\n", "\r\n", " ", "\t", "\v", "\f"} {
			q := strings.NewReplacer("\r", `\r`, "\n", `\n`, "\t", `\t`, "\v", `\v`, "\f", `\f`).Replace(ws)
			mid := len(seg) / 2
			attacks = append(attacks,
				attack{name: name + " " + q + " inside", tok: withSegment(valid, i, seg[:mid]+ws+seg[mid:]), want: ErrMalformed},
				attack{name: name + " " + q + " before", tok: withSegment(valid, i, ws+seg), want: ErrMalformed},
				attack{name: name + " " + q + " after", tok: withSegment(valid, i, seg+ws), want: ErrMalformed},
			)
		}
	}
	for _, ws := range []string{"\r\n", "\n", " ", "\t"} {
		attacks = append(attacks,
			attack{name: "surrounding " + strings.ReplaceAll(strings.ReplaceAll(ws, "\r", `\r`), "\n", `\n`), tok: ws + valid + ws, want: ErrMalformed},
			attack{name: "trailing " + strings.ReplaceAll(strings.ReplaceAll(ws, "\r", `\r`), "\n", `\n`), tok: valid + ws, want: ErrMalformed},
		)
	}
	// A single CR or LF in a segment whose length is a multiple of 4 does
	// not change the decoded length, and encoding/base64 would skip it: the
	// decoder must reject it as a character outside the alphabet.
	aligned := token(t, RS256, k.rsa2048, `{"alg":"RS256","kid":"k-1"}`, payload)
	ah, _, _ := split(aligned)
	if len(ah)%4 != 0 {
		t.Fatalf("aligned header has length %d", len(ah))
	}
	for _, lb := range []string{"\n", "\r"} {
		attacks = append(attacks,
			attack{name: "aligned header with " + strings.ReplaceAll(strings.ReplaceAll(lb, "\r", `\r`), "\n", `\n`), tok: withSegment(aligned, 0, ah[:8]+lb+ah[8:]), want: ErrMalformed},
			attack{name: "aligned header ending with " + strings.ReplaceAll(strings.ReplaceAll(lb, "\r", `\r`), "\n", `\n`), tok: withSegment(aligned, 0, ah+lb), want: ErrMalformed},
		)
	}
	runAttacks(t, attacks)

	// The boundary: a token of exactly MaxTokenSize is accepted.
	if _, err := parseVerify(&Policy{MaxTokenSize: len(valid)}, valid, k.public(RS256)); err != nil {
		t.Fatalf("token of exactly MaxTokenSize: %v", err)
	}
}

func TestAttackHeaderJSON(t *testing.T) {
	k := keys(t)
	signed := func(header string) string { return token(t, RS256, k.rsa2048, header, testPayload) }
	runAttacks(t, []attack{
		{name: "duplicate alg", tok: signed(`{"alg":"RS256","alg":"RS256"}`), want: ErrMalformed},
		{name: "duplicate alg HS256 then RS256", tok: signed(`{"alg":"HS256","alg":"RS256"}`), want: ErrMalformed},
		{name: "duplicate alg by escape", tok: signed(`{"alg":"RS256","\u0061lg":"none"}`), want: ErrMalformed},
		{name: "duplicate kid", tok: signed(`{"kid":"a","alg":"RS256","kid":"b"}`), want: ErrMalformed},
		{name: "duplicate unknown", tok: signed(`{"alg":"RS256","x":1,"x":2}`), want: ErrMalformed},
		{name: "duplicate inside unknown", tok: signed(`{"alg":"RS256","x":{"a":1,"a":2}}`), want: ErrMalformed},
		{name: "invalid UTF-8 in value", tok: signed("{\"alg\":\"RS256\",\"kid\":\"\xff\"}"), want: ErrMalformed},
		{name: "invalid UTF-8 in name", tok: signed("{\"alg\":\"RS256\",\"\xc3\x28\":1}"), want: ErrMalformed},
		{name: "overlong UTF-8", tok: signed("{\"alg\":\"RS256\",\"kid\":\"\xc0\xaf\"}"), want: ErrMalformed},
		{name: "lone surrogate escape", tok: signed(`{"alg":"RS256","kid":"\ud800"}`), want: ErrMalformed},
		{name: "trailing garbage", tok: signed(`{"alg":"RS256"}x`), want: ErrMalformed},
		{name: "trailing object", tok: signed(`{"alg":"RS256"}{"alg":"none"}`), want: ErrMalformed},
		{name: "trailing NUL", tok: signed("{\"alg\":\"RS256\"}\x00"), want: ErrMalformed},
		{name: "trailing comma", tok: signed(`{"alg":"RS256",}`), want: ErrMalformed},
		{name: "BOM", tok: signed("\ufeff{\"alg\":\"RS256\"}"), want: ErrMalformed},
		{name: "truncated", tok: signed(`{"alg":"RS256"`), want: ErrMalformed},
		{name: "array", tok: signed(`[{"alg":"RS256"}]`), want: ErrMalformed},
		{name: "string", tok: signed(`"RS256"`), want: ErrMalformed},
		{name: "null", tok: signed(`null`), want: ErrMalformed},
		{name: "single quotes", tok: signed(`{'alg':'RS256'}`), want: ErrMalformed},
		{name: "comment", tok: signed(`{"alg":"RS256"/*x*/}`), want: ErrMalformed},
		{name: "too deep", tok: signed(`{"alg":"RS256","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`), want: ErrMalformed},
		{name: "kid number", tok: signed(`{"alg":"RS256","kid":1}`), want: ErrMalformed, param: "kid"},
		{name: "kid null", tok: signed(`{"alg":"RS256","kid":null}`), want: ErrMalformed, param: "kid"},
		{name: "kid array", tok: signed(`{"alg":"RS256","kid":["a"]}`), want: ErrMalformed, param: "kid"},
		{name: "kid object", tok: signed(`{"alg":"RS256","kid":{}}`), want: ErrMalformed, param: "kid"},
		{name: "kid too long", tok: signed(hdr(RS256, "kid", strings.Repeat("k", 257))), want: ErrMalformed, param: "kid"},
		{name: "kid too long for policy", policy: &Policy{MaxKIDLength: 8}, tok: signed(hdr(RS256, "kid", "123456789")), want: ErrMalformed, param: "kid"},
		{name: "typ number", tok: signed(`{"alg":"RS256","typ":1}`), want: ErrMalformed, param: "typ"},
		{name: "typ null", tok: signed(`{"alg":"RS256","typ":null}`), want: ErrMalformed, param: "typ"},
	})
}

func TestTyp(t *testing.T) {
	k := keys(t)
	tests := []struct {
		policyTyp string
		header    string
		ok        bool
	}{
		{"at+jwt", hdr(RS256, "typ", "at+jwt"), true},
		{"at+jwt", hdr(RS256, "typ", "AT+JWT"), true},
		{"at+jwt", hdr(RS256, "typ", "application/at+jwt"), true},
		{"at+jwt", hdr(RS256, "typ", "application/at+JWT"), true},
		{"at+jwt", hdr(RS256, "typ", "Application/At+Jwt"), true},
		{"application/at+jwt", hdr(RS256, "typ", "at+jwt"), true},
		{"AT+JWT", hdr(RS256, "typ", "application/at+jwt"), true},
		{"JWT", hdr(RS256, "typ", "jwt"), true},
		{"at+jwt", hdr(RS256, "typ", "JWT"), false},
		{"at+jwt", hdr(RS256, "typ", "application/jwt"), false},
		{"at+jwt", hdr(RS256, "typ", "text/at+jwt"), false},
		{"at+jwt", hdr(RS256, "typ", "application/application/at+jwt"), false},
		{"at+jwt", hdr(RS256, "typ", "at+jwt "), false},
		{"at+jwt", hdr(RS256, "typ", ""), false},
		{"at+jwt", hdr(RS256, "typ", "application/"), false},
		{"at+jwt", hdr(RS256), false},
		{"", hdr(RS256), true},
		{"", hdr(RS256, "typ", "anything/at-all"), true},
	}
	for _, tc := range tests {
		t.Run(tc.policyTyp+" vs "+tc.header, func(t *testing.T) {
			p := &Policy{Typ: tc.policyTyp}
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			_, err := parseVerify(p, token(t, RS256, k.rsa2048, tc.header, testPayload), k.public(RS256))
			if tc.ok && err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrTyp) {
				t.Fatalf("err = %v, want ErrTyp", err)
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name   string
		policy *Policy
		ok     bool
	}{
		{"nil", nil, true},
		{"zero", &Policy{}, true},
		{"all supported", &Policy{Algorithms: jwa.Supported.Names()}, true},
		{"one", &Policy{Algorithms: []string{EdDSA}, MaxTokenSize: 4096, MaxKIDLength: 64, Typ: "at+jwt"}, true},
		{"empty list", &Policy{Algorithms: []string{}}, false},
		{"none", &Policy{Algorithms: []string{RS256, "none"}}, false},
		{"NONE", &Policy{Algorithms: []string{"NONE"}}, false},
		{"HS256", &Policy{Algorithms: []string{"HS256"}}, false},
		{"hs512", &Policy{Algorithms: []string{"hs512"}}, false},
		{"lower case rs256", &Policy{Algorithms: []string{"rs256"}}, false},
		{"Ed448", &Policy{Algorithms: []string{"Ed448"}}, false},
		{"Ed25519", &Policy{Algorithms: []string{Ed25519}}, true},
		{"ES256K", &Policy{Algorithms: []string{"ES256K"}}, false},
		{"empty name", &Policy{Algorithms: []string{""}}, false},
		{"negative size", &Policy{MaxTokenSize: -1}, false},
		{"negative kid", &Policy{MaxKIDLength: -1}, false},
		{"typ with space", &Policy{Typ: " at+jwt"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Validate()
			if tc.ok && err != nil {
				t.Fatal(err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("err = %v, want ErrInvalidPolicy", err)
			}
		})
	}
}

func TestParseIntoClearsOnError(t *testing.T) {
	k := keys(t)
	valid := token(t, RS256, k.rsa2048, hdr(RS256, "kid", "k"), testPayload)
	h, _, s := split(valid)
	out := Parsed{Alg: "stale", KID: "stale", Payload: "stale"}
	// The header passes, the payload does not decode.
	if err := (*Policy)(nil).ParseInto(h+".a+b."+s, &out); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v", err)
	}
	if out.Alg != "" || out.KID != "" || out.Payload != "" || out.SigningInput != "" {
		t.Fatalf("out not cleared: %+v", out)
	}
}

// sentinels are the errors an *Error wraps (the package doc lists them).
var sentinels = []error{ErrMalformed, ErrTooLarge, ErrAlgNotAllowed, ErrForbiddenHeader, ErrTyp, ErrKeyMismatch, ErrSignature, ErrInvalidPolicy}

func isSentinel(err error) bool { return slices.Contains(sentinels, err) }

func TestErrorText(t *testing.T) {
	e := &Error{Err: ErrForbiddenHeader, Param: "x5u", Detail: "d"}
	if e.Error() != "jws: header parameter not allowed: x5u: d" {
		t.Errorf("Error() = %q", e.Error())
	}
	if !errors.Is(&Error{Err: ErrSignature, Cause: rsa.ErrVerification}, rsa.ErrVerification) {
		t.Error("cause not unwrapped")
	}
}
