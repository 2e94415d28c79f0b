package jwkstest

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"time"

	"github.com/sessiongate/sessiongate/session"
)

// DefaultAudience is the "aud" of minted tokens unless [WithAudience] says
// otherwise.
const DefaultAudience = "https://api.example.test"

// DefaultTTL is how long after "iat" minted tokens expire unless the session
// or an option sets "exp".
const DefaultTTL = time.Hour

// Option changes a token minted by [Issuer.Token], [Issuer.SigningToken] or
// [Issuer.RawToken]. Claim and header options apply in the order given,
// after the claims from the session and the defaults.
type Option func(*mintOptions)

type mintOptions struct {
	kid        string // signing key; "" = the signer
	namespace  *string
	objects    bool
	claimOps   []fieldOp
	headerOps  []fieldOp
	signatureF func(signingInput []byte) []byte
}

// fieldOp sets (val != nil) or deletes a claim or header parameter.
type fieldOp struct {
	name string
	val  func(now time.Time) any
}

func setClaim(name string, val func(now time.Time) any) Option {
	return func(o *mintOptions) { o.claimOps = append(o.claimOps, fieldOp{name, val}) }
}

func constant(v any) func(time.Time) any { return func(time.Time) any { return v } }

// WithIssuer sets the "iss" claim.
func WithIssuer(iss string) Option { return setClaim("iss", constant(iss)) }

// WithAudience sets the "aud" claim: a string for one audience, an array
// otherwise (an empty array for none).
func WithAudience(aud ...string) Option {
	if len(aud) == 1 {
		return setClaim("aud", constant(aud[0]))
	}
	return setClaim("aud", constant(append([]string{}, aud...)))
}

// WithSubject sets the "sub" claim.
func WithSubject(sub string) Option { return setClaim("sub", constant(sub)) }

// WithExpiresAt sets "exp" to t (in whole seconds).
func WithExpiresAt(t time.Time) Option { return setClaim("exp", constant(t.Unix())) }

// WithExpiresIn sets "exp" to the Issuer's now + d; a negative d mints an
// expired token.
func WithExpiresIn(d time.Duration) Option {
	return setClaim("exp", func(now time.Time) any { return now.Add(d).Unix() })
}

// WithNotBefore sets "nbf" to t.
func WithNotBefore(t time.Time) Option { return setClaim("nbf", constant(t.Unix())) }

// WithIssuedAt sets "iat" to t. It does not move "exp".
func WithIssuedAt(t time.Time) Option { return setClaim("iat", constant(t.Unix())) }

// WithClaim sets any claim, by its literal name, to a value that
// json.Marshal accepts (nil writes null). Custom claims carry the namespace
// in their name: "https://verdocs.com/roles".
func WithClaim(name string, value any) Option { return setClaim(name, constant(value)) }

// WithoutClaims removes claims, by their literal names ("exp", "iss",
// "https://verdocs.com/email" …).
func WithoutClaims(names ...string) Option {
	return func(o *mintOptions) {
		for _, n := range names {
			o.claimOps = append(o.claimOps, fieldOp{name: n})
		}
	}
}

// WithNamespace sets the prefix of custom claim names for [Issuer.Token] and
// [Issuer.SigningToken] (default "https://verdocs.com/"); "" writes
// plain names such as "roles".
func WithNamespace(ns string) Option { return func(o *mintOptions) { o.namespace = &ns } }

// WithIDNameObjects writes roles and permissions as {"id","name"} objects
// rather than as the strings of their ids.
func WithIDNameObjects() Option { return func(o *mintOptions) { o.objects = true } }

// WithKey signs with the Issuer's key with this kid (published or removed)
// instead of the signer; the header's kid and alg follow it unless set by
// another option. Minting panics if the Issuer has no such key.
func WithKey(kid string) Option { return func(o *mintOptions) { o.kid = kid } }

func setHeader(name string, v any) Option {
	return func(o *mintOptions) { o.headerOps = append(o.headerOps, fieldOp{name, constant(v)}) }
}

// WithKID sets the header's "kid" only; the signing key does not change (use
// [WithKey] for that).
func WithKID(kid string) Option { return setHeader("kid", kid) }

