package session

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/sessiongate/sessiongate/internal/strictjson"
)

// DefaultNamespace is the prefix the identity provider puts before custom
// claim names.
const DefaultNamespace = "https://verdocs.com/"

// Errors returned by [Decoder.Decode]. Every decode error wraps one of them;
// a *[ClaimError] also names the claim.
var (
	// ErrMalformed reports a payload that is not one strict JSON object:
	// invalid JSON, duplicate member names, invalid UTF-8, trailing data or
	// nesting that is too deep.
	ErrMalformed = errors.New("session: malformed claims")
	// ErrClaimType reports a claim (or a field inside one) of the wrong JSON
	// type.
	ErrClaimType = errors.New("session: claim has the wrong type")
	// ErrClaimRange reports a NumericDate outside ±2^53 seconds.
	ErrClaimRange = errors.New("session: claim out of range")
)

// ClaimError names the claim that failed to decode. It wraps ErrClaimType
// or ErrClaimRange.
type ClaimError struct {
	// Claim is the claim's name as the token spelt it.
	Claim string
	// Field is the path inside the claim ("organization.name"), or "".
	Field string
	// Want is the JSON type expected ("string", "number" …).
	Want string
	// Err is ErrClaimType or ErrClaimRange.
	Err error
}

// Error implements error.
func (e *ClaimError) Error() string {
	var b strings.Builder
	b.WriteString("session: claim ")
	b.WriteString(strconv.Quote(e.Claim))
	if e.Field != "" {
		b.WriteString(" field ")
		b.WriteString(e.Field)
	}
	if errors.Is(e.Err, ErrClaimRange) {
		b.WriteString(": out of range")
	} else {
		b.WriteString(": want ")
		b.WriteString(e.Want)
	}
	return b.String()
}

// Unwrap returns ErrClaimType or ErrClaimRange.
func (e *ClaimError) Unwrap() error { return e.Err }

// Kind tells which session a token payload holds.
type Kind uint8

// The kinds of session a payload can hold.
const (
	// KindActive is an access token for a signed-in user: [ActiveSession].
	KindActive Kind = iota + 1
	// KindSigning is a document-signing token (it has document_id): [SigningSession].
	KindSigning
)

// String returns "active" or "signing".
func (k Kind) String() string {
	switch k {
	case KindActive:
		return "active"
	case KindSigning:
		return "signing"
	}
	return "unknown"
}

// ClaimSet is a set of registered claims, used to tell which were present.
type ClaimSet uint8

// Registered claims, as members of a ClaimSet.
const (
	ClaimIss ClaimSet = 1 << iota
	ClaimSub
	ClaimAud
	ClaimExp
	ClaimNbf
	ClaimIat
	ClaimJti
)

// Registered holds the RFC 7519 registered claims of a token. NumericDates
// are whole seconds since the Unix epoch (a fractional value is rounded
// down). Present tells which claims the token carried; a claim given as
// null counts as absent.
type Registered struct {
	Issuer    string   // iss
	Subject   string   // sub
	Audience  Audience // aud, one or several
	ExpiresAt int64    // exp, seconds since the Unix epoch
	NotBefore int64    // nbf, seconds since the Unix epoch
	IssuedAt  int64    // iat, seconds since the Unix epoch
	ID        string   // jti
	Present   ClaimSet // which of the above the token carried
}

// Has reports whether all claims in c were present.
func (r *Registered) Has(c ClaimSet) bool { return r.Present&c == c }

// Token is a decoded token payload: the session it holds, its registered
// claims, and the raw claims for anything else. Tokens the middleware stores
// are shared between requests: treat them as read-only.
type Token struct {
	// Kind tells whether Active or Signing holds the session.
	Kind Kind
	// Active is the session when Kind is KindActive.
	Active ActiveSession
	// Signing is the session when Kind is KindSigning.
	Signing SigningSession
	// Registered are the registered claims (iss, sub, aud, exp, nbf, iat, jti).
	Registered Registered
	// Raw is the compact token the claims came from, when the decoder's
	// caller set it (the middleware does); Decode leaves it empty.
	Raw string

	payload string
}

// Claims decodes the raw claims JSON into v with encoding/json: the escape
// hatch for claims the session does not model. Claim names are as in the
// token (namespaced names keep their prefix).
func (t *Token) Claims(v any) error {
	return json.Unmarshal([]byte(t.payload), v)
}

// Payload returns the claims JSON as it was decoded.
func (t *Token) Payload() string { return t.payload }

