package session

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/sessiongate/sessiongate/internal/strictjson"
)

// verdocsNamespace is the prefix the Verdocs identity provider puts before
// custom claim names: the default of [Decoder].Namespace.
const verdocsNamespace = "https://verdocs.com/"

// Decoder decodes token payloads. The zero value decodes Verdocs tokens;
// the fields adapt it to one issuer (identity provider), and a Decoder is
// meant to be configured once per issuer and not changed while in use.
//
// Custom claims (email, email_verified, permissions, roles, profile,
// profile_id, organization_id, plans, session_type, and the 6.x user claims
// sid and global_admin; for signing sessions document_id, role, access_key,
// and the 6.x envelope_id, role_name and key_type) may be named plainly or
// with the namespace prefix; when both are present the namespaced one wins,
// whole (an object claim is never merged with the plain one) and whatever
// the member order. Registered claims (iss, sub, aud, exp, nbf, iat, jti,
// cnf) and the scope claims are only read under their plain names: a
// namespaced "exp" is just another custom claim and never changes validity.
//
// The claims that mark the kind of token, document_id, envelope_id and
// session_type, must be non-empty strings when present, in either
// spelling: null is refused (a *[ClaimError] wrapping ErrClaimType), and
// so is "" (wrapping ErrClaimValue). session_type must be "user" or
// "signing", and "user" may not come with document_id or envelope_id
// (ErrClaimValue). See the package documentation for how the kind is told.
//
// Scopes. The OAuth scopes are read into [Token].Scopes, whatever the fields, from
// scope (RFC 9068, RFC 8693: a space-delimited string) and scp (Entra: a
// space-delimited string; Ory Hydra, Okta: an array of strings). Empty
// items (two spaces in a row, "" in an array) are skipped; an array item
// holding a space is refused (ErrClaimValue), as is any other type
// (ErrClaimType; null counts as absent). When both claims are present they
// must hold the same set of scopes (ErrClaimValue otherwise), and Scopes
// lists those of scope, in its order. Scopes are substrings of the payload.
//
// Claim mapping. Roles, Permissions and Plans name where the roles, permissions and plans
// of an [ActiveSession] come from, for identity providers that do not send
// the Verdocs claims: a claim name, or a dotted path into nested objects.
// Set, a mapping replaces the Verdocs claims for its field (they are not
// read for it, in either spelling) and is read as follows, failing closed:
//
//   - Resolution: at each object level, from the top, a member matches when
//     its name equals the whole remaining path, or when the path starts
//     with its name followed by "." (then the rest is looked up inside
//     that member, which must be an object). So "https://verdocs.com/roles"
//     finds the member of that name, and "realm_access.roles" the member
//     roles inside realm_access. A path that matches twice in one token (a
//     member "a.b", and a member "a" holding "b") is refused
//     (ErrClaimValue), whatever the member order.
//   - Values: an array of strings, an array of {id, name} objects (not for
//     Plans, which are strings only), or a space-delimited string ("a b c",
//     empty items skipped). An empty array or string gives none (nil).
//   - A path the token does not have, or whose value (or a member along
//     it) is null, is refused with ErrClaimMissing; a value of another
//     type, or a member along the path that is neither an object nor null,
//     with ErrClaimType. The *[ClaimError] names the path as its Claim.
//     Members along the path are compared exactly, and a member name equal
//     to a step of the path under case folding is refused as it is for
//     the Verdocs claims (ErrFoldedName).
//
// Typical mappings: Keycloak Roles "realm_access.roles"; Auth0 Permissions
// "permissions"; Entra Roles "roles" and Permissions "scp"; Cognito Roles
// "cognito:groups" (which Cognito leaves out for a user in no group: such a
// token is refused).
type Decoder struct {
	// Namespace is the prefix of custom claim names. Default:
	// "https://verdocs.com/".
	Namespace string
	// NamespacedOnly reads the custom claims only under the namespace: a
	// plain one (roles, email, profile …) is ignored, though still
	// validated as JSON, so a plain claim that users can influence at some
	// identity providers can never grant anything. The kind markers
	// (session_type, document_id, envelope_id) are read in both spellings
	// even then, failing closed: they can only make a token a signing
	// session or refuse it. Registered claims, scopes, mappings and
	// captures are not affected. Default: false (both spellings).
	NamespacedOnly bool
	// Roles is where roles come from (see Claim mapping). Default: the
	// Verdocs roles claim.
	Roles string
	// Permissions is where permissions come from (see Claim mapping).
	// Default: the Verdocs permissions claim.
	Permissions string
	// Plans is where plans come from (see Claim mapping); strings only.
	// Default: the Verdocs plans claim.
	Plans string
	// Capture lists top-level claims, by exact name, whose raw JSON values
	// the decode keeps for [Token.Claim] (for rules over claims the session
	// does not model: azp, client_id, acr, tid …). Keeping them costs no
	// copy (they are substrings of the payload), and nothing when Capture
	// is empty; each top-level member is compared with every name, so keep
	// the list to a handful (up to about 8). Default: none.
	Capture []string
}

