package jwkstest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/sessiongate/sessiongate/session"
)

// DefaultAudience is the "aud" of the tokens [Issuer.Token] and
// [Issuer.SigningToken] mint, unless the session or [WithClaim] says
// otherwise.
const DefaultAudience = "https://api.example.test"

// tokenTTL is how long after "iat" minted tokens expire unless the session
// or WithClaim sets "exp".
const tokenTTL = time.Hour

// verdocsNamespace is the default prefix of the custom claims.
const verdocsNamespace = "https://verdocs.com/"

// Option changes a token minted by [Issuer.Token], [Issuer.SigningToken] or
// [Issuer.RawToken]: its claims ([WithClaim]), its header ([WithHeader]),
// the key that signs it ([WithKey]) or the names of its custom claims
// ([WithNamespace]). Options apply in the order given, after the claims of
// the session.
type Option func(*minting)

type minting struct {
	kid       string // the signing key; "" for the Issuer's
	namespace *string
	claims    []member
	header    []member
}

// member sets a claim or header parameter, or deletes it when value is nil.
type member struct {
	name  string
	value any
}

// WithClaim sets the claim name, by its literal name ("exp", "aud",
// "https://verdocs.com/roles" …), to value, anything json.Marshal accepts;
// a time.Time is written as a NumericDate (whole seconds since the epoch).
// A nil value removes the claim; json.RawMessage("null") writes a JSON null.
//
// It covers every registered claim: WithClaim("aud", []string{a, b}),
// WithClaim("exp", time.Now().Add(-time.Minute)) for an expired token,
// WithClaim("iss", other) for a foreign one. WithClaim panics if name is
// empty.
func WithClaim(name string, value any) Option {
	if name == "" {
		panic("jwkstest: WithClaim: the claim name is empty")
	}
	return func(m *minting) { m.claims = append(m.claims, member{name, value}) }
}

// WithHeader sets the header parameter name to value, anything
// json.Marshal accepts, or removes it when value is nil: "typ" (the default
// is "JWT"), "kid" or "alg" alone (the token is still signed by the same
// key: an algorithm or key confusion), or what a verifier must refuse,
// such as "jku", "jwk", "crit" or "b64". WithHeader panics if name is
// empty.
func WithHeader(name string, value any) Option {
	if name == "" {
		panic("jwkstest: WithHeader: the header parameter name is empty")
	}
	return func(m *minting) { m.header = append(m.header, member{name, value}) }
}

// WithKey signs with the Issuer's key with this kid, published or removed,
// instead of the key that signs by default; the header's kid and alg are
// the key's. Minting panics if the Issuer has no such key.
func WithKey(kid string) Option { return func(m *minting) { m.kid = kid } }

// WithNamespace sets the prefix of the custom claim names that
// [Issuer.Token] and [Issuer.SigningToken] write (default
// "https://verdocs.com/"); "" writes plain names such as "roles".
func WithNamespace(ns string) Option { return func(m *minting) { m.namespace = &ns } }

// Token mints a signed access token for s, with the claims named as the
// identity provider sends them: "iss" (the issuer URL), "aud"
// ([DefaultAudience]), "sub", "iat" and "exp" plain, the rest under the
// namespace ("https://verdocs.com/" unless [WithNamespace]): email,
// email_verified, permissions and roles, and when set profile, profile_id,
// organization_id and plans. Roles and permissions are written as arrays of
// their ids, or as {"id","name"} objects when one of them has a Name other
// than its ID (which an id alone cannot carry). "iat" and "exp" are the
// session's IssuedAt and ExpiresAt or, when zero, now and an hour later;
// now is [time.Now], so inside a testing/synctest bubble it is the bubble's
// fake clock. Options then change the claims and the header.
//
// Token panics only on a setup error: a [WithKey] kid the Issuer does not
// have, or a value json.Marshal refuses.
func (iss *Issuer) Token(s session.ActiveSession, opts ...Option) string {
	m := collect(opts)
	ns := m.ns()
	c := iss.baseClaims(nil, s.IssuedAt, s.ExpiresAt)
	if s.Sub != "" {
		c["sub"] = s.Sub
	}
	if s.Email != "" {
		c[ns+"email"] = s.Email
	}
	c[ns+"email_verified"] = s.EmailVerified
	c[ns+"permissions"] = idsOrObjects(s.Permissions, func(p session.Permission) (string, string) { return p.ID, p.Name })
	c[ns+"roles"] = idsOrObjects(s.Roles, func(r session.Role) (string, string) { return r.ID, r.Name })
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
	return iss.mint("Token", c, m)
}

