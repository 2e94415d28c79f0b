package jws

import (
	"strings"
	"unsafe"

	"github.com/sessiongate/sessiongate/internal/jwa"
	"github.com/sessiongate/sessiongate/internal/strictjson"
)

// Parsed is a compact JWS that passed the form and header checks of
// [Policy.ParseInto]. Nothing in it is trusted until [Verify] accepts
// Signature over SigningInput with a key the caller chose.
type Parsed struct {
	// Alg is the header "alg": the name of an algorithm of the
	// internal/jwa table, allowed by the Policy.
	Alg string
	// KID is the header "kid" (JSON-unescaped), or "" when absent (an
	// empty "kid" is refused).
	KID string
	// Typ is the header "typ" as the token spells it (JSON-unescaped), or
	// "" when absent.
	Typ string
	// SigningInput is "<header>.<payload>" as it appears in the token (a
	// substring of it, not a copy): the bytes the signature covers.
	SigningInput string
	// Payload is the decoded payload. ParseInto does not check it is JSON:
	// decode it with a strict decoder (session.Decoder)
	// and only trust it after Verify. It is a string over bytes that
	// ParseInto decoded into a buffer of its own and never changes again,
	// so a decoder may keep substrings of it without a copy.
	Payload string
	// Signature is the decoded signature.
	Signature []byte
}

// forbiddenParams are the header parameters never accepted: each one would
// let the token choose a key, a URL, or a processing rule (RFC 7515 §4.1,
// RFC 7797, RFC 7516).
//
//	crit: extensions we would have to understand (RFC 7515 §4.1.11)
//	b64:  unencoded payload (RFC 7797)
//	cty:  nested JWT / content type
//	jku, jwk, x5u, x5c: a key or a URL to one, supplied by the token
//	zip, enc: JWE parameters
func forbiddenParam(name []byte) string {
	switch string(name) {
	case "crit":
		return "crit"
	case "b64":
		return "b64"
	case "cty":
		return "cty"
	case "jku":
		return "jku"
	case "jwk":
		return "jwk"
	case "x5u":
		return "x5u"
	case "x5c":
		return "x5c"
	case "zip":
		return "zip"
	case "enc":
		return "enc"
	}
	return ""
}

// ParseInto checks token against the policy and splits it, writing into
// out, which the caller may keep on
// the stack or reuse; out is fully overwritten (zeroed on error). Payload
// and Signature share one newly allocated buffer (with the decoded header).
//
// In order, before any cryptography, and stopping at the first failure:
//
//  1. len(token) <= MaxTokenSize (ErrTooLarge);
//  2. exactly three non-empty segments separated by '.', each strictly
//     base64url without padding: only [A-Za-z0-9_-], canonical trailing
//     bits (ErrMalformed). White space, CR/LF, '=', '+', '/', JSON
//     serialization and 5-segment JWE are all malformed;
//  3. the header is one strict JSON object (valid UTF-8, unique member
//     names, no trailing data; ErrMalformed);
//  4. none of crit, b64, cty, jku, jwk, x5u, x5c, zip, enc is present
//     (ErrForbiddenHeader, whatever its value, even null);
//  5. "alg" is present, a string, a supported algorithm and allowed by the
//     policy (ErrAlgNotAllowed; "none" and HS* never are); a non-string alg
//     is ErrMalformed;
//  6. "kid", when present, is a non-empty string of at most MaxKIDLength
//     bytes (an empty kid is not an absent one);
//     "typ", when present, is a string (ErrMalformed), and matches Typ when
//     the policy sets one (ErrTyp).
//
// Other header parameters are ignored (but must be valid JSON). The payload
// is decoded but not parsed as JSON: the caller decodes it strictly anyway,
// so checking it here would parse it twice on the hot path. Use
// a strict decoder (session.Decoder) after the signature.
func (p *Policy) ParseInto(token string, out *Parsed) error {
	*out = Parsed{}
	if len(token) > p.maxTokenSize() {
		return &Error{Err: ErrTooLarge}
	}
	if len(token) > 0 && token[0] == '{' {
		return malformed("JSON serialization is not accepted")
	}
	// Split on '.'; every other character must be in the base64url
	// alphabet, which decodeSegment checks.
	d1 := strings.IndexByte(token, '.')
	if d1 < 0 {
		return malformed("not three segments")
	}
	d2 := strings.IndexByte(token[d1+1:], '.')
	if d2 < 0 {
		return malformed("not three segments")
	}
	d2 += d1 + 1
	if strings.IndexByte(token[d2+1:], '.') >= 0 {
		return malformed("more than three segments")
	}
	hdr, pld, sig := token[:d1], token[d1+1:d2], token[d2+1:]
	if len(hdr) == 0 || len(pld) == 0 || len(sig) == 0 {
		return malformed("empty segment")
	}

	// One buffer for the decoded header, payload and signature. (The
	// header cannot live on the stack: strictjson keeps a reference to its
	// input, which makes it escape.)
	hn, pn, sn := decodedLen(len(hdr)), decodedLen(len(pld)), decodedLen(len(sig))
	buf := make([]byte, hn+pn+sn)
	if !decodeSegment(buf[:hn], hdr) {
		return malformed("header is not strict base64url")
	}
	if err := p.checkHeader(buf[:hn:hn], out); err != nil {
		return err
	}
	if !decodeSegment(buf[hn:hn+pn], pld) {
		*out = Parsed{}
		return malformed("payload is not strict base64url")
	}
	if !decodeSegment(buf[hn+pn:], sig) {
		*out = Parsed{}
		return malformed("signature is not strict base64url")
	}
	out.SigningInput = token[:d2]
	if pn > 0 {
		out.Payload = unsafe.String(&buf[hn], pn)
	}
	out.Signature = buf[hn+pn:]
	return nil
}