// Decode decodes a verified token's payload (the claims JSON) in one pass.
// It rejects a payload that is not one strict JSON object (ErrMalformed),
// member names that fold together (ErrMalformed with ErrFoldedName, see
// [Token.Claims]), any known claim of the wrong type and any refused value
// (*ClaimError). Unknown claims are validated as JSON and otherwise left to
// [Token.Claims].
func (dec Decoder) Decode(payload []byte) (*Token, error) {
	t := new(Token)
	if err := dec.DecodeInto(t, string(payload)); err != nil {
		return nil, err
	}
	return t, nil
}

// DecodeInto is [Decoder.Decode] into a caller-provided Token, which it
// overwrites. The Token keeps payload itself (its strings are substrings of
// it) rather than a copy.
func (dec Decoder) DecodeInto(t *Token, payload string) error {
	ns := dec.Namespace
	if ns == "" {
		ns = verdocsNamespace
	}
	*t = Token{payload: payload}
	var st decodeState
	// The reader only reads its input, so it can read the string's bytes.
	st.d.Reset(unsafe.Slice(unsafe.StringData(payload), len(payload)))
	st.d.RejectFoldedNames()
	st.src = t.payload
	st.ns = ns
	st.t = t
	if dec.NamespacedOnly {
		st.skipPlain = cAll &^ cMarkers
	}
	if dec.Roles != "" || dec.Permissions != "" || dec.Plans != "" || len(dec.Capture) > 0 {
		st.watch = true
		st.paths = [...]string{mapRoles: dec.Roles, mapPermissions: dec.Permissions, mapPlans: dec.Plans}
		for i, c := range [...]customClaim{mapRoles: cRoles, mapPermissions: cPermissions, mapPlans: cPlans} {
			if st.paths[i] != "" {
				st.skip |= c
			}
		}
		st.capture = dec.Capture
	}
	return st.run()
}

// customClaim identifies a custom claim for the namespaced-wins rule.
type customClaim uint32

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
	cSessionType
	cEnvelopeID
	cRoleName
	cKeyType
	cSessionID
	cGlobalAdmin
	cLast = cGlobalAdmin
	cAll  = cLast<<1 - 1
	// cMarkers are the claims that mark the kind of token.
	cMarkers = cDocumentID | cEnvelopeID | cSessionType
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

	skip      customClaim // custom claims not read, in either spelling (mapped)
	skipPlain customClaim // custom claims not read under their plain names
	scopes    scopeClaims

	// Set when paths or captures are: the top-level members they name are
	// recorded (see watched).
	watch   bool
	paths   [3]string // mapRoles, mapPermissions, mapPlans: the mapping, or ""
	capture []string
	cands   [4]candidate
	ncands  int
	more    []candidate // candidates beyond cands (rare)
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
	if !d.BeginObject() {
		st.claim = ""
		return st.fail()
	}
	for d.More() {
		name := d.Name()
		if name == nil {
			break
		}
		if st.watch {
			st.watched(name)
		} else {
			st.member(name)
		}
	}
	if err := d.End(); err != nil || st.err != nil {
		return st.fail()
	}
	return st.finish()
}