// Decoder decodes token payloads. The zero value uses [DefaultNamespace].
//
// Custom claims (email, email_verified, permissions, roles, profile,
// profile_id, organization_id, plans, and for signing sessions document_id,
// role and access_key) may be named plainly or with the namespace prefix;
// when both are present the namespaced one wins. Registered claims (iss, sub,
// aud, exp, nbf, iat, jti) are only read under their plain names: a
// namespaced "exp" is just another custom claim and never changes validity.
type Decoder struct {
	// Namespace is the claim-name prefix; "" means DefaultNamespace.
	Namespace string
}

// Decode decodes a verified token's payload (the claims JSON) in one pass.
// It rejects a payload that is not one strict JSON object (ErrMalformed) and
// any known claim of the wrong type (*ClaimError). Unknown claims are
// validated as JSON and otherwise left to [Token.Claims].
func (dec Decoder) Decode(payload []byte) (*Token, error) {
	t := new(Token)
	if err := dec.DecodeInto(t, payload); err != nil {
		return nil, err
	}
	return t, nil
}

// DecodeInto is [Decoder.Decode] into a caller-provided Token, which it
// overwrites.
func (dec Decoder) DecodeInto(t *Token, payload []byte) error {
	ns := dec.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	*t = Token{payload: string(payload)}
	var st decodeState
	st.d.Reset(payload)
	st.src = t.payload
	st.ns = ns
	st.t = t
	return st.run()
}

// customClaim identifies a custom claim for the namespaced-wins rule.
type customClaim uint16

const (
	cEmail customClaim = 1 << iota
	cEmailVerified
	cPermissions
	cRoles
	cProfile
	cProfileID
	cOrganizationID
	cPlans
	cDocumentID
	cRole
	cAccessKey
)

type decodeState struct {
	d          strictjson.Decoder
	src        string
	ns         string
	t          *Token
	claim      string // plain name of the claim being read, for errors
	namespaced bool   // whether it was spelt with the namespace
	nsSet      customClaim
	lastNull   bool      // the last value read was null
	path       [8]string // containers inside the claim, for errors
	depth      int
	err        error
}

// idName is the shared shape of Permission and Role.
type idName struct {
	ID   string
	Name string
}

// stackItems is how many array items a reader collects on the stack before
// it allocates the final, exactly sized slice.
const stackItems = 32

func (st *decodeState) run() error {
	d := &st.d
	t := st.t
	if !d.BeginObject() {
		st.claim = ""
		return st.fail()
	}
	for d.More() {
		name := d.Name()
		if name == nil {
			break
		}
		if st.registered(name) {
			continue
		}
		namespaced := false
		if len(name) > len(st.ns) && string(name[:len(st.ns)]) == st.ns {
			name = name[len(st.ns):]
			namespaced = true
		}
		c := claimOf(name)
		if c == 0 {
			d.Skip()
			continue
		}
		st.claim, st.namespaced, st.depth = claimName(c), namespaced, 0
		if !namespaced && st.nsSet&c != 0 {
			// The namespaced form was already read and wins; still check
			// this one's type so the verdict does not depend on order.
			var scratch Token
			st.t = &scratch
			st.custom(c)
			st.t = t
			continue
		}
		if namespaced {
			st.nsSet |= c
		}
		st.custom(c)
	}
	if err := d.End(); err != nil || st.err != nil {
		return st.fail()
	}
	st.finish()
	return nil
}

// fail returns the first error as one of the package's error values.
func (st *decodeState) fail() error {
	if st.err != nil {
		return st.err
	}
	return errors.Join(ErrMalformed, st.d.Err())
}

// push and pop track the containers inside a claim, so errors can name the
// field ("organization.name") without building strings on the happy path.
func (st *decodeState) push(name string) {
	if st.depth < len(st.path) {
		st.path[st.depth] = name
	}
	st.depth++
}

func (st *decodeState) pop() { st.depth-- }

// claimErr records an error for field (a leaf name, or "") of the current
// claim.
func (st *decodeState) claimErr(field, want string, sentinel error) {
	if st.err != nil {
		return
	}
	claim := st.claim
	if st.namespaced {
		claim = st.ns + claim
	}
	parts := append([]string(nil), st.path[:min(st.depth, len(st.path))]...)
	if field != "" {
		parts = append(parts, field)
	}
	st.err = &ClaimError{Claim: claim, Field: strings.Join(parts, "."), Want: want, Err: sentinel}
	st.d.Fail(st.err)
}

func (st *decodeState) typeErr(field, want string) { st.claimErr(field, want, ErrClaimType) }