// WithAlg sets the header's "alg" only; the token is still signed with the
// key's own algorithm, which crafts an algorithm mismatch ("none", "HS256",
// "RS256" on an EC key …).
func WithAlg(alg string) Option { return setHeader("alg", alg) }

// WithTyp sets the header's "typ" (default "JWT").
func WithTyp(typ string) Option { return setHeader("typ", typ) }

// WithHeader sets any header parameter ("jku", "x5u", "jwk", "crit", "b64"
// …) to a value json.Marshal accepts.
func WithHeader(name string, value any) Option { return setHeader(name, value) }

// WithoutHeader removes header parameters ("kid", "typ", even "alg").
func WithoutHeader(names ...string) Option {
	return func(o *mintOptions) {
		for _, n := range names {
			o.headerOps = append(o.headerOps, fieldOp{name: n})
		}
	}
}

// WithSignatureFunc replaces the signature: f receives the JWS signing input
// (base64url(header) "." base64url(payload)) and returns the signature bytes
// to encode (nil or empty for an empty signature). Use it with [WithAlg]
// for HS256 key-confusion tests, for example. A nil f restores normal
// signing.
func WithSignatureFunc(f func(signingInput []byte) []byte) Option {
	return func(o *mintOptions) { o.signatureF = f }
}

// WithoutSignature leaves the signature empty (the token ends in "."), as
// in unsecured JWS; combine it with WithAlg("none") for the classic attack.
func WithoutSignature() Option {
	return WithSignatureFunc(func([]byte) []byte { return nil })
}