// member reads one top-level member, whose name has been read.
func (st *decodeState) member(name []byte) {
	d := &st.d
	if st.registered(name) {
		return
	}
	full := name
	namespaced := false
	if len(name) > len(st.ns) && string(name[:len(st.ns)]) == st.ns {
		name = name[len(st.ns):]
		namespaced = true
	}
	c := claimOf(name)
	skip := st.skip
	if !namespaced {
		skip |= st.skipPlain
	}
	if c&skip != 0 {
		d.Skip() // not read: mapped, or plain and NamespacedOnly
		return
	}
	if c == 0 {
		if strictjson.Foldable(full) {
			st.claim, st.depth = "", 0
			st.foldedClaim(full)
		}
		d.Skip()
		return
	}
	st.claim, st.namespaced, st.depth = claimName(c), namespaced, 0
	if !namespaced && st.nsSet&c != 0 {
		// The namespaced form was already read and wins; still check
		// this one's type so the verdict does not depend on order.
		t := st.t
		var scratch Token
		st.t = &scratch
		st.custom(c)
		st.t = t
		return
	}
	if namespaced {
		st.nsSet |= c
	}
	st.custom(c)
}

// fail returns the first error as one of the package's error values.
func (st *decodeState) fail() error {
	if st.err != nil {
		return st.err
	}
	err := st.d.Err()
	if errors.Is(err, strictjson.ErrFoldedName) {
		return errors.Join(ErrMalformed, ErrFoldedName, err)
	}
	return errors.Join(ErrMalformed, err)
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

// foldErr records that the member name, at the current position, folds to
// the name known, which the decoder reads only as spelt.
func (st *decodeState) foldErr(name []byte, known string) {
	if st.err != nil {
		return
	}
	var b strings.Builder
	b.WriteString("session: member ")
	b.WriteString(strconv.Quote(string(name)))
	if st.claim != "" {
		b.WriteString(" in claim ")
		claim := st.claim
		if st.namespaced {
			claim = st.ns + claim
		}
		b.WriteString(strconv.Quote(claim))
		if st.depth > 0 {
			b.WriteString(" at ")
			b.WriteString(strings.Join(st.path[:min(st.depth, len(st.path))], "."))
		}
	}
	b.WriteString(" is ")
	b.WriteString(strconv.Quote(known))
	b.WriteString(" under case folding; only the exact name is read")
	st.err = errors.Join(ErrMalformed, ErrFoldedName, errors.New(b.String()))
	st.d.Fail(st.err)
}

// Names the decoder reads inside objects, for the case-folding check of
// the members it skips (space-separated).
const (
	registeredNames = "iss sub aud exp nbf iat jti cnf scope scp"
	idNameFields    = "id name"
)

// foldedIn returns the name of the space-separated list that name equals
// under case folding, or "".
func foldedIn(name []byte, list string) string {
	for list != "" {
		known, rest, _ := strings.Cut(list, " ")
		if equalFold(name, known) {
			return known
		}
		list = rest
	}
	return ""
}

// equalFold is bytes.EqualFold(b, []byte(s)), without converting s.
func equalFold(b []byte, s string) bool {
	rest, ok := foldPrefix(b, s)
	return ok && len(rest) == 0
}

// foldPrefix reports whether b starts with prefix under case folding (rune
// by rune, as bytes.EqualFold compares), returning the rest of b.
func foldPrefix(b []byte, prefix string) ([]byte, bool) {
	for prefix != "" {
		if len(b) == 0 {
			return nil, false
		}
		_, n := utf8.DecodeRune(b)
		_, m := utf8.DecodeRuneInString(prefix)
		if !strings.EqualFold(string(b[:n]), prefix[:m]) {
			return nil, false
		}
		b, prefix = b[n:], prefix[m:]
	}
	return b, true
}

// foldedClaim checks a Foldable top-level member name that the decoder does
// not read against the names it does: registered, custom and namespaced
// custom claims, captured claims and the steps of mapped paths.
func (st *decodeState) foldedClaim(name []byte) {
	if known := foldedIn(name, registeredNames); known != "" {
		st.foldErr(name, known)
		return
	}
	if st.watch {
		if known := st.foldedWatched(name); known != "" {
			st.foldErr(name, known)
			return
		}
	}
	rest, nsOK := foldPrefix(name, st.ns)
	for c := customClaim(1); c <= cLast; c <<= 1 {
		known := claimName(c)
		if equalFold(name, known) {
			st.foldErr(name, known)
			return
		}
		if nsOK && equalFold(rest, known) {
			st.foldErr(name, st.ns+known)
			return
		}
	}
}

// unknownField checks a member the decoder skips inside an object whose
// read fields are fields.
func (st *decodeState) unknownField(name []byte, fields string) {
	if strictjson.Foldable(name) {
		if known := foldedIn(name, fields); known != "" {
			st.foldErr(name, known)
		}
	}
}

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
	case cSessionType:
		return "session_type"
	case cEnvelopeID:
		return "envelope_id"
	case cRoleName:
		return "role_name"
	case cKeyType:
		return "key_type"
	case cSessionID:
		return "sid"
	case cGlobalAdmin:
		return "global_admin"
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
	return claimOf6(name)
}