// checkHeader validates the decoded header and fills out's header fields.
func (p *Policy) checkHeader(h []byte, out *Parsed) error {
	var d strictjson.Decoder
	d.Reset(h)
	var (
		alg, kid, typ          []byte
		hasAlg, hasKID, hasTyp bool
		forbidden              string
		wrongType              string
	)
	if d.Peek() != strictjson.Object {
		return &Error{Err: ErrMalformed, Detail: "header is not a JSON object"}
	}
	if d.BeginObject() {
		for d.More() {
			name := d.Name()
			if d.Err() != nil {
				break
			}
			switch string(name) {
			case "alg":
				hasAlg = true
				if d.Peek() != strictjson.String {
					wrongType = "alg"
					d.Skip()
					continue
				}
				alg, _ = d.StringBytes()
			case "kid":
				hasKID = true
				if d.Peek() != strictjson.String {
					wrongType = "kid"
					d.Skip()
					continue
				}
				kid, _ = d.StringBytes()
			case "typ":
				hasTyp = true
				if d.Peek() != strictjson.String {
					wrongType = "typ"
					d.Skip()
					continue
				}
				typ, _ = d.StringBytes()
			default:
				if f := forbiddenParam(name); f != "" && forbidden == "" {
					forbidden = f
				}
				d.Skip()
			}
		}
	}
	if err := d.End(); err != nil {
		return &Error{Err: ErrMalformed, Detail: "header is not a strict JSON object", Cause: err}
	}
	if forbidden != "" {
		return &Error{Err: ErrForbiddenHeader, Param: forbidden}
	}
	if wrongType != "" {
		return &Error{Err: ErrMalformed, Param: wrongType, Detail: "header parameter is not a string"}
	}
	if !hasAlg {
		return &Error{Err: ErrAlgNotAllowed, Param: "alg", Detail: "missing"}
	}
	// alg is not retained: Parse only compares it.
	a := jwa.Parse(unsafe.String(unsafe.SliceData(alg), len(alg)))
	if a == 0 || !p.allowed(a) {
		return &Error{Err: ErrAlgNotAllowed, Param: "alg"}
	}
	if hasKID && len(kid) > p.maxKIDLength() {
		return &Error{Err: ErrMalformed, Param: "kid", Detail: "too long"}
	}
	if hasKID && len(kid) == 0 {
		// An empty kid names no key; it is not "no kid" (which would match
		// the only key of the alg). Fail closed.
		return &Error{Err: ErrMalformed, Param: "kid", Detail: "empty"}
	}
	if p != nil && p.Typ != "" {
		if !hasTyp {
			return &Error{Err: ErrTyp, Param: "typ", Detail: "missing"}
		}
		if !typMatches(typ, p.Typ) {
			return &Error{Err: ErrTyp, Param: "typ"}
		}
	}
	out.Alg = a.String()
	if hasKID {
		out.KID = string(kid)
	}
	if hasTyp {
		switch {
		case string(typ) == "JWT":
			out.Typ = "JWT"
		case p != nil && string(typ) == p.Typ:
			out.Typ = p.Typ
		default:
			out.Typ = string(typ)
		}
	}
	return nil
}