// idsOrObjects returns the ids of items, or items themselves (which
// marshal as {"id","name"}) when a name is neither empty nor the id.
func idsOrObjects[T any](items []T, idName func(T) (string, string)) any {
	ids := make([]string, len(items))
	for i, it := range items {
		id, name := idName(it)
		if name != "" && name != id {
			return items
		}
		ids[i] = id
	}
	return ids
}

// SigningToken mints a signed document-signing token for s: "iss" (s.Iss
// or the issuer URL), "aud" (s.Aud or [DefaultAudience]), "iat" and "exp"
// as in [Issuer.Token], and under the namespace document_id (always), and
// profile_id, role, email and access_key when set. Options then change the
// claims and the header.
func (iss *Issuer) SigningToken(s session.SigningSession, opts ...Option) string {
	m := collect(opts)
	ns := m.ns()
	var aud any
	if len(s.Aud) > 0 {
		aud = s.Aud
	}
	c := iss.baseClaims(aud, s.IssuedAt, s.ExpiresAt)
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
	return iss.mint("SigningToken", c, m)
}

// RawToken mints a signed token whose claims are exactly claims (no claim
// is added: not even iss or exp), changed by the options; a time.Time value
// is written as a NumericDate, as with [WithClaim].
func (iss *Issuer) RawToken(claims map[string]any, opts ...Option) string {
	c := make(map[string]any, len(claims))
	for k, v := range claims {
		c[k] = v
	}
	return iss.mint("RawToken", c, collect(opts))
}

// Sign returns the compact JWS base64url(header).base64url(payload).signature
// over header and payload exactly as given, which need not be JSON, let
// alone valid claims (duplicate members, invalid UTF-8, trailing data …),
// signed by the key that signs tokens, with its algorithm whatever header
// says.
func (iss *Issuer) Sign(header, payload []byte) string {
	return signCompact(iss.signingKey("Sign", ""), header, payload)
}

func collect(opts []Option) *minting {
	m := new(minting)
	for _, opt := range opts {
		if opt != nil {
			opt(m)
		}
	}
	return m
}

func (m *minting) ns() string {
	if m.namespace != nil {
		return *m.namespace
	}
	return verdocsNamespace
}

// baseClaims returns iss, aud, iat and exp with their defaults.
func (iss *Issuer) baseClaims(aud any, iat, exp int64) map[string]any {
	now := time.Now()
	if aud == nil {
		aud = DefaultAudience
	}
	if iat == 0 {
		iat = now.Unix()
	}
	if exp == 0 {
		exp = now.Add(tokenTTL).Unix()
	}
	return map[string]any{"iss": iss.URL(), "aud": aud, "iat": iat, "exp": exp}
}

func (iss *Issuer) mint(method string, claims map[string]any, m *minting) string {
	k := iss.signingKey(method, m.kid)
	header := map[string]any{"alg": k.alg, "kid": k.kid, "typ": "JWT"}
	apply(header, m.header)
	apply(claims, m.claims)
	for name, v := range claims {
		if t, ok := v.(time.Time); ok {
			claims[name] = t.Unix()
		}
	}
	return signCompact(k, marshal(method, "header", header), marshal(method, "claims", claims))
}

// signingKey returns the key with kid, or the signer when kid is "".
func (iss *Issuer) signingKey(method, kid string) *issuerKey {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	if kid == "" {
		return iss.signer
	}
	return iss.mustFindLocked(method+": WithKey", kid)
}

func apply(dst map[string]any, members []member) {
	for _, mb := range members {
		if mb.value == nil {
			delete(dst, mb.name)
		} else {
			dst[mb.name] = mb.value
		}
	}
}

func marshal(method, what string, v map[string]any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("jwkstest: %s: the %s cannot be marshalled: %v", method, what, err))
	}
	return b
}

func signCompact(k *issuerKey, header, payload []byte) string {
	enc := base64.RawURLEncoding
	input := make([]byte, 0, enc.EncodedLen(len(header))+1+enc.EncodedLen(len(payload)))
	input = enc.AppendEncode(input, header)
	input = append(input, '.')
	input = enc.AppendEncode(input, payload)
	out := append(input, '.')
	return string(enc.AppendEncode(out, sign(k, input)))
}