// claimOf6 is claimOf for the claims of 6.x tokens. It is a switch of its
// own: one switch over all the names has so many name lengths that the
// compiler dispatches on the length through a jump table, an indirect
// branch that run pays for at every member.
func claimOf6(name []byte) customClaim {
	switch string(name) {
	case "session_type":
		return cSessionType
	case "envelope_id":
		return cEnvelopeID
	case "role_name":
		return cRoleName
	case "key_type":
		return cKeyType
	case "sid":
		return cSessionID
	case "global_admin":
		return cGlobalAdmin
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
		r.ExpiresAt, r.expNsec, bit = st.numericDate("", bit)
	case "nbf":
		st.claim, st.namespaced, bit = "nbf", false, ClaimNbf
		r.NotBefore, r.nbfNsec, bit = st.numericDate("", bit)
	case "iat":
		st.claim, st.namespaced, bit = "iat", false, ClaimIat
		r.IssuedAt, r.iatNsec, bit = st.numericDate("", bit)
	case "cnf":
		st.claim, st.namespaced, bit = "cnf", false, ClaimCnf
		st.confirmation()
	case "scope":
		st.claim, st.namespaced = "scope", false
		st.scopeClaim()
		return true
	case "scp":
		st.claim, st.namespaced = "scp", false
		st.scpClaim()
		return true
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

// custom reads one custom claim into st.t. Every case replaces its whole
// field (objects are zeroed before they are read), so a namespaced claim
// read after the plain one leaves nothing of it.
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
		t.Signing.DocumentID = st.marker()
	case cRole:
		t.Signing.Role = st.str("")
	case cAccessKey:
		st.accessKey(&t.Signing.AccessKey)
	case cSessionType:
		t.Signing.SessionType = st.sessionType()
	case cEnvelopeID:
		t.Signing.EnvelopeID = st.marker()
	case cRoleName:
		t.Signing.RoleName = st.str("")
	case cKeyType:
		t.Signing.KeyType = st.str("")
	case cSessionID:
		t.Active.SessionID = st.str("")
	case cGlobalAdmin:
		t.Active.GlobalAdmin = st.boolean("")
	}
}

// Session types (the session_type claim of 6.x tokens).
const (
	sessionUser    = "user"
	sessionSigning = "signing"
)

