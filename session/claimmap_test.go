package session

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// within reports whether s lies in the memory of payload (no copy).
func within(s, payload string) bool {
	p, q := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(payload)))
	return len(s) == 0 || p >= q && p+uintptr(len(s)) <= q+uintptr(len(payload))
}

func roles(ids ...string) []Role {
	var out []Role
	for _, id := range ids {
		out = append(out, Role{ID: id, Name: id})
	}
	return out
}

func perms(ids ...string) []Permission {
	var out []Permission
	for _, id := range ids {
		out = append(out, Permission{ID: id, Name: id})
	}
	return out
}

// decodeFails asserts that dec refuses payload with want, and, for a
// *ClaimError, that it names claim.
func decodeFails(t *testing.T, dec Decoder, payload string, want error, claim string) *ClaimError {
	t.Helper()
	tok, err := dec.Decode([]byte(payload))
	require.Error(t, err, "payload %s", payload)
	assert.Nil(t, tok)
	assert.ErrorIs(t, err, want)
	if claim == "" {
		return nil
	}
	var ce *ClaimError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, claim, ce.Claim)
	return ce
}

// Issue 12 item 1: roles, permissions and plans mapped from the claims of
// other identity providers.
func TestDecodeClaimMapping(t *testing.T) {
	const ns = verdocsNamespace
	keycloak := `{"iss":"https://kc/realms/r","sub":"u","azp":"web","scope":"openid email profile",` +
		`"realm_access":{"roles":["offline_access","uma_authorization","admin"]},` +
		`"resource_access":{"account":{"roles":["manage-account","view-profile"]}},"roles":["spoofed"],"email":"u@x"}`
	deep := `{"a":{},"a.b":{},"a.b.c":{"d":{}},"a.b.c.d":{},"a.b.c.d.e":{"x":1},"a.b.c.d.e.f":["found"]}`
	tests := []struct {
		name    string
		dec     Decoder
		payload string
		roles   []Role
		perms   []Permission
		plans   []Plan
	}{
		{"Keycloak realm roles", Decoder{Roles: "realm_access.roles"}, keycloak,
			roles("offline_access", "uma_authorization", "admin"), nil, nil},
		{"Keycloak client roles", Decoder{Roles: "resource_access.account.roles"}, keycloak,
			roles("manage-account", "view-profile"), nil, nil},
		{"Auth0 permissions, namespaced Verdocs roles", Decoder{Permissions: "permissions"},
			`{"permissions":["read:orders","write:orders"],"` + ns + `roles":["owner"],"scope":"openid read:orders"}`,
			roles("owner"), perms("read:orders", "write:orders"), nil},
		{"Auth0 namespaced claim with dots in its name", Decoder{Roles: "https://example.com/roles"},
			`{"https://example.com/roles":["admin"],"roles":["spoofed"]}`, roles("admin"), nil, nil},
		{"Entra roles and scp", Decoder{Roles: "roles", Permissions: "scp"},
			`{"tid":"72f988bf","roles":["Orders.Read"],"scp":"User.Read  Orders.Write"}`,
			roles("Orders.Read"), perms("User.Read", "Orders.Write"), nil},
		{"Cognito groups", Decoder{Roles: "cognito:groups"},
			`{"cognito:groups":["admin","users"],"scope":"aws.cognito.signin.user.admin","client_id":"c1"}`,
			roles("admin", "users"), nil, nil},
		{"Hydra extension claims", Decoder{Roles: "ext.roles", Plans: "ext.plans"},
			`{"scp":["offline","orders.read"],"ext":{"roles":["admin"],"plans":"gold silver"}}`,
			roles("admin"), nil, []Plan{"gold", "silver"}},
		{"{id, name} objects", Decoder{Roles: "realm_access.roles"},
			`{"realm_access":{"roles":[{"id":"a","name":"Admin"},"b"]}}`, []Role{{"a", "Admin"}, {"b", "b"}}, nil, nil},
		{"space-delimited string, empty items skipped", Decoder{Roles: "groups"},
			`{"groups":"  a  b c "}`, roles("a", "b", "c"), nil, nil},
		{"empty array", Decoder{Roles: "groups"}, `{"groups":[]}`, nil, nil, nil},
		{"empty string", Decoder{Roles: "groups", Permissions: "perms"}, `{"groups":"","perms":" "}`, nil, nil, nil},
		{"plans as an array", Decoder{Plans: "subscription.plans"},
			`{"subscription":{"plans":["org:standard"]},"plans":["spoofed"]}`, nil, nil, []Plan{PlanOrgStandard}},
		{"member named with the dot", Decoder{Roles: "a.b"}, `{"a.b":["x"]}`, roles("x"), nil, nil},
		{"member with the rest inside", Decoder{Roles: "a.b"}, `{"a":{"b":["y"]}}`, roles("y"), nil, nil},
		{"dotted member inside", Decoder{Roles: "a.b.c"}, `{"a":{"b.c":["z"]}}`, roles("z"), nil, nil},
		{"other members with the prefix", Decoder{Roles: "a.b"}, `{"a.b":["x"],"a":{"c":1},"a.bc":1,"a.":1}`, roles("x"), nil, nil},
		{"a prefix member without the rest", Decoder{Roles: "a.b"}, `{"a":{"c":["y"]},"a.b":["x"]}`, roles("x"), nil, nil},
		{"a null prefix member", Decoder{Roles: "a.b"}, `{"a":null,"a.b":["x"]}`, roles("x"), nil, nil},
		{"escaped member names", Decoder{Roles: "realm_access.roles"}, `{"realm\u005faccess":{"rol\u0065s":["a"]}}`, roles("a"), nil, nil},
		{"the Verdocs name as a path", Decoder{Roles: ns + "roles"}, `{"` + ns + `roles":["owner"],"roles":["member"]}`, roles("owner"), nil, nil},
		{"two mappings in one member", Decoder{Roles: "realm_access.roles", Permissions: "realm_access.perms"},
			`{"realm_access":{"perms":["p"],"roles":["r"]}}`, roles("r"), perms("p"), nil},
		{"more members along the path than kept on the stack", Decoder{Roles: "a.b.c.d.e.f"}, deep, roles("found"), nil, nil},
		{"unmapped Verdocs claims still read", Decoder{Roles: "groups"},
			`{"groups":["g"],"permissions":["org:view"],"` + ns + `plans":["org:standard"]}`,
			roles("g"), perms("org:view"), []Plan{PlanOrgStandard}},
		{"the Verdocs claim is not read when mapped", Decoder{Roles: "groups"}, `{"groups":["g"],"roles":5}`, roles("g"), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := tt.dec.Decode([]byte(tt.payload))
			require.NoError(t, err)
			assert.Equal(t, tt.roles, tok.Active.Roles)
			assert.Equal(t, tt.perms, tok.Active.Permissions)
			assert.Equal(t, tt.plans, tok.Active.Plans)
			for _, r := range tok.Active.Roles {
				assert.True(t, within(r.ID, tok.Payload()) || strings.Contains(tt.payload, `\u`), "role %q is a substring of the payload", r.ID)
			}
		})
	}

	errs := []struct {
		name    string
		dec     Decoder
		payload string
		want    error
		claim   string
	}{
		{"ambiguous, dotted member first", Decoder{Roles: "a.b"}, `{"a.b":["x"],"a":{"b":["y"]}}`, ErrClaimValue, "a.b"},
		{"ambiguous, nested member first", Decoder{Roles: "a.b"}, `{"a":{"b":["y"]},"a.b":["x"]}`, ErrClaimValue, "a.b"},
		{"ambiguous inside", Decoder{Roles: "a.b.c"}, `{"a":{"b.c":["x"],"b":{"c":["y"]}}}`, ErrClaimValue, "a.b.c"},
		{"ambiguous inside, other order", Decoder{Roles: "a.b.c"}, `{"a":{"b":{"c":["y"]},"b.c":["x"]}}`, ErrClaimValue, "a.b.c"},
		{"ambiguous across levels", Decoder{Roles: "a.b.c"}, `{"a.b.c":[],"a":{"b":{"c":[]}}}`, ErrClaimValue, "a.b.c"},
		{"ambiguous with a null", Decoder{Permissions: "a.b"}, `{"a.b":null,"a":{"b":["y"]}}`, ErrClaimValue, "a.b"},
		{"ambiguous with a wrong type", Decoder{Plans: "a.b"}, `{"a":{"b":5},"a.b":["x"]}`, ErrClaimValue, "a.b"},
		{"absent", Decoder{Roles: "realm_access.roles"}, `{"sub":"u","roles":["owner"]}`, ErrClaimMissing, "realm_access.roles"},
		{"absent inside", Decoder{Roles: "realm_access.roles"}, `{"realm_access":{}}`, ErrClaimMissing, "realm_access.roles"},
		{"null along the path", Decoder{Roles: "realm_access.roles"}, `{"realm_access":null}`, ErrClaimMissing, "realm_access.roles"},
		{"null value", Decoder{Permissions: "permissions"}, `{"permissions":null}`, ErrClaimMissing, "permissions"},
		{"absent plans", Decoder{Plans: "plan"}, `{"plans":["spoofed"]}`, ErrClaimMissing, "plan"},
		{"a name that only starts like the path", Decoder{Roles: "a.b"}, `{"a.bc":["x"],"ab":["y"]}`, ErrClaimMissing, "a.b"},
		{"number", Decoder{Roles: "realm_access.roles"}, `{"realm_access":{"roles":5}}`, ErrClaimType, "realm_access.roles"},
		{"object", Decoder{Roles: "groups"}, `{"groups":{"a":1}}`, ErrClaimType, "groups"},
		{"array of numbers", Decoder{Roles: "realm_access.roles"}, `{"realm_access":{"roles":[1]}}`, ErrClaimType, "realm_access.roles"},
		{"boolean, read as scopes too", Decoder{Permissions: "scp"}, `{"scp":true}`, ErrClaimType, "scp"},
		{"not an object along the path", Decoder{Roles: "realm_access.roles"}, `{"realm_access":"admin"}`, ErrClaimType, "realm_access.roles"},
		{"an array along the path", Decoder{Roles: "realm_access.roles"}, `{"realm_access":[{"roles":["x"]}]}`, ErrClaimType, "realm_access.roles"},
		{"not an object, with the dotted member too", Decoder{Roles: "a.b"}, `{"a":"x","a.b":["y"]}`, ErrClaimType, "a.b"},
		{"plans are strings only", Decoder{Plans: "plans"}, `{"plans":[{"id":"x","name":"X"}]}`, ErrClaimType, "plans"},
		{"id of the wrong type", Decoder{Roles: "r"}, `{"r":[{"id":1}]}`, ErrClaimType, "r"},
		{"folded top-level step", Decoder{Roles: "realm_access.roles"}, `{"Realm_Access":{"roles":["a"]}}`, ErrFoldedName, ""},
		{"folded member inside", Decoder{Roles: "realm_access.roles"}, `{"realm_access":{"Roles":["a"]}}`, ErrFoldedName, ""},
		{"folded dotted member", Decoder{Roles: "a.b"}, `{"A.B":["x"]}`, ErrFoldedName, ""},
		{"broken JSON in a mapped member", Decoder{Roles: "r"}, `{"r":["a",]}`, ErrMalformed, ""},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) { decodeFails(t, tt.dec, tt.payload, tt.want, tt.claim) })
	}

	_, err := Decoder{Roles: "realm_access.roles"}.Decode([]byte(`{}`))
	assert.EqualError(t, err, `session: claim "realm_access.roles": missing`)
	_, err = Decoder{Roles: "a.b"}.Decode([]byte(`{"a.b":[],"a":{"b":[]}}`))
	assert.EqualError(t, err, `session: claim "a.b": want one member for the path, not several`)
	_, err = Decoder{Roles: "realm_access.roles"}.Decode([]byte(`{"realm_access":"x"}`))
	assert.EqualError(t, err, `session: claim "realm_access.roles": want an object at realm_access`)
	_, err = Decoder{Roles: "r"}.Decode([]byte(`{"r":[{"id":1}]}`))
	assert.EqualError(t, err, `session: claim "r" field [].id: want string`)
}