func (st *decodeState) rangeErr(field string) { st.claimErr(field, "NumericDate", ErrClaimRange) }

// claimName returns a custom claim's plain name.
func claimName(c customClaim) string {
	switch c {
	case cEmail:
		return "email"
	case cEmailVerified:
		return "email_verified"
	case cPermissions:
		return "permissions"
	case cRoles:
		return "roles"
	case cProfile:
		return "profile"
	case cProfileID:
		return "profile_id"
	case cOrganizationID:
		return "organization_id"
	case cPlans:
		return "plans"
	case cDocumentID:
		return "document_id"
	case cRole:
		return "role"
	case cAccessKey:
		return "access_key"
	}
	return ""
}

func claimOf(name []byte) customClaim {
	switch string(name) {
	case "email":
		return cEmail
	case "email_verified":
		return cEmailVerified
	case "permissions":
		return cPermissions
	case "roles":
		return cRoles
	case "profile":
		return cProfile
	case "profile_id":
		return cProfileID
	case "organization_id":
		return cOrganizationID
	case "plans":
		return cPlans
	case "document_id":
		return cDocumentID
	case "role":
		return cRole
	case "access_key":
		return cAccessKey
	}
	return 0
}

// registered reads a registered claim if name is one; it reports whether it
// was.
func (st *decodeState) registered(name []byte) bool {
	r := &st.t.Registered
	var bit ClaimSet
	st.lastNull = false
	st.depth = 0
	switch string(name) {
	case "iss":
		st.claim, st.namespaced, bit = "iss", false, ClaimIss
		r.Issuer = st.str("")
	case "sub":
		st.claim, st.namespaced, bit = "sub", false, ClaimSub
		r.Subject = st.str("")
	case "jti":
		st.claim, st.namespaced, bit = "jti", false, ClaimJti
		r.ID = st.str("")
	case "aud":
		st.claim, st.namespaced, bit = "aud", false, ClaimAud
		r.Audience = st.audience()
	case "exp":
		st.claim, st.namespaced, bit = "exp", false, ClaimExp
		r.ExpiresAt, bit = st.numericDate(bit)
	case "nbf":
		st.claim, st.namespaced, bit = "nbf", false, ClaimNbf
		r.NotBefore, bit = st.numericDate(bit)
	case "iat":
		st.claim, st.namespaced, bit = "iat", false, ClaimIat
		r.IssuedAt, bit = st.numericDate(bit)
	default:
		return false
	}
	if st.lastNull {
		st.lastNull = false
	} else {
		r.Present |= bit
	}
	return true
}

// custom reads one custom claim into st.t.
func (st *decodeState) custom(c customClaim) {
	t := st.t
	switch c {
	case cEmail:
		t.Active.Email = st.str("")
	case cEmailVerified:
		t.Active.EmailVerified = st.boolean("")
	case cPermissions:
		t.Active.Permissions = st.permissions()
	case cRoles:
		t.Active.Roles = st.roles()
	case cProfile:
		st.profile(&t.Active.Profile)
	case cProfileID:
		t.Active.ProfileID = st.str("")
	case cOrganizationID:
		t.Active.OrganizationID = st.str("")
	case cPlans:
		t.Active.Plans = st.plans("")
	case cDocumentID:
		t.Signing.DocumentID = st.str("")
		t.Kind = KindSigning
	case cRole:
		t.Signing.Role = st.str("")
	case cAccessKey:
		st.accessKey(&t.Signing.AccessKey)
	}
}

// finish derives the fields that both session kinds share.
func (st *decodeState) finish() {
	t := st.t
	if t.Kind == 0 {
		t.Kind = KindActive
	}
	r := &t.Registered
	t.Active.Sub = r.Subject
	t.Active.IssuedAt = r.IssuedAt
	t.Active.ExpiresAt = r.ExpiresAt
	if t.Kind == KindSigning {
		s := &t.Signing
		s.ProfileID = t.Active.ProfileID
		s.Email = t.Active.Email
		s.Iss = r.Issuer
		s.Aud = r.Audience
		s.ExpiresAt = r.ExpiresAt
		s.IssuedAt = r.IssuedAt
	}
}

// null consumes a null (which counts as an absent claim or field).
func (st *decodeState) null() bool {
	if st.d.Peek() == strictjson.Null {
		st.d.Null()
		st.lastNull = true
		return true
	}
	return false
}

func (st *decodeState) str(field string) string {
	if st.null() {
		return ""
	}
	if st.d.Peek() != strictjson.String {
		st.kindErr(field, "string")
		return ""
	}
	s, _ := st.d.StringIn(st.src)
	return s
}