// finish tells the kind of session and derives the fields that both session
// kinds share. The claims are all read, so nothing here depends on their
// order.
func (st *decodeState) finish() error {
	if st.watch && !st.mapped() {
		return st.fail()
	}
	if st.scopes.present != 0 && !st.finishScopes() {
		return st.fail()
	}
	t := st.t
	s := &t.Signing
	marker := ""
	switch {
	case s.DocumentID != "":
		marker = "document_id"
	case s.EnvelopeID != "":
		marker = "envelope_id"
	}
	switch s.SessionType {
	case sessionSigning:
		t.Kind = KindSigning
	case sessionUser:
		if marker != "" {
			st.claim, st.namespaced, st.depth = "session_type", st.nsSet&cSessionType != 0, 0
			st.claimErr("", `"signing", as the token has `+marker, ErrClaimValue)
			return st.err
		}
		t.Kind = KindActive
	default: // absent: the reader refuses every other value
		t.Kind = KindActive
		if marker != "" {
			t.Kind = KindSigning
		}
	}
	r := &t.Registered
	t.Active.Sub = r.Subject
	t.Active.IssuedAt = r.IssuedAt
	t.Active.ExpiresAt = r.ExpiresAt
	if t.Kind == KindSigning {
		s.ProfileID = t.Active.ProfileID
		s.Email = t.Active.Email
		s.Iss = r.Issuer
		s.Aud = r.Audience
		s.ExpiresAt = r.ExpiresAt
		s.IssuedAt = r.IssuedAt
	}
	return nil
}

// null consumes a null (which counts as an absent claim or field).
func (st *decodeState) null() bool {
	if st.d.Peek() == strictjson.Null {
		st.nullValue()
		return true
	}
	return false
}

// nullValue consumes the null the reader is at.
func (st *decodeState) nullValue() {
	st.d.Null()
	st.lastNull = true
}

func (st *decodeState) str(field string) string {
	switch st.d.Peek() {
	case strictjson.String:
		s, _ := st.d.StringIn(st.src)
		return s
	case strictjson.Null:
		st.nullValue()
		return ""
	}
	st.kindErr(field, "string")
	return ""
}

// marker reads a claim that marks the kind of token (document_id,
// envelope_id): a non-empty string. null is a type error, "" a value error.
func (st *decodeState) marker() string {
	const want = "non-empty string"
	if st.d.Peek() != strictjson.String {
		st.kindErr("", want)
		return ""
	}
	s, _ := st.d.StringIn(st.src)
	if s == "" {
		st.claimErr("", want, ErrClaimValue)
	}
	return s
}

// sessionType reads session_type: "user" or "signing" (never null).
func (st *decodeState) sessionType() string {
	const want = `"user" or "signing"`
	if st.d.Peek() != strictjson.String {
		st.kindErr("", want)
		return ""
	}
	s, _ := st.d.StringIn(st.src)
	if s != sessionUser && s != sessionSigning {
		st.claimErr("", want, ErrClaimValue)
		return ""
	}
	return s
}

// confirmation reads cnf: any JSON object (never null), whose presence is
// all that is kept.
func (st *decodeState) confirmation() {
	if st.d.Peek() != strictjson.Object {
		st.kindErr("", "object")
		return
	}
	st.d.Skip()
}

// nullableStr reads a string or null (kept as nil).
func (st *decodeState) nullableStr(field string) *string {
	switch st.d.Peek() {
	case strictjson.String:
		s, _ := st.d.StringIn(st.src)
		return &s
	case strictjson.Null:
		st.nullValue()
		return nil
	}
	st.kindErr(field, "string or null")
	return nil
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
	switch st.d.Peek() {
	case strictjson.Bool:
		v, _ := st.d.Bool()
		return v
	case strictjson.Null:
		st.nullValue()
		return false
	}
	st.kindErr(field, "boolean")
	return false
}

// maxNumericDate bounds NumericDates to what a float64 (and a JS number)
// holds exactly.
const maxNumericDate = 1 << 53

