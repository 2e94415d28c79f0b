package middleware

// This file is the transport-free verifier: no net/http here. The order of
// the checks is the one written in the package documentation ("What is
// checked, in order"), step by step below.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sessiongate/sessiongate/internal/jws"
	"github.com/sessiongate/sessiongate/internal/strictjson"
	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/session"
)

// maxTokenSize bounds a compact token, in bytes, checked before anything
// else: 16 KiB, far above what identity providers issue (a 1.0.12 Verdocs
// token with a full profile is about 1.5 KB).
const maxTokenSize = 16 << 10

// A Verifier verifies compact tokens against the issuer policies, with no
// HTTP in sight: use it for gRPC, WebSocket or queue consumers ([New]'s
// Authenticator is the HTTP adapter over one). Create it with [NewVerifier];
// it is safe for concurrent use.
type Verifier struct {
	policies policies
	form     jws.Policy // size and form; the algorithm and typ come from the policy
}

// NewVerifier validates cfg.Issuers (the other fields configure the HTTP
// adapter and are not used) and returns a Verifier. It does no network I/O.
// A contradictory policy (two policies for one issuer, a template without
// Tenants, an algorithm that is not supported …) fails with an error
// wrapping [ErrConfig] that names it. Its clock is [time.Now]; tests move
// it with testing/synctest.
func NewVerifier(cfg Config) (*Verifier, error) {
	ps, err := newPolicies(cfg.Issuers)
	if err != nil {
		return nil, err
	}
	return &Verifier{policies: ps, form: jws.Policy{MaxTokenSize: maxTokenSize}}, nil
}

// Verify verifies a compact token and returns it decoded: the session, the
// registered claims, the scopes. The Token is the caller's own. Every error
// is an *[Error]: errors.Is(err, ErrExpired), errors.Is(err,
// ErrInvalidToken), errors.Is(err, jwks.ErrUnavailable) ….
func (v *Verifier) Verify(ctx context.Context, token string) (*session.Token, error) {
	tok, _, err := v.verify(ctx, token, time.Now())
	if err != nil {
		return nil, err
	}
	return tok, nil
}

// verified is what the cache needs besides the token: what to look up again
// on a hit, and whose rules of time apply.
type verified struct {
	policy   *policy
	key      *jwks.Key
	kid, alg string
}

// verify is the cold path.
func (v *Verifier) verify(ctx context.Context, raw string, now time.Time) (*session.Token, verified, error) {
	var out verified
	// 1. Size, form and header, strictly, before anything else (jws):
	// three base64url segments, a strict JSON header, no forbidden
	// parameter, a supported alg, a bounded non-empty kid.
	var p jws.Parsed
	if err := v.form.ParseInto(raw, &p); err != nil {
		return nil, out, jwsError(err)
	}
	// 2. The issuer's policy, chosen by the unverified iss (a bounded scan
	// of the payload that parses nothing else). No policy: refused before
	// any key lookup or fetch.
	iss, ok := peekIssuer(p.Payload)
	if !ok {
		return nil, out, refuse(ErrIssuer, nil)
	}
	pol, tenant, reason := v.policies.lookup(iss)
	if reason != 0 {
		return nil, out, refuse(reason, nil)
	}
	// 3. The policy's allow-list and typ.
	if err := pol.header.Admits(&p); err != nil {
		return nil, out, jwsError(err)
	}
	// 4. The key, from the policy's key source only, for the policy's
	// issuer (a template issuer's keys are bound to the template).
	key, err := pol.keys.Key(ctx, pol.issuer, p.KID, p.Alg)
	if err != nil {
		return nil, out, keyError(err)
	}
	if key.Issuer != "" && key.Issuer != pol.issuer {
		// A key never verifies another issuer's token, whatever the key
		// source returned.
		return nil, out, refuse(ErrUnknownKey, nil)
	}
	if !key.Fits(p.Alg) {
		return nil, out, &Error{Reason: ErrAlgorithm, Description: "algorithm not allowed for key"}
	}
	// 5. The signature, with the pinned algorithm and key.
	if err := jws.Verify(p.Alg, key.Public, p.SigningInput, p.Signature); err != nil {
		return nil, out, jwsError(err)
	}
	// 6. The payload, decoded once and strictly into the session, as the
	// policy's claim map says.
	tok := &session.Token{}
	if err := pol.decoder.DecodeInto(tok, p.Payload); err != nil {
		return nil, out, &Error{Reason: ErrClaims, Cause: err, Description: reasons[ErrClaims].desc}
	}
	tok.Raw = raw
	// 7. The claims' values, then the policy's rules.
	if err := pol.checkClaims(tok, iss, tenant, now); err != nil {
		return nil, out, err
	}
	return tok, verified{policy: pol, key: key, kid: p.KID, alg: p.Alg}, nil
}