// nullableStr reads a string or null (kept as nil).
func (st *decodeState) nullableStr(field string) *string {
	if st.null() {
		return nil
	}
	if st.d.Peek() != strictjson.String {
		st.kindErr(field, "string or null")
		return nil
	}
	s, _ := st.d.StringIn(st.src)
	return &s
}

// kindErr reports a wrong type, or a syntax error when the next bytes are
// not JSON at all.
func (st *decodeState) kindErr(field, want string) {
	if !st.d.Skip() {
		return // not JSON: the syntax error stands
	}
	st.typeErr(field, want)
}

func (st *decodeState) boolean(field string) bool {
	if st.null() {
		return false
	}
	if st.d.Peek() != strictjson.Bool {
		st.kindErr(field, "boolean")
		return false
	}
	v, _ := st.d.Bool()
	return v
}

// maxNumericDate bounds NumericDates to what a float64 (and a JS number)
// holds exactly.
const maxNumericDate = 1 << 53

// numericDate reads a NumericDate: a JSON number (never a string), rounded
// down to whole seconds. It returns bit, or 0 when the claim was null.
func (st *decodeState) numericDate(bit ClaimSet) (int64, ClaimSet) {
	if st.null() {
		return 0, 0
	}
	if st.d.Peek() != strictjson.Number {
		st.kindErr("", "number")
		return 0, 0
	}
	b, ok := st.d.NumberBytes()
	if !ok {
		return 0, 0
	}
	if v, ok := smallInt(b); ok {
		return v, bit
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || f > maxNumericDate || f < -maxNumericDate {
		st.rangeErr("")
		return 0, 0
	}
	return int64(math.Floor(f)), bit
}

// smallInt parses an optionally negative integer of at most 16 digits.
func smallInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if v > maxNumericDate {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// audience reads aud: a string or an array of strings.
func (st *decodeState) audience() Audience {
	d := &st.d
	switch d.Peek() {
	case strictjson.Null:
		st.null()
		return nil
	case strictjson.String:
		s, _ := d.StringIn(st.src)
		return Audience{s}
	case strictjson.Array:
		return Audience(st.strings("", "string or array of strings"))
	}
	st.kindErr("", "string or array of strings")
	return nil
}

// strings reads an array of strings (null counts as absent; an empty array
// gives nil).
func (st *decodeState) strings(field, want string) []string {
	d := &st.d
	if st.null() {
		return nil
	}
	if d.Peek() != strictjson.Array {
		st.kindErr(field, want)
		return nil
	}
	d.BeginArray()
	var buf [stackItems]string
	items := buf[:0]
	for d.More() {
		if d.Peek() != strictjson.String {
			st.kindErr(field, want)
			return nil
		}
		s, _ := d.StringIn(st.src)
		items = append(items, s)
	}
	if len(items) == 0 || st.err != nil || d.Err() != nil {
		return nil
	}
	out := make([]string, len(items))
	copy(out, items)
	return out
}

func (st *decodeState) plans(field string) []Plan {
	names := st.strings(field, "array of strings")
	if names == nil {
		return nil
	}
	out := make([]Plan, len(names))
	for i, n := range names {
		out[i] = Plan(n)
	}
	return out
}

// idNames reads permissions or roles: an array whose items are strings or
// {id, name} objects.
func (st *decodeState) idNames(buf *[stackItems]idName) []idName {
	d := &st.d
	if st.null() {
		return nil
	}
	const want = "array of strings or {id, name} objects"
	if d.Peek() != strictjson.Array {
		st.kindErr("", want)
		return nil
	}
	d.BeginArray()
	items := buf[:0]
	for d.More() {
		switch d.Peek() {
		case strictjson.String:
			s, _ := d.StringIn(st.src)
			items = append(items, idName{ID: s, Name: s})
		case strictjson.Object:
			var it idName
			d.BeginObject()
			for d.More() {
				switch string(d.Name()) {
				case "id":
					it.ID = st.str("[].id")
				case "name":
					it.Name = st.str("[].name")
				default:
					d.Skip()
				}
			}
			items = append(items, it)
		default:
			st.kindErr("", want)
			return nil
		}
	}
	if st.err != nil || d.Err() != nil {
		return nil
	}
	return items
}

func (st *decodeState) permissions() []Permission {
	var buf [stackItems]idName
	return fromIDNames[Permission](st.idNames(&buf))
}

func (st *decodeState) roles() []Role {
	var buf [stackItems]idName
	return fromIDNames[Role](st.idNames(&buf))
}

// fromIDNames copies collected items into an exactly sized slice (nil when
// empty).
func fromIDNames[T Permission | Role](items []idName) []T {
	if len(items) == 0 {
		return nil
	}
	out := make([]T, len(items))
	for i, it := range items {
		out[i] = T(it)
	}
	return out
}

// object starts an object value; null counts as absent (false, no error).
func (st *decodeState) object(field string) bool {
	if st.null() {
		return false
	}
	if st.d.Peek() != strictjson.Object {
		st.kindErr(field, "object")
		return false
	}
	return st.d.BeginObject()
}

// profile reads an IProfile.
func (st *decodeState) profile(p *Profile) {
	d := &st.d
	if !st.object("") {
		return
	}
	for d.More() {
		name := d.Name()
		switch string(name) {
		case "id":
			p.ID = st.str("id")
		case "user_id":
			p.UserID = st.str("user_id")
		case "organization_id":
			p.OrganizationID = st.str("organization_id")
		case "first_name":
			p.FirstName = st.str("first_name")
		case "last_name":
			p.LastName = st.str("last_name")
		case "email":
			p.Email = st.str("email")
		case "phone":
			p.Phone = st.nullableStr("phone")
		case "current":
			p.Current = st.boolean("current")
		case "organization":
			st.push("organization")
			st.organization(&p.Organization)
			st.pop()
		case "permissions":
			p.Permissions = st.strings("permissions", "array of strings")
		case "roles":
			p.Roles = st.strings("roles", "array of strings")
		case "plans":
			p.Plans = st.plans("plans")
		case "groups":
			st.push("groups[]")
			p.Groups = st.groups()
			st.pop()
		default:
			d.Skip()
		}
	}
}

func (st *decodeState) organization(o *Organization) {
	d := &st.d
	if !st.object("") {
		return
	}
	for d.More() {
		switch string(d.Name()) {
		case "id":
			o.ID = st.str("id")
		case "name":
			o.Name = st.str("name")
		case "address":
			o.Address = st.nullableStr("address")
		case "phone":
			o.Phone = st.nullableStr("phone")
		case "business_name":
			o.BusinessName = st.nullableStr("business_name")
		case "is_business":
			o.IsBusiness = st.boolean("is_business")
		case "address2":
			o.Address2 = st.nullableStr("address2")
		case "contact_email":
			o.ContactEmail = st.nullableStr("contact_email")
		case "timezone":
			o.Timezone = st.nullableStr("timezone")
		case "envelope_responsible":
			o.EnvelopeResponsible = st.boolean("envelope_responsible")
		default:
			d.Skip()
		}
	}
}

func (st *decodeState) groups() []Group { return objects(st, st.group) }

func (st *decodeState) profiles() []Profile { return objects(st, st.profile) }

// objects reads an array of objects with item; null items are skipped, a
// null array is absent.
func objects[T any](st *decodeState, item func(*T)) []T {
	d := &st.d
	if st.null() {
		return nil
	}
	if d.Peek() != strictjson.Array {
		st.kindErr("", "array of objects")
		return nil
	}
	d.BeginArray()
	var out []T
	for d.More() {
		if d.Peek() == strictjson.Null {
			d.Null()
			continue
		}
		var v T
		item(&v)
		if st.err != nil || d.Err() != nil {
			return nil
		}
		out = append(out, v)
	}
	return out
}

// group reads an IGroup.
func (st *decodeState) group(g *Group) {
	d := &st.d
	if !st.object("") {
		return
	}
	for d.More() {
		switch string(d.Name()) {
		case "id":
			g.ID = st.str("id")
		case "name":
			g.Name = st.str("name")
		case "organization_id":
			g.OrganizationID = st.str("organization_id")
		case "parent_id":
			g.ParentID = st.nullableStr("parent_id")
		case "permissions":
			g.Permissions = st.strings("permissions", "array of strings")
		case "roles":
			g.Roles = st.strings("roles", "array of strings")
		case "profiles":
			st.push("profiles[]")
			g.Profiles = st.profiles()
			st.pop()
		default:
			d.Skip()
		}
	}
}

func (st *decodeState) accessKey(k *AccessKey) {
	d := &st.d
	if !st.object("") {
		return
	}
	for d.More() {
		switch string(d.Name()) {
		case "id":
			k.ID = st.str("id")
		case "type":
			k.Type = st.str("type")
		default:
			d.Skip()
		}
	}
}