// numericDate reads a NumericDate: a JSON number (never a string) within
// ±2^53 seconds. It returns the seconds rounded down, the nanoseconds past
// them (rounded down), and bit, or 0 when the claim was null.
func (st *decodeState) numericDate(field string, bit ClaimSet) (int64, int32, ClaimSet) {
	switch st.d.Peek() {
	case strictjson.Number:
	case strictjson.Null:
		st.nullValue()
		return 0, 0, 0
	default:
		st.kindErr(field, "number")
		return 0, 0, 0
	}
	b, ok := st.d.NumberBytes()
	if !ok {
		return 0, 0, 0
	}
	if v, ok := smallInt(b); ok {
		return v, 0, bit
	}
	sec, nsec, ok := exactDate(b)
	if !ok {
		st.rangeErr(field)
		return 0, 0, 0
	}
	return sec, nsec, bit
}

// exactDate parses a JSON number (already validated against the grammar)
// exactly, in decimal: the value's seconds rounded down and the nanoseconds
// past them, rounded down. ok is false when the value is beyond ±2^53.
func exactDate(b []byte) (sec int64, nsec int32, ok bool) {
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	exp := 0
	if i := bytes.IndexAny(b, "eE"); i >= 0 {
		e := b[i+1:]
		b = b[:i]
		eneg := e[0] == '-'
		if e[0] == '-' || e[0] == '+' {
			e = e[1:]
		}
		for _, c := range e {
			if exp < 1<<20 { // saturate: any more only shifts zeros
				exp = exp*10 + int(c-'0')
			}
		}
		if eneg {
			exp = -exp
		}
	}
	intPart, frac := b, []byte(nil)
	if i := bytes.IndexByte(b, '.'); i >= 0 {
		intPart, frac = b[:i], b[i+1:]
	}
	// The digits are intPart then frac; the decimal point sits after point
	// of them (outside the digits, they are zeros).
	n := len(intPart) + len(frac)
	digit := func(i int) int64 {
		switch {
		case i < 0 || i >= n:
			return 0
		case i < len(intPart):
			return int64(intPart[i] - '0')
		}
		return int64(frac[i-len(intPart)] - '0')
	}
	point := len(intPart) + exp
	var mag int64
	for i := 0; i < point; i++ {
		if i >= n && mag == 0 {
			break // zero: more zeros change nothing
		}
		mag = mag*10 + digit(i)
		if mag > maxNumericDate {
			return 0, 0, false
		}
	}
	var ns int64
	for i := point; i < point+9; i++ {
		ns = ns*10 + digit(i)
	}
	more := false // non-zero digits below the nanosecond
	for i := max(point+9, 0); i < n; i++ {
		if digit(i) != 0 {
			more = true
			break
		}
	}
	if mag == maxNumericDate && (ns != 0 || more) {
		return 0, 0, false
	}
	if !neg {
		return mag, int32(ns), true
	}
	// -(mag + ns/1e9 + below), rounded down to the nanosecond.
	if more {
		ns++
	}
	if ns == 0 {
		return -mag, 0, true
	}
	return -mag - 1, int32(1e9 - ns), true
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
	switch d.Peek() {
	case strictjson.Array:
	case strictjson.Null:
		st.nullValue()
		return nil
	default:
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

// plans reads an array of strings as plans.
func (st *decodeState) plans(field string) []Plan {
	return asPlans(st.strings(field, "array of strings"))
}

// asPlans returns names as plans, in the same memory (a Plan is laid out as
// a string; see clone.go).
func asPlans(names []string) []Plan {
	return unsafe.Slice((*Plan)(unsafe.Pointer(unsafe.SliceData(names))), len(names))
}

// idNames reads permissions or roles: an array whose items are strings or
// {id, name} objects.
func (st *decodeState) idNames(buf *[stackItems]idName) []idName {
	d := &st.d
	const want = "array of strings or {id, name} objects"
	switch d.Peek() {
	case strictjson.Array:
	case strictjson.Null:
		st.nullValue()
		return nil
	default:
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
				switch name := d.Name(); string(name) {
				case "id":
					it.ID = st.str("[].id")
				case "name":
					it.Name = st.str("[].name")
				default:
					st.unknownField(name, idNameFields)
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