// Issue 12 item 2: NamespacedOnly ignores the plain custom claims, except
// the kind markers.
func TestDecodeNamespacedOnly(t *testing.T) {
	const ns = verdocsNamespace
	dec := Decoder{NamespacedOnly: true}
	tests := []struct {
		name    string
		dec     Decoder
		payload string
		check   func(t *testing.T, tok *Token)
	}{
		{"plain roles never grant", dec, `{"sub":"u","roles":["owner"],"permissions":["org:delete"],"plans":["org:standard"]}`,
			func(t *testing.T, tok *Token) {
				assert.Equal(t, KindActive, tok.Kind)
				assert.Equal(t, ActiveSession{Sub: "u"}, tok.Active)
				assert.False(t, tok.Active.HasRole(RoleOwner))
			}},
		{"namespaced read, plain ignored, plain first", dec, `{"roles":["owner"],"` + ns + `roles":["member"]}`,
			func(t *testing.T, tok *Token) { assert.Equal(t, roles("member"), tok.Active.Roles) }},
		{"namespaced read, plain ignored, namespaced first", dec, `{"` + ns + `roles":["member"],"roles":["owner"]}`,
			func(t *testing.T, tok *Token) { assert.Equal(t, roles("member"), tok.Active.Roles) }},
		{"every plain custom claim ignored", dec, `{"email":"evil@x","email_verified":true,"profile":{"id":"p"},"profile_id":"p",` +
			`"organization_id":"o","sid":"s","global_admin":true}`,
			func(t *testing.T, tok *Token) { assert.Equal(t, ActiveSession{}, tok.Active) }},
		{"plain claims of any type are only validated", dec, `{"roles":5,"email":{},"profile":"x","global_admin":"yes"}`,
			func(t *testing.T, tok *Token) { assert.Equal(t, ActiveSession{}, tok.Active) }},
		{"plain document_id honoured", dec, `{"document_id":"d","role":"r","access_key":{"id":"k"},"` + ns + `role_name":"n"}`,
			func(t *testing.T, tok *Token) {
				assert.Equal(t, KindSigning, tok.Kind)
				assert.Equal(t, "d", tok.Signing.DocumentID)
				assert.Equal(t, "", tok.Signing.Role)
				assert.Equal(t, AccessKey{}, tok.Signing.AccessKey)
				assert.Equal(t, "n", tok.Signing.RoleName)
			}},
		{"plain envelope_id honoured", dec, `{"envelope_id":"e","key_type":"email"}`,
			func(t *testing.T, tok *Token) {
				assert.Equal(t, KindSigning, tok.Kind)
				assert.Equal(t, "e", tok.Signing.EnvelopeID)
				assert.Equal(t, "", tok.Signing.KeyType)
			}},
		{"plain session_type signing honoured", dec, `{"session_type":"signing","roles":["owner"]}`,
			func(t *testing.T, tok *Token) { assert.Equal(t, KindSigning, tok.Kind) }},
		{"namespaced session_type still wins", dec, `{"session_type":"signing","` + ns + `session_type":"user"}`,
			func(t *testing.T, tok *Token) { assert.Equal(t, KindActive, tok.Kind) }},
		{"registered claims and scopes unaffected", dec, `{"sub":"u","exp":100,"aud":"a","scope":"read"}`,
			func(t *testing.T, tok *Token) {
				assert.Equal(t, "u", tok.Active.Sub)
				assert.Equal(t, int64(100), tok.Registered.ExpiresAt)
				assert.Equal(t, []string{"read"}, tok.Scopes)
			}},
		{"a mapping reads the plain name it is given", Decoder{NamespacedOnly: true, Roles: "roles"}, `{"roles":["owner"]}`,
			func(t *testing.T, tok *Token) { assert.Equal(t, roles("owner"), tok.Active.Roles) }},
		{"off: plain claims read", Decoder{}, `{"roles":["owner"]}`,
			func(t *testing.T, tok *Token) { assert.Equal(t, roles("owner"), tok.Active.Roles) }},
		{"custom namespace", Decoder{NamespacedOnly: true, Namespace: "https://example.com/"},
			`{"https://example.com/roles":["a"],"` + ns + `roles":["b"],"roles":["c"]}`,
			func(t *testing.T, tok *Token) { assert.Equal(t, roles("a"), tok.Active.Roles) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := tt.dec.Decode([]byte(tt.payload))
			require.NoError(t, err)
			tt.check(t, tok)
		})
	}
	errs := []struct {
		name, payload string
		want          error
		claim         string
	}{
		{"plain document_id null", `{"document_id":null}`, ErrClaimType, "document_id"},
		{"plain envelope_id empty", `{"envelope_id":""}`, ErrClaimValue, "envelope_id"},
		{"plain session_type user with a namespaced envelope_id", `{"session_type":"user","` + ns + `envelope_id":"e"}`, ErrClaimValue, "session_type"},
		{"namespaced user with a plain document_id", `{"` + ns + `session_type":"user","document_id":"d"}`, ErrClaimValue, ns + "session_type"},
		{"plain session_type unknown", `{"session_type":"root"}`, ErrClaimValue, "session_type"},
		{"ignored plain claims are still strict JSON", `{"roles":["a","a"],"profile":{"id":"p","id":"q"}}`, ErrMalformed, ""},
		{"folded names still refused", `{"Roles":["owner"]}`, ErrFoldedName, ""},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) { decodeFails(t, dec, tt.payload, tt.want, tt.claim) })
	}
}