// checkClaims checks everything about the claims once, before a token is
// cached. iss is the issuer that chose the policy, tenant its tenant.
func (pol *policy) checkClaims(tok *session.Token, iss, tenant string, now time.Time) error {
	r := &tok.Registered
	if r.Issuer != iss {
		// The strict decoder read another iss than the scan (an escaped
		// name, say): the policy was chosen by a value nobody verified.
		return refuse(ErrIssuer, nil)
	}
	if pol.template {
		if raw, ok := tok.Claim("tid"); ok && !sameString(raw, tenant) {
			return &Error{Reason: ErrTenant, Description: "tid does not match the issuer"}
		}
	}
	if err := pol.checkTime(r, now); err != nil {
		return err
	}
	start := now
	if r.Has(session.ClaimIat) {
		start = r.IssuedAtTime()
	}
	if r.ExpiresAtTime().Sub(start) > pol.lifetime+pol.leeway {
		return refuse(ErrLifetime, nil)
	}
	if !pol.skipAudience {
		if len(r.Audience) == 0 {
			return &Error{Reason: ErrMissingClaim, Description: "missing aud claim"}
		}
		if !slices.ContainsFunc(pol.audiences, r.Audience.Contains) {
			return refuse(ErrAudience, nil)
		}
	}
	if tok.Kind == session.KindSigning && !pol.allowSigning {
		return refuse(ErrKind, nil)
	}
	// A token bound to a key (RFC 7800 cnf: DPoP jkt, RFC 9449; mTLS
	// x5t#S256, RFC 8705) is only as safe as the proof of possession that
	// goes with it. Without that proof it would be a bearer token again, so
	// it is refused until sender constraints are supported.
	if r.Has(session.ClaimCnf) && !pol.acceptBound {
		return refuse(ErrSenderConstrained, nil)
	}
	for i := range pol.rules {
		if rule := &pol.rules[i]; !rule.check(tok) {
			return &Error{Reason: ErrRule, Description: rule.desc}
		}
	}
	return nil
}

// checkTime checks exp, nbf and iat against now with leeway, to the
// nanosecond: a NumericDate's fraction counts (exp = now − 29.5 s is still
// valid with a 30 s leeway; nbf = now + 30.9 s is not yet). It runs on
// every request, cached or not.
func (pol *policy) checkTime(r *session.Registered, now time.Time) error {
	if !r.Has(session.ClaimExp) {
		return &Error{Reason: ErrMissingClaim, Description: "missing exp claim"}
	}
	if r.ExpiresAt <= 0 || !now.Before(r.ExpiresAtTime().Add(pol.leeway)) {
		return refuse(ErrExpired, nil)
	}
	if r.Has(session.ClaimNbf) && now.Add(pol.leeway).Before(r.NotBeforeTime()) {
		return refuse(ErrNotYetValid, nil)
	}
	if r.Has(session.ClaimIat) && r.IssuedAtTime().After(now.Add(pol.leeway)) {
		return &Error{Reason: ErrNotYetValid, Description: "token issued in the future"}
	}
	return nil
}

// jwsError maps an error of the form, header or signature checks.
func jwsError(err error) *Error {
	reason := ErrMalformed
	switch {
	case errors.Is(err, jws.ErrTooLarge):
		reason = ErrTooLarge
	case errors.Is(err, jws.ErrAlgNotAllowed):
		reason = ErrAlgorithm
	case errors.Is(err, jws.ErrKeyMismatch):
		return &Error{Reason: ErrAlgorithm, Cause: err, Description: "algorithm not allowed for key"}
	case errors.Is(err, jws.ErrForbiddenHeader):
		reason = ErrForbiddenHeader
	case errors.Is(err, jws.ErrTyp):
		reason = ErrTyp
	case errors.Is(err, jws.ErrSignature):
		reason = ErrSignature
	}
	return refuse(reason, err)
}