// Token mints a signed access token for s, with the claims named the way
// the identity provider sends them: "sub", "iat" and "exp" plain, the rest
// under the namespace ("https://verdocs.com/" unless [WithNamespace]): email, email_verified,
// permissions and roles (the strings of their ids; see [WithIDNameObjects]),
// and when set profile, profile_id, organization_id and plans. "iss" is the
// issuer URL and "aud" [DefaultAudience]. "iat" and "exp" are the session's
// IssuedAt and ExpiresAt, or when zero the Issuer's now and now +
// [DefaultTTL]. Options then change claims and header.
//
// Token panics only on a setup error: an unknown [WithKey] kid or a value
// json.Marshal refuses.
func (iss *Issuer) Token(s session.ActiveSession, opts ...Option) string {
	o := collect(opts)
	ns := o.ns()
	now := iss.Now()
	c := iss.baseClaims(now, nil, s.IssuedAt, s.ExpiresAt)
	if s.Sub != "" {
		c["sub"] = s.Sub
	}
	if s.Email != "" {
		c[ns+"email"] = s.Email
	}
	c[ns+"email_verified"] = s.EmailVerified
	if o.objects {
		c[ns+"permissions"] = nonNil(s.Permissions)
		c[ns+"roles"] = nonNil(s.Roles)
	} else {
		perms := make([]string, len(s.Permissions))
		for i, p := range s.Permissions {
			perms[i] = p.ID
		}
		roles := make([]string, len(s.Roles))
		for i, r := range s.Roles {
			roles[i] = r.ID
		}
		c[ns+"permissions"] = perms
		c[ns+"roles"] = roles
	}
	if !reflect.ValueOf(s.Profile).IsZero() {
		c[ns+"profile"] = s.Profile
	}
	if s.ProfileID != "" {
		c[ns+"profile_id"] = s.ProfileID
	}
	if s.OrganizationID != "" {
		c[ns+"organization_id"] = s.OrganizationID
	}
	if len(s.Plans) > 0 {
		c[ns+"plans"] = s.Plans
	}
	return iss.mint(now, c, o)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// SigningToken mints a signed signing-session token for s: "iss" (s.Iss or
// the issuer URL), "aud" (s.Aud or [DefaultAudience]), "iat" and "exp" as in
// [Issuer.Token], and under the namespace document_id (always), profile_id,
// role, email and access_key when set.
func (iss *Issuer) SigningToken(s session.SigningSession, opts ...Option) string {
	o := collect(opts)
	ns := o.ns()
	now := iss.Now()
	var aud any
	if len(s.Aud) > 0 {
		aud = s.Aud
	}
	c := iss.baseClaims(now, aud, s.IssuedAt, s.ExpiresAt)
	if s.Iss != "" {
		c["iss"] = s.Iss
	}
	c[ns+"document_id"] = s.DocumentID
	if s.ProfileID != "" {
		c[ns+"profile_id"] = s.ProfileID
	}
	if s.Role != "" {
		c[ns+"role"] = s.Role
	}
	if s.Email != "" {
		c[ns+"email"] = s.Email
	}
	if s.AccessKey != (session.AccessKey{}) {
		c[ns+"access_key"] = s.AccessKey
	}
	return iss.mint(now, c, o)
}

// RawToken mints a signed token whose payload is claims exactly (no default
// claim is added), changed by the claim options.
func (iss *Issuer) RawToken(claims map[string]any, opts ...Option) string {
	c := make(map[string]any, len(claims))
	for k, v := range claims {
		c[k] = v
	}
	return iss.mint(iss.Now(), c, collect(opts))
}

// Sign returns the compact JWS base64url(header).base64url(payload).signature
// over header and payload exactly as given, signed by the signer with its
// algorithm (whatever header says).
func (iss *Issuer) Sign(header, payload []byte) string {
	iss.mu.Lock()
	k := iss.signer.Key
	iss.mu.Unlock()
	return signCompact(k, header, payload, nil)
}

// SignWithKey is [Issuer.Sign] with the key with this kid. It panics if the
// Issuer has no such key.
func (iss *Issuer) SignWithKey(kid string, header, payload []byte) string {
	k, ok := iss.Key(kid)
	if !ok {
		panic(fmt.Sprintf("jwkstest: no key with kid %q", kid))
	}
	return signCompact(k, header, payload, nil)
}

func collect(opts []Option) *mintOptions {
	o := new(mintOptions)
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	return o
}

// verdocsNamespace is the prefix of the Verdocs custom claims.
const verdocsNamespace = "https://verdocs.com/"

func (o *mintOptions) ns() string {
	if o.namespace != nil {
		return *o.namespace
	}
	return verdocsNamespace
}

// baseClaims returns iss, aud, iat and exp with their defaults.
func (iss *Issuer) baseClaims(now time.Time, aud any, iat, exp int64) map[string]any {
	if aud == nil {
		aud = DefaultAudience
	}
	if iat == 0 {
		iat = now.Unix()
	}
	if exp == 0 {
		exp = now.Add(DefaultTTL).Unix()
	}
	return map[string]any{"iss": iss.URL(), "aud": aud, "iat": iat, "exp": exp}
}

func (iss *Issuer) mint(now time.Time, claims map[string]any, o *mintOptions) string {
	var k Key
	if o.kid != "" {
		var ok bool
		if k, ok = iss.Key(o.kid); !ok {
			panic(fmt.Sprintf("jwkstest: WithKey: no key with kid %q", o.kid))
		}
	} else {
		k = iss.SigningKey()
	}
	header := map[string]any{"alg": k.Alg, "kid": k.KID, "typ": "JWT"}
	apply(header, o.headerOps, now)
	apply(claims, o.claimOps, now)
	return signCompact(k, mustMarshal(header), mustMarshal(claims), o.signatureF)
}

func apply(m map[string]any, ops []fieldOp, now time.Time) {
	for _, op := range ops {
		if op.val == nil {
			delete(m, op.name)
		} else {
			m[op.name] = op.val(now)
		}
	}
}

func signCompact(k Key, header, payload []byte, f func([]byte) []byte) string {
	enc := base64.RawURLEncoding
	input := make([]byte, 0, enc.EncodedLen(len(header))+1+enc.EncodedLen(len(payload)))
	input = enc.AppendEncode(input, header)
	input = append(input, '.')
	input = enc.AppendEncode(input, payload)
	var sig []byte
	if f != nil {
		sig = f(input)
	} else {
		var err error
		if sig, err = sign(k.Private, k.Alg, input); err != nil {
			panic("jwkstest: signing: " + err.Error())
		}
	}
	out := append(input, '.')
	return string(enc.AppendEncode(out, sig))
}