// Issue 12 item 3: scopes from scope and scp, in every form.
func TestDecodeScopes(t *testing.T) {
	const ns = verdocsNamespace
	var many, reversed []string
	for i := range 300 {
		many = append(many, "s"+strconv.Itoa(i))
		reversed = append([]string{"s" + strconv.Itoa(i)}, reversed...)
	}
	tests := []struct {
		name    string
		payload string
		want    []string
	}{
		{"RFC 9068 scope", `{"scope":"openid profile email"}`, []string{"openid", "profile", "email"}},
		{"empty items skipped", `{"scope":"  a  b   c "}`, []string{"a", "b", "c"}},
		{"empty scope", `{"scope":""}`, nil},
		{"only spaces", `{"scope":"   "}`, nil},
		{"Entra scp string", `{"scp":"User.Read Mail.Send"}`, []string{"User.Read", "Mail.Send"}},
		{"Hydra and Okta scp array", `{"scp":["offline","openid"]}`, []string{"offline", "openid"}},
		{"empty items of an array skipped", `{"scp":["","a",""]}`, []string{"a"}},
		{"empty array", `{"scp":[]}`, nil},
		{"both, same order", `{"scope":"a b","scp":["a","b"]}`, []string{"a", "b"}},
		{"both, scope's order", `{"scp":["b","a"],"scope":"a b"}`, []string{"a", "b"}},
		{"both as strings", `{"scope":"a  b","scp":"b a"}`, []string{"a", "b"}},
		{"both, duplicates aside", `{"scope":"a a b","scp":["b","a","b"]}`, []string{"a", "a", "b"}},
		{"both empty", `{"scope":"","scp":[]}`, nil},
		{"both, many", `{"scope":"` + strings.Join(many, " ") + `","scp":["` + strings.Join(reversed, `","`) + `"]}`, many},
		{"null scope is absent", `{"scope":null}`, nil},
		{"null scope, scp present", `{"scope":null,"scp":"a"}`, []string{"a"}},
		{"null scp, scope present", `{"scp":null,"scope":"a"}`, []string{"a"}},
		{"escapes", `{"scope":"a\u0020b\/c"}`, []string{"a", "b/c"}},
		{"namespaced scope is not a scope", `{"` + ns + `scope":"admin","` + ns + `scp":5}`, nil},
		{"none", `{"sub":"u"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, dec := range []Decoder{{}, {NamespacedOnly: true, Roles: "x.y", Capture: []string{"scp"}}} {
				tok, err := dec.Decode([]byte(tt.payload))
				if dec.Roles != "" {
					require.ErrorIs(t, err, ErrClaimMissing) // the scopes were read before
					continue
				}
				require.NoError(t, err)
				assert.Equal(t, tt.want, tok.Scopes)
				if !strings.Contains(tt.payload, `\u`) {
					for _, s := range tok.Scopes {
						assert.True(t, within(s, tok.Payload()), "scope %q is a substring of the payload", s)
					}
				}
			}
		})
	}
	errs := []struct {
		name, payload string
		want          error
		claim         string
	}{
		{"scope as an array", `{"scope":["a"]}`, ErrClaimType, "scope"},
		{"scope as a number", `{"scope":1}`, ErrClaimType, "scope"},
		{"scope as an object", `{"scope":{}}`, ErrClaimType, "scope"},
		{"scp as a number", `{"scp":1}`, ErrClaimType, "scp"},
		{"scp item a number", `{"scp":["a",1]}`, ErrClaimType, "scp"},
		{"scp as an object", `{"scp":{"a":true}}`, ErrClaimType, "scp"},
		{"scp item with a space", `{"scp":["a b"]}`, ErrClaimValue, "scp"},
		{"disagreeing, scp has fewer", `{"scope":"a b","scp":["a"]}`, ErrClaimValue, "scp"},
		{"disagreeing, scp has more", `{"scp":"a c","scope":"a"}`, ErrClaimValue, "scp"},
		{"disagreeing, scope empty", `{"scope":"","scp":["a"]}`, ErrClaimValue, "scp"},
		{"disagreeing, scp empty", `{"scope":"a","scp":[]}`, ErrClaimValue, "scp"},
		{"disagreeing, case", `{"scope":"read","scp":"Read"}`, ErrClaimValue, "scp"},
		{"disagreeing, many", `{"scope":"` + strings.Join(many, " ") + `","scp":["` + strings.Join(reversed[1:], `","`) + `","x"]}`, ErrClaimValue, "scp"},
		{"duplicate scope", `{"scope":"a","scope":"a"}`, ErrMalformed, ""},
		{"folded scope", `{"scope":"a","SCOPE":"admin"}`, ErrFoldedName, ""},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) { decodeFails(t, Decoder{}, tt.payload, tt.want, tt.claim) })
	}
	_, err := Decoder{}.Decode([]byte(`{"scope":"a","scp":"b"}`))
	assert.EqualError(t, err, `session: claim "scp": want the same scopes as scope`)
}

// Issue 12 item 4: captured claims keep their raw values.
func TestDecodeCapture(t *testing.T) {
	const ns = verdocsNamespace
	dec := Decoder{Capture: []string{"azp", "client_id", "email_verified", "acr", "tid", "aud", "scope", "ext", "esc", ns + "email"}}
	payload := `{"azp" :  "web-client"  ,"email_verified":true,"acr":"1","tid":null,"aud":["a", "b"],"scope":"openid",` +
		`"ext":{ "a" : [1, 2.5e3, {"b":null}] },"esc":"q\"\u00e9\/","` + ns + `email":"u@x","sub":"u"}`
	tok, err := dec.Decode([]byte(payload))
	require.NoError(t, err)
	tests := []struct {
		name string
		want string
		ok   bool
	}{
		{"azp", `"web-client"`, true},
		{"email_verified", `true`, true},
		{"acr", `"1"`, true},
		{"tid", `null`, true},
		{"aud", `["a", "b"]`, true},
		{"scope", `"openid"`, true},
		{"ext", `{ "a" : [1, 2.5e3, {"b":null}] }`, true},
		{"esc", `"q\"\u00e9\/"`, true},
		{ns + "email", `"u@x"`, true},
		{"client_id", ``, false}, // captured, absent
		{"sub", ``, false},       // present, not captured
		{"email", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, ok := tok.Claim(tt.name)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, string(raw))
		})
	}
	// The decoder's own reading of a captured claim is unchanged.
	assert.True(t, tok.Active.EmailVerified)
	assert.Equal(t, "u@x", tok.Active.Email)
	assert.Equal(t, Audience{"a", "b"}, tok.Registered.Audience)
	assert.Equal(t, []string{"openid"}, tok.Scopes)
	// Kept without a copy; handed out as one.
	for i := 1; i < len(tok.captured); i += 2 {
		assert.True(t, within(tok.captured[i], tok.Payload()))
	}
	raw, _ := tok.Claim("azp")
	raw[1] = 'X'
	raw, _ = tok.Claim("azp")
	assert.Equal(t, `"web-client"`, string(raw))
	// Copies carry the captured claims.
	for _, c := range []*Token{tok.Clone(), func() *Token { c, _ := TokenFromContext(NewTokenContext(context.Background(), tok)); return c }()} {
		raw, ok := c.Claim("ext")
		assert.True(t, ok)
		assert.Equal(t, `{ "a" : [1, 2.5e3, {"b":null}] }`, string(raw))
	}

	// Without Capture nothing is kept.
	tok, err = Decoder{}.Decode([]byte(payload))
	require.NoError(t, err)
	_, ok := tok.Claim("azp")
	assert.False(t, ok)
	assert.Nil(t, tok.captured)
	var zero Token
	_, ok = zero.Claim("azp")
	assert.False(t, ok)

	// Capture costs nothing when empty and one allocation when used.
	p := readTestdata(t, "access_token_claims.json")
	base := testing.AllocsPerRun(50, func() { _, _ = Decoder{}.Decode(p) })
	assert.Equal(t, base, testing.AllocsPerRun(50, func() { _, _ = Decoder{Capture: []string{}}.Decode(p) }))
	three := Decoder{Capture: []string{"azp", "scope", "acr"}}
	assert.Equal(t, base+1, testing.AllocsPerRun(50, func() { _, _ = three.Decode(p) }))

	errs := []struct {
		name, payload string
		want          error
	}{
		{"folded captured name", `{"AZP":"evil"}`, ErrFoldedName},
		{"folded next to the captured one", `{"azp":"web","Azp":"evil"}`, ErrFoldedName},
		{"broken JSON in a captured claim", `{"ext":{"a":}}`, ErrMalformed},
		{"a captured claim the decoder refuses", `{"email_verified":"yes"}`, ErrClaimType},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) { decodeFails(t, dec, tt.payload, tt.want, "") })
	}
}