// keyError maps a key-lookup failure: an unavailable key set is a 503, the
// rest are refused tokens.
func keyError(err error) *Error {
	var ue *jwks.UnavailableError
	switch {
	case errors.As(err, &ue):
		return &Error{Reason: ErrUnavailable, Cause: err, Description: reasons[ErrUnavailable].desc, RetryAfter: ue.RetryAfter}
	case errors.Is(err, jwks.ErrUnavailable), errors.Is(err, jwks.ErrClosed):
		return &Error{Reason: ErrUnavailable, Cause: err, Description: reasons[ErrUnavailable].desc, RetryAfter: defaultRetry}
	case errors.Is(err, jwks.ErrAlgMismatch):
		return &Error{Reason: ErrAlgorithm, Cause: err, Description: "algorithm not allowed for key"}
	}
	return refuse(ErrUnknownKey, err)
}

// peekIssuer returns the string value of the first top-level member of
// payload named exactly "iss" (a name spelt with escapes does not count),
// without parsing anything else: names are compared and other values
// skipped by their brackets and quotes, so the work is bounded by the
// payload's size and cheaper than the signature check. It reports false when
// no such member is found or the payload is not an object. Nothing it finds
// is trusted: the strict decode after the signature must read the same iss
// (checkClaims), and refuses duplicate or folded names.
func peekIssuer(payload string) (string, bool) {
	s := payload
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return "", false
	}
	i++
	for {
		i = skipSpace(s, i)
		if i >= len(s) || s[i] != '"' {
			return "", false
		}
		end := stringEnd(s, i)
		if end < 0 {
			return "", false
		}
		name := s[i+1 : end]
		i = skipSpace(s, end+1)
		if i >= len(s) || s[i] != ':' {
			return "", false
		}
		i = skipSpace(s, i+1)
		if name == "iss" {
			if i >= len(s) || s[i] != '"' {
				return "", false
			}
			end := stringEnd(s, i)
			if end < 0 {
				return "", false
			}
			if v := s[i+1 : end]; strings.IndexByte(v, '\\') < 0 {
				return v, true
			}
			var d strictjson.Decoder
			d.Reset([]byte(s[i : end+1]))
			v, ok := d.StringIn(s[i : end+1])
			return v, ok && d.End() == nil
		}
		if i = skipValue(s, i); i < 0 {
			return "", false
		}
		i = skipSpace(s, i)
		if i >= len(s) || s[i] != ',' {
			return "", false
		}
		i++
	}
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index of the quote that closes the string opening
// at s[i], or -1: the next quote not escaped by an odd run of backslashes.
func stringEnd(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		k := strings.IndexByte(s[j:], '"')
		if k < 0 {
			return -1
		}
		j += k
		n := 0
		for b := j - 1; b > i && s[b] == '\\'; b-- {
			n++
		}
		if n%2 == 0 {
			return j
		}
	}
	return -1
}

// skipValue returns the index just after the JSON value starting at s[i]
// (a string by its quotes, a container by its brackets, a scalar up to the
// next delimiter), or -1. It does not validate the value.
func skipValue(s string, i int) int {
	if i >= len(s) {
		return -1
	}
	switch s[i] {
	case '"':
		if end := stringEnd(s, i); end >= 0 {
			return end + 1
		}
		return -1
	case '{', '[':
		depth := 0
		for i < len(s) {
			k := strings.IndexAny(s[i:], `"{}[]`)
			if k < 0 {
				return -1
			}
			i += k
			switch s[i] {
			case '"':
				end := stringEnd(s, i)
				if end < 0 {
					return -1
				}
				i = end + 1
			case '{', '[':
				depth++
				i++
			default:
				depth--
				i++
				if depth == 0 {
					return i
				}
			}
		}
		return -1
	}
	if k := strings.IndexAny(s[i:], ",}] \t\r\n"); k > 0 {
		return i + k
	}
	return -1
}

// sameString reports whether the raw JSON value is the string s.
func sameString(raw []byte, s string) bool {
	var d strictjson.Decoder
	d.Reset(raw)
	if d.Peek() != strictjson.String {
		return false
	}
	v, ok := d.StringIn(string(raw))
	return ok && d.End() == nil && v == s
}

// newDecoder is the session decoder for a policy's claim map, keeping the
// claims in capture for the policy's own checks.
func newDecoder(cm ClaimMap, capture []string) session.Decoder {
	return session.Decoder{Namespace: cm.Namespace, NamespacedOnly: cm.NamespacedOnly,
		Roles: cm.Roles, Permissions: cm.Permissions, Plans: cm.Plans, Capture: capture}
}
