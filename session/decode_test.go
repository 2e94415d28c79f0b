package session

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ptr(s string) *string { return &s }

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}

func TestDecodeRealisticPayload(t *testing.T) {
	tok, err := Decoder{}.Decode(readTestdata(t, "access_token_claims.json"))
	require.NoError(t, err)

	assert.Equal(t, KindActive, tok.Kind)
	r := tok.Registered
	assert.Equal(t, "https://auth.verdocs.com/", r.Issuer)
	assert.Equal(t, Audience{"https://api.verdocs.com/", "https://verdocs.us.auth0.com/userinfo"}, r.Audience)
	assert.Equal(t, "4f1c2b7e-9a3d-4c55-8e21-0d6f3a9b7c11", r.ID)
	assert.True(t, r.Has(ClaimIss|ClaimSub|ClaimAud|ClaimExp|ClaimIat|ClaimJti))
	assert.False(t, r.Has(ClaimNbf))

	s := tok.Active
	want := ActiveSession{
		Sub:            "auth0|6380b2d2c4bd5e7b9ee8f6a1",
		Email:          "ada.lovelace@example.com",
		EmailVerified:  true,
		IssuedAt:       1764000000,
		ExpiresAt:      1764086400,
		ProfileID:      "5e2a1c3b-7d4f-4a8e-9b6c-1f0e2d3c4b5a",
		OrganizationID: "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
		Roles:          []Role{{ID: "owner", Name: "owner"}},
		Plans:          []Plan{PlanOrgStandard},
		Profile: Profile{
			ID:             "5e2a1c3b-7d4f-4a8e-9b6c-1f0e2d3c4b5a",
			UserID:         "auth0|6380b2d2c4bd5e7b9ee8f6a1",
			OrganizationID: "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
			FirstName:      "Ada",
			LastName:       "Lovelace",
			Email:          "ada.lovelace@example.com",
			Current:        true,
			Organization: Organization{
				ID:           "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
				Name:         "Analytical Engines Ltd",
				Address:      ptr("12 St James's Square"),
				Phone:        ptr("+44 20 7946 0000"),
				BusinessName: ptr("Analytical Engines Ltd"),
				IsBusiness:   true,
				ContactEmail: ptr("billing@example.com"),
				Timezone:     ptr("Europe/London"),
			},
		},
	}
	for _, p := range []string{"org:view", "member:view", "org:update", "member:add", "member:remove",
		"template:creator:create:personal", "template:member:read", "template:member:write", "rform:access", "rcommon:access"} {
		want.Permissions = append(want.Permissions, Permission{ID: p, Name: p})
	}
	assert.Equal(t, want, s)

	var extra struct {
		Scope string `json:"scope"`
		AZP   string `json:"azp"`
	}
	require.NoError(t, tok.Claims(&extra))
	assert.Equal(t, "openid profile email", extra.Scope)
	assert.Equal(t, "Qq8Gx1AbCdEfGhIjKlMnOpQrStUv", extra.AZP)
}

func TestDecodeShapes(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		ns      string
		check   func(t *testing.T, tok *Token)
	}{
		{
			name:    "plain names",
			payload: `{"sub":"u1","email":"a@b.c","email_verified":true,"profile_id":"p1","organization_id":"o1","roles":["member"],"permissions":["org:view"],"plans":["env:essential"]}`,
			check: func(t *testing.T, tok *Token) {
				s := tok.Active
				assert.Equal(t, "u1", s.Sub)
				assert.Equal(t, "a@b.c", s.Email)
				assert.True(t, s.EmailVerified)
				assert.Equal(t, "p1", s.ProfileID)
				assert.Equal(t, "o1", s.OrganizationID)
				assert.Equal(t, []Role{{"member", "member"}}, s.Roles)
				assert.Equal(t, []Permission{{"org:view", "org:view"}}, s.Permissions)
				assert.Equal(t, []Plan{PlanEnvEssential}, s.Plans)
			},
		},
		{
			name:    "namespaced wins over plain, plain first",
			payload: `{"profile_id":"plain","https://verdocs.com/profile_id":"ns","roles":["member"],"https://verdocs.com/roles":["owner"]}`,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, "ns", tok.Active.ProfileID)
				assert.Equal(t, []Role{{"owner", "owner"}}, tok.Active.Roles)
			},
		},
		{
			name:    "namespaced wins over plain, namespaced first",
			payload: `{"https://verdocs.com/profile_id":"ns","profile_id":"plain","https://verdocs.com/email":"ns@x","email":"plain@x"}`,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, "ns", tok.Active.ProfileID)
				assert.Equal(t, "ns@x", tok.Active.Email)
			},
		},
		{
			name:    "custom namespace",
			ns:      "https://example.com/claims/",
			payload: `{"https://example.com/claims/organization_id":"o2","https://verdocs.com/organization_id":"other"}`,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, "o2", tok.Active.OrganizationID)
			},
		},
		{
			name:    "namespaced registered claims are not registered claims",
			payload: `{"exp":100,"https://verdocs.com/exp":999999,"https://verdocs.com/iss":"evil","iss":"good"}`,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, int64(100), tok.Registered.ExpiresAt)
				assert.Equal(t, "good", tok.Registered.Issuer)
			},
		},
		{
			name:    "objects for permissions and roles",
			payload: `{"permissions":[{"id":"org:view","name":"View organization"},{"id":"x:custom","name":"Custom","extra":1}],"roles":[{"id":"owner","name":"Owner"}]}`,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, []Permission{{"org:view", "View organization"}, {"x:custom", "Custom"}}, tok.Active.Permissions)
				assert.Equal(t, []Role{{"owner", "Owner"}}, tok.Active.Roles)
				assert.True(t, tok.Active.HasPermission("x:custom"))
			},
		},
		{
			name:    "mixed strings and objects",
			payload: `{"permissions":["org:view",{"id":"member:view","name":"View members"}]}`,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, []Permission{{"org:view", "org:view"}, {"member:view", "View members"}}, tok.Active.Permissions)
			},
		},
		{
			name:    "unknown values decode and match",
			payload: `{"roles":["galactic_overlord"],"permissions":["time:travel"],"plans":["org:enterprise-2030"]}`,
			check: func(t *testing.T, tok *Token) {
				assert.True(t, tok.Active.HasRole("galactic_overlord"))
				assert.True(t, tok.Active.HasPermission("time:travel"))
				assert.True(t, tok.Active.HasPlan("org:enterprise-2030"))
			},
		},
		{
			name:    "nulls count as absent, nullable fields stay nil",
			payload: `{"email":null,"plans":null,"roles":null,"profile":{"phone":null,"organization":{"address":null,"timezone":"UTC"},"groups":null},"exp":null,"aud":null}`,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, "", tok.Active.Email)
				assert.Nil(t, tok.Active.Plans)
				assert.Nil(t, tok.Active.Roles)
				assert.Nil(t, tok.Active.Profile.Phone)
				assert.Nil(t, tok.Active.Profile.Organization.Address)
				assert.Equal(t, ptr("UTC"), tok.Active.Profile.Organization.Timezone)
				assert.False(t, tok.Registered.Has(ClaimExp))
				assert.False(t, tok.Registered.Has(ClaimAud))
			},
		},
		{
			name:    "empty arrays decode to nil",
			payload: `{"permissions":[],"roles":[],"plans":[]}`,
			check: func(t *testing.T, tok *Token) {
				assert.Nil(t, tok.Active.Permissions)
				assert.Nil(t, tok.Active.Roles)
				assert.Nil(t, tok.Active.Plans)
			},
		},
		{
			name:    "missing claims are fine",
			payload: `{}`,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, KindActive, tok.Kind)
				assert.Equal(t, ActiveSession{}, tok.Active)
				assert.Equal(t, ClaimSet(0), tok.Registered.Present)
			},
		},
		{
			name:    "aud as string",
			payload: `{"aud":"https://api.example/"}`,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, Audience{"https://api.example/"}, tok.Registered.Audience)
				assert.True(t, tok.Registered.Has(ClaimAud))
			},
		},
		{
			name:    "fractional and negative NumericDates round down",
			payload: `{"exp":1700000000.9,"nbf":-1.5,"iat":1e9}`,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, int64(1700000000), tok.Registered.ExpiresAt)
				assert.Equal(t, int64(-2), tok.Registered.NotBefore)
				assert.Equal(t, int64(1000000000), tok.Registered.IssuedAt)
			},
		},
		{
			name:    "escaped names and values",
			payload: `{"\u0065mail":"caf\u00e9@x.y","https:\/\/verdocs.com\/profile_id":"p\"1"}`,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, "café@x.y", tok.Active.Email)
				assert.Equal(t, `p"1`, tok.Active.ProfileID)
			},
		},
		{
			name:    "profile with groups",
			payload: `{"profile":{"id":"p","groups":[{"id":"g","name":"G","organization_id":"o","parent_id":null,"permissions":["org:view"],"roles":["member"],"profiles":[{"id":"p2","first_name":"B"}]},null]}}`,
			check: func(t *testing.T, tok *Token) {
				g := tok.Active.Profile.Groups
				require.Len(t, g, 1)
				assert.Equal(t, Group{ID: "g", Name: "G", OrganizationID: "o", Permissions: []string{"org:view"},
					Roles: []string{"member"}, Profiles: []Profile{{ID: "p2", FirstName: "B"}}}, g[0])
			},
		},
		{
			name:    "signing session",
			payload: `{"profile_id":"p","document_id":"d","role":"Recipient 1","email":"s@x","access_key":{"id":"k","type":"email"},"iss":"https://i/","aud":"https://a/","exp":200,"iat":100}`,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, KindSigning, tok.Kind)
				assert.Equal(t, SigningSession{ProfileID: "p", DocumentID: "d", Role: "Recipient 1", Email: "s@x",
					AccessKey: AccessKey{ID: "k", Type: "email"}, Iss: "https://i/", Aud: Audience{"https://a/"},
					ExpiresAt: 200, IssuedAt: 100}, tok.Signing)
			},
		},
		{
			name:    "namespaced signing session",
			payload: `{"https://verdocs.com/document_id":"d","https://verdocs.com/access_key":{"id":"k","type":"in_app"}}`,
			check: func(t *testing.T, tok *Token) {
				assert.Equal(t, KindSigning, tok.Kind)
				assert.Equal(t, "d", tok.Signing.DocumentID)
				assert.Equal(t, "in_app", tok.Signing.AccessKey.Type)
			},
		},
		{
			name:    "many permissions beyond the stack buffer",
			payload: `{"permissions":[` + strings.TrimSuffix(strings.Repeat(`"p",`, 100), ",") + `]}`,
			check: func(t *testing.T, tok *Token) {
				assert.Len(t, tok.Active.Permissions, 100)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Decoder{Namespace: tt.ns}.Decode([]byte(tt.payload))
			require.NoError(t, err)
			tt.check(t, tok)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    error
		claim   string // for *ClaimError
		field   string
	}{
		{"not an object", `["a"]`, ErrMalformed, "", ""},
		{"not JSON", `{"a":`, ErrMalformed, "", ""},
		{"empty", ``, ErrMalformed, "", ""},
		{"duplicate iss", `{"iss":"a","iss":"b"}`, ErrMalformed, "", ""},
		{"duplicate sub via escape", `{"sub":"a","s\u0075b":"b"}`, ErrMalformed, "", ""},
		{"duplicate unknown claim", `{"x":1,"x":1}`, ErrMalformed, "", ""},
		{"trailing data", `{"sub":"a"}{}`, ErrMalformed, "", ""},
		{"invalid UTF-8", "{\"sub\":\"\xff\"}", ErrMalformed, "", ""},
		{"exp as string", `{"exp":"1700000000"}`, ErrClaimType, "exp", ""},
		{"exp as bool", `{"exp":true}`, ErrClaimType, "exp", ""},
		{"exp too large", `{"exp":1e18}`, ErrClaimRange, "exp", ""},
		{"exp overflow", `{"exp":1e400}`, ErrClaimRange, "exp", ""},
		{"nbf as string", `{"nbf":"0"}`, ErrClaimType, "nbf", ""},
		{"iat as object", `{"iat":{}}`, ErrClaimType, "iat", ""},
		{"iss as number", `{"iss":1}`, ErrClaimType, "iss", ""},
		{"aud as number", `{"aud":1}`, ErrClaimType, "aud", ""},
		{"aud array of numbers", `{"aud":[1]}`, ErrClaimType, "aud", ""},
		{"email as number", `{"email":5}`, ErrClaimType, "email", ""},
		{"email_verified as string", `{"email_verified":"true"}`, ErrClaimType, "email_verified", ""},
		{"namespaced roles as string", `{"https://verdocs.com/roles":"owner"}`, ErrClaimType, "https://verdocs.com/roles", ""},
		{"permissions item number", `{"permissions":["a",1]}`, ErrClaimType, "permissions", ""},
		{"permission object id number", `{"permissions":[{"id":1}]}`, ErrClaimType, "permissions", "[].id"},
		{"plans as object", `{"plans":{}}`, ErrClaimType, "plans", ""},
		{"profile as string", `{"profile":"p"}`, ErrClaimType, "profile", ""},
		{"profile current as string", `{"profile":{"current":"yes"}}`, ErrClaimType, "profile", "current"},
		{"organization name number", `{"profile":{"organization":{"name":1}}}`, ErrClaimType, "profile", "organization.name"},
		{"group parent number", `{"profile":{"groups":[{"parent_id":7}]}}`, ErrClaimType, "profile", "groups[].parent_id"},
		{"nested profile in group", `{"profile":{"groups":[{"profiles":[{"phone":false}]}]}}`, ErrClaimType, "profile", "groups[].profiles[].phone"},
		{"losing plain claim still type-checked", `{"https://verdocs.com/email":"a","email":1}`, ErrClaimType, "email", ""},
		{"document_id number", `{"document_id":1}`, ErrClaimType, "document_id", ""},
		{"access_key id number", `{"access_key":{"id":1}}`, ErrClaimType, "access_key", "id"},
		{"broken JSON inside claim", `{"profile":{"id":tru}}`, ErrMalformed, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Decoder{}.Decode([]byte(tt.payload))
			require.Error(t, err)
			assert.Nil(t, tok)
			assert.ErrorIs(t, err, tt.want)
			if tt.claim != "" {
				var ce *ClaimError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, tt.claim, ce.Claim)
				assert.Equal(t, tt.field, ce.Field)
				assert.Contains(t, err.Error(), tt.claim)
			}
		})
	}
}

func TestMarshalShape(t *testing.T) {
	tok, err := Decoder{}.Decode(readTestdata(t, "access_token_claims.json"))
	require.NoError(t, err)
	b, err := json.Marshal(tok.Active)
	require.NoError(t, err)

	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"sub", "email", "email_verified", "iat", "exp", "permissions", "roles",
		"profile", "profile_id", "organization_id", "plans"}, keys)
	assert.Equal(t, map[string]any{"id": "owner", "name": "owner"}, m["roles"].([]any)[0])
	assert.Equal(t, float64(1764086400), m["exp"])
	profile := m["profile"].(map[string]any)
	assert.Nil(t, profile["phone"])
	assert.Contains(t, profile, "phone") // null, not omitted
	assert.NotContains(t, profile, "groups")
	org := profile["organization"].(map[string]any)
	assert.ElementsMatch(t, []string{"id", "name", "address", "phone", "business_name", "is_business", "address2",
		"contact_email", "timezone", "envelope_responsible"}, mapKeys(org))

	// An empty session still has the IActiveSession shape: arrays, not null; plans omitted.
	b, err = json.Marshal(ActiveSession{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"sub":"","email":"","email_verified":false,"iat":0,"exp":0,"permissions":[],"roles":[],
		"profile":{"id":"","user_id":"","organization_id":"","first_name":"","last_name":"","email":"","phone":null,"current":false,
		"organization":{"id":"","name":"","address":null,"phone":null,"business_name":null,"is_business":false,"address2":null,
		"contact_email":null,"timezone":null,"envelope_responsible":false}},"profile_id":"","organization_id":""}`, string(b))
}

func mapKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"access_token_claims.json"} {
		tok, err := Decoder{}.Decode(readTestdata(t, name))
		require.NoError(t, err)
		b, err := json.Marshal(tok.Active)
		require.NoError(t, err)
		var back ActiveSession
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, tok.Active, back)
	}
	// Objects with names distinct from ids survive the round trip too.
	in := ActiveSession{Sub: "s", Permissions: []Permission{{"a", "A"}}, Roles: []Role{{"r", "R"}},
		Profile: Profile{Groups: []Group{{ID: "g", ParentID: ptr("p")}}, Plans: []Plan{"x"}}}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	var back ActiveSession
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, in, back)
}

func TestSigningSessionJSON(t *testing.T) {
	s := SigningSession{ProfileID: "p", DocumentID: "d", Aud: Audience{"a"}, AccessKey: AccessKey{"k", "email"}}
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"aud":"a"`)
	var back SigningSession
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, s, back)

	var aud Audience
	require.NoError(t, json.Unmarshal([]byte(`["a","b"]`), &aud))
	assert.Equal(t, Audience{"a", "b"}, aud)
	require.NoError(t, json.Unmarshal([]byte(`null`), &aud))
	assert.Nil(t, aud)
	err = json.Unmarshal([]byte(`5`), &aud)
	assert.True(t, errors.Is(err, ErrClaimType))
}

// decodeErr asserts that payload is refused with want (and, for a
// *ClaimError, the claim it names).
func decodeErr(t *testing.T, payload string, want error, claim string) {
	t.Helper()
	tok, err := Decoder{}.Decode([]byte(payload))
	require.Error(t, err, "payload %s", payload)
	assert.Nil(t, tok)
	assert.ErrorIs(t, err, want)
	if claim != "" {
		var ce *ClaimError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, claim, ce.Claim)
		assert.Contains(t, err.Error(), claim)
	}
}

// Issue 10 item 3: cnf is a registered claim whose presence is recorded.
func TestDecodeCnf(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		present bool
	}{
		{"DPoP key binding", `{"sub":"u","cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}`, true},
		{"mTLS key binding", `{"cnf":{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}}`, true},
		{"empty object", `{"cnf":{}}`, true},
		{"nested members", `{"cnf":{"jwk":{"kty":"EC","crv":"P-256"}}}`, true},
		{"absent", `{"sub":"u"}`, false},
		{"namespaced cnf is not the registered claim", `{"https://verdocs.com/cnf":{"jkt":"x"}}`, false},
		{"namespaced cnf of another type is not checked", `{"https://verdocs.com/cnf":null}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Decoder{}.Decode([]byte(tt.payload))
			require.NoError(t, err)
			assert.Equal(t, tt.present, tok.Registered.Has(ClaimCnf))
			assert.Equal(t, tt.present, tok.Registered.Present&ClaimCnf != 0)
		})
	}
	errs := []struct {
		name    string
		payload string
		want    error
		claim   string
	}{
		{"null fails closed", `{"cnf":null}`, ErrClaimType, "cnf"},
		{"string", `{"cnf":"jkt"}`, ErrClaimType, "cnf"},
		{"array", `{"cnf":[{"jkt":"x"}]}`, ErrClaimType, "cnf"},
		{"number", `{"cnf":1}`, ErrClaimType, "cnf"},
		{"boolean", `{"cnf":false}`, ErrClaimType, "cnf"},
		{"duplicate cnf", `{"cnf":{},"cnf":{}}`, ErrMalformed, ""},
		{"duplicate member inside", `{"cnf":{"jkt":"a","jkt":"b"}}`, ErrMalformed, ""},
		{"folded member inside", `{"cnf":{"jkt":"a","JKT":"b"}}`, ErrFoldedName, ""},
		{"folded spelling of cnf", `{"CNF":{"jkt":"a"}}`, ErrFoldedName, ""},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) { decodeErr(t, tt.payload, tt.want, tt.claim) })
	}
	var ce *ClaimError
	_, err := Decoder{}.Decode([]byte(`{"cnf":null}`))
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, `session: claim "cnf": want object`, err.Error())
}

// Issue 10 item 4: both generations of session tokens, told apart by
// session_type (6.x) or document_id / envelope_id.
func TestDecodeSessionGenerations(t *testing.T) {
	const ns = verdocsNamespace
	signing6 := `{"aud":"https://api/","iss":"https://i/","sub":"signer-1","iat":100,"exp":200,` +
		`"session_type":"signing","` + ns + `session_type":"signing","key_type":"email","email":"s@x","profile_id":"p",` +
		`"envelope_id":"env-1","` + ns + `envelope_id":"env-1","role_name":"Recipient 1","` + ns + `role_name":"Recipient 1"}`
	user6 := `{"jti":"j-1","sid":"sid-1","aud":"https://api/","iss":"https://i/","sub":"u-1","iat":100,"exp":200,` +
		`"session_type":"user","` + ns + `session_type":"user","email":"u@x","profile_id":"p","` + ns + `profile_id":"p",` +
		`"organization_id":"o","` + ns + `organization_id":"o","global_admin":true,"` + ns + `global_admin":true}`
	tests := []struct {
		name    string
		payload string
		kind    Kind
		check   func(t *testing.T, tok *Token)
	}{
		{"6.x signing session", signing6, KindSigning, func(t *testing.T, tok *Token) {
			assert.Equal(t, SigningSession{ProfileID: "p", Email: "s@x", Iss: "https://i/", Aud: Audience{"https://api/"},
				ExpiresAt: 200, IssuedAt: 100, SessionType: "signing", EnvelopeID: "env-1", RoleName: "Recipient 1",
				KeyType: "email"}, tok.Signing)
			assert.Equal(t, "signer-1", tok.Registered.Subject)
		}},
		{"6.x user session", user6, KindActive, func(t *testing.T, tok *Token) {
			assert.Equal(t, ActiveSession{Sub: "u-1", Email: "u@x", IssuedAt: 100, ExpiresAt: 200, ProfileID: "p",
				OrganizationID: "o", SessionID: "sid-1", GlobalAdmin: true}, tok.Active)
			assert.Equal(t, "j-1", tok.Registered.ID)
		}},
		{"plain session_type signing only", `{"session_type":"signing"}`, KindSigning, nil},
		{"namespaced session_type signing only", `{"` + ns + `session_type":"signing","email":"s@x"}`, KindSigning,
			func(t *testing.T, tok *Token) { assert.Equal(t, "signing", tok.Signing.SessionType) }},
		{"signing with user-only claims is still signing", `{"session_type":"signing","global_admin":true,"roles":["owner"]}`, KindSigning, nil},
		{"envelope_id without session_type", `{"envelope_id":"e","role_name":"r"}`, KindSigning,
			func(t *testing.T, tok *Token) { assert.Equal(t, "e", tok.Signing.EnvelopeID) }},
		{"namespaced envelope_id without session_type", `{"` + ns + `envelope_id":"e"}`, KindSigning, nil},
		{"signing with a 1.0.x document_id", `{"session_type":"signing","document_id":"d"}`, KindSigning, nil},
		{"namespaced signing wins over plain user", `{"session_type":"user","` + ns + `session_type":"signing","envelope_id":"e"}`, KindSigning, nil},
		{"namespaced signing wins over plain user, namespaced first", `{"` + ns + `session_type":"signing","session_type":"user","envelope_id":"e"}`, KindSigning, nil},
		{"namespaced user wins over plain signing", `{"session_type":"signing","` + ns + `session_type":"user"}`, KindActive, nil},
		{"session_type user alone", `{"session_type":"user","sub":"u"}`, KindActive,
			func(t *testing.T, tok *Token) { assert.Equal(t, "u", tok.Active.Sub) }},
		{"1.0.x signing session", `{"document_id":"d","role":"r","access_key":{"id":"k","type":"email"}}`, KindSigning,
			func(t *testing.T, tok *Token) {
				assert.Equal(t, "", tok.Signing.SessionType)
				assert.Equal(t, "d", tok.Signing.DocumentID)
			}},
		{"1.0.x active session", `{"sub":"u","roles":["owner"]}`, KindActive, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Decoder{}.Decode([]byte(tt.payload))
			require.NoError(t, err)
			assert.Equal(t, tt.kind, tok.Kind)
			if tt.check != nil {
				tt.check(t, tok)
			}
		})
	}
}

func TestDecodeSessionKindErrors(t *testing.T) {
	const ns = verdocsNamespace
	tests := []struct {
		name    string
		payload string
		want    error
		claim   string
	}{
		{"user with document_id", `{"session_type":"user","document_id":"d"}`, ErrClaimValue, "session_type"},
		{"user with envelope_id", `{"session_type":"user","envelope_id":"e"}`, ErrClaimValue, "session_type"},
		{"document_id before user", `{"document_id":"d","session_type":"user"}`, ErrClaimValue, "session_type"},
		{"namespaced user with envelope_id", `{"` + ns + `session_type":"user","` + ns + `envelope_id":"e"}`, ErrClaimValue, ns + "session_type"},
		{"plain signing loses to namespaced user with envelope_id", `{"session_type":"signing","` + ns + `session_type":"user","envelope_id":"e"}`, ErrClaimValue, ns + "session_type"},
		{"unknown session_type", `{"session_type":"admin"}`, ErrClaimValue, "session_type"},
		{"session_type is case-sensitive", `{"session_type":"Signing"}`, ErrClaimValue, "session_type"},
		{"empty session_type", `{"session_type":""}`, ErrClaimValue, "session_type"},
		{"null session_type", `{"session_type":null}`, ErrClaimType, "session_type"},
		{"number session_type", `{"session_type":1}`, ErrClaimType, "session_type"},
		{"losing plain session_type still checked", `{"` + ns + `session_type":"user","session_type":"root"}`, ErrClaimValue, "session_type"},
		{"role_name number", `{"envelope_id":"e","role_name":1}`, ErrClaimType, "role_name"},
		{"key_type object", `{"envelope_id":"e","key_type":{}}`, ErrClaimType, "key_type"},
		{"sid number", `{"sid":1}`, ErrClaimType, "sid"},
		{"global_admin string", `{"global_admin":"true"}`, ErrClaimType, "global_admin"},
		{"namespaced global_admin string", `{"` + ns + `global_admin":"yes"}`, ErrClaimType, ns + "global_admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { decodeErr(t, tt.payload, tt.want, tt.claim) })
	}
	_, err := Decoder{}.Decode([]byte(`{"session_type":"user","envelope_id":"e"}`))
	assert.EqualError(t, err, `session: claim "session_type": want "signing", as the token has envelope_id`)
	_, err = Decoder{}.Decode([]byte(`{"session_type":"admin"}`))
	assert.EqualError(t, err, `session: claim "session_type": want "user" or "signing"`)
}

// Issue 10 item 4: the 6.x fields leave the 1.0.12 JSON shape alone and
// round-trip when set.
func TestMarshalShape6x(t *testing.T) {
	b, err := json.Marshal(ActiveSession{Sub: "u"})
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	assert.NotContains(t, m, "sid")
	assert.NotContains(t, m, "global_admin")

	in := ActiveSession{Sub: "u", SessionID: "sid-1", GlobalAdmin: true}
	b, err = json.Marshal(in)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"sid":"sid-1"`)
	assert.Contains(t, string(b), `"global_admin":true`)
	var back ActiveSession
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, in, back)

	b, err = json.Marshal(SigningSession{DocumentID: "d"})
	require.NoError(t, err)
	for _, k := range []string{"session_type", "envelope_id", "role_name", "key_type"} {
		assert.NotContains(t, string(b), k)
	}
	s := SigningSession{SessionType: "signing", EnvelopeID: "e", RoleName: "r", KeyType: "email", Aud: Audience{"a"}}
	b, err = json.Marshal(s)
	require.NoError(t, err)
	var sback SigningSession
	require.NoError(t, json.Unmarshal(b, &sback))
	assert.Equal(t, s, sback)
}

// Issue 10 item 11a: the claims that mark the kind of token must be
// non-empty strings; null and "" are refused, in either spelling.
func TestDecodeKindMarkers(t *testing.T) {
	const ns = verdocsNamespace
	tests := []struct {
		name    string
		payload string
		want    error
		claim   string
	}{
		{"document_id null", `{"document_id":null}`, ErrClaimType, "document_id"},
		{"document_id empty", `{"document_id":""}`, ErrClaimValue, "document_id"},
		{"namespaced document_id null", `{"` + ns + `document_id":null}`, ErrClaimType, ns + "document_id"},
		{"namespaced document_id empty", `{"` + ns + `document_id":""}`, ErrClaimValue, ns + "document_id"},
		{"losing plain document_id null", `{"` + ns + `document_id":"d","document_id":null}`, ErrClaimType, "document_id"},
		{"plain null before namespaced", `{"document_id":null,"` + ns + `document_id":"d"}`, ErrClaimType, "document_id"},
		{"envelope_id null", `{"envelope_id":null}`, ErrClaimType, "envelope_id"},
		{"envelope_id empty", `{"envelope_id":""}`, ErrClaimValue, "envelope_id"},
		{"namespaced envelope_id empty", `{"` + ns + `envelope_id":""}`, ErrClaimValue, ns + "envelope_id"},
		{"session_type null", `{"session_type":null}`, ErrClaimType, "session_type"},
		{"session_type empty", `{"session_type":""}`, ErrClaimValue, "session_type"},
		{"namespaced session_type null", `{"` + ns + `session_type":null}`, ErrClaimType, ns + "session_type"},
		{"document_id array", `{"document_id":["d"]}`, ErrClaimType, "document_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { decodeErr(t, tt.payload, tt.want, tt.claim) })
	}
	_, err := Decoder{}.Decode([]byte(`{"document_id":""}`))
	assert.EqualError(t, err, `session: claim "document_id": want non-empty string`)
}

// Issue 10 item 5: member names that encoding/json folds together are
// refused, so Token.Claims and the decoder see the same claims.
func TestDecodeFoldedNames(t *testing.T) {
	const ns = verdocsNamespace
	var many strings.Builder
	for i := range 40 {
		many.WriteString(`"claim_` + strings.Repeat("x", i) + `":1,`)
	}
	refused := []struct {
		name    string
		payload string
	}{
		{"SUB after sub", `{"sub":"alice","SUB":"admin"}`},
		{"SUB before sub", `{"SUB":"admin","sub":"alice"}`},
		{"long s U+017F", `{"sub":"alice","ſub":"admin"}`},
		{"long s escaped", `{"sub":"alice","\u017fub":"admin"}`},
		{"EXP", `{"exp":1700000000,"EXP":1900000000}`},
		{"Iss", `{"iss":"https://good/","Iss":"https://evil/"}`},
		{"AUD", `{"aud":"a","AUD":"b"}`},
		{"Kelvin sign U+212A", `{"key_type":"email","\u212aey_type":"sms"}`},
		{"two folded spellings of an unknown claim", `{"Scope":"a","SCOPE":"b"}`},
		{"in a big object", `{` + many.String() + `"sub":"alice","SUB":"admin"}`},
		{"namespaced claim", `{"` + ns + `roles":["member"],"` + ns + `ROLES":["owner"]}`},
		{"lone SUB folds to sub", `{"SUB":"admin"}`},
		{"lone Exp folds to exp", `{"Exp":1900000000}`},
		{"lone long s folds to sub", `{"ſub":"admin"}`},
		{"lone Cnf folds to cnf", `{"Cnf":{}}`},
		{"lone Scope folds to scope", `{"Scope":"admin"}`},
		{"lone SCP folds to scp", `{"SCP":["admin"]}`},
		{"lone Email folds to a custom claim", `{"Email":"x@y"}`},
		{"folded namespaced claim", `{"` + ns + `Profile":{"id":"p"}}`},
		{"folded namespace", `{"HTTPS://VERDOCS.COM/profile_id":"p"}`},
		{"folded namespace with long s", `{"httpſ://verdocs.com/profile_id":"p"}`},
		{"folded session_type", `{"Session_Type":"user","envelope_id":"e"}`},
		{"profile id twice", `{"profile":{"id":"p","ID":"q"}}`},
		{"profile ID alone", `{"profile":{"ID":"q"}}`},
		{"organization Name", `{"profile":{"organization":{"Name":"x"}}}`},
		{"group Id", `{"profile":{"groups":[{"Id":"g"}]}}`},
		{"group profile Email", `{"profile":{"groups":[{"profiles":[{"Email":"x"}]}]}}`},
		{"access_key Type", `{"document_id":"d","access_key":{"Type":"x"}}`},
		{"permission object ID", `{"permissions":[{"ID":"x"}]}`},
		{"inside an unknown claim", `{"metadata":{"tier":"a","TIER":"b"}}`},
		{"inside an array of an unknown claim", `{"metadata":[{"a":1},{"b":1,"B":2}]}`},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			decodeErr(t, tt.payload, ErrMalformed, "")
			decodeErr(t, tt.payload, ErrFoldedName, "")
		})
	}
	_, err := Decoder{}.Decode([]byte(`{"profile":{"groups":[{"Id":"g"}]}}`))
	assert.ErrorContains(t, err, `member "Id" in claim "profile" at groups[] is "id" under case folding`)

	large := readTestdata(t, "access_token_claims.json")
	large = append([]byte(`{`+many.String()+`"metadata":{`+strings.TrimSuffix(many.String(), ",")+`},`), large[1:]...)
	accepted := []struct {
		name    string
		payload string
	}{
		{"distinct names", `{"sub":"alice","subject":"admin","sub_id":"x"}`},
		{"upper case that folds to nothing read", `{"sub":"alice","Nickname":"x","SubjectName":"y"}`},
		{"namespaced registered name folded", `{"exp":1,"` + ns + `Exp":2}`},
		{"same folded name in sibling objects", `{"metadata":[{"x":1},{"X":2}]}`},
		{"same folded name at two levels", `{"metadata":{"tier":{"TIER":1}}}`},
		{"unknown profile member with upper case", `{"profile":{"id":"p","Nickname":"n"}}`},
		{"non-ASCII names", `{"名前":"x","é":1,"e":2}`},
		{"all-lowercase large payload", string(large)},
	}
	for _, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Decoder{}.Decode([]byte(tt.payload))
			require.NoError(t, err)
			var c struct {
				Sub string `json:"sub"`
				Exp int64  `json:"exp"`
			}
			require.NoError(t, tok.Claims(&c))
			assert.Equal(t, tok.Registered.Subject, c.Sub)
			assert.Equal(t, tok.Registered.ExpiresAt, c.Exp)
		})
	}
}

// Issue 10 item 6: the namespaced form of a claim wins whole, whatever the
// member order.
func TestNamespacedWinsWhole(t *testing.T) {
	const ns = verdocsNamespace
	tests := []struct {
		name       string
		plain, nsd string // members, without braces
		check      func(t *testing.T, tok *Token)
	}{
		{"profile", `"profile":{"permissions":["org:delete"],"roles":["owner"],"organization":{"id":"org-other"},"groups":[{"id":"g"}]}`,
			`"` + ns + `profile":{"id":"p-real"}`,
			func(t *testing.T, tok *Token) { assert.Equal(t, Profile{ID: "p-real"}, tok.Active.Profile) }},
		{"null namespaced profile", `"profile":{"id":"p-plain","roles":["owner"]}`, `"` + ns + `profile":null`,
			func(t *testing.T, tok *Token) { assert.Equal(t, Profile{}, tok.Active.Profile) }},
		{"access_key", `"access_key":{"id":"k-plain","type":"in_app"}`, `"` + ns + `access_key":{"id":"k-real"}`,
			func(t *testing.T, tok *Token) { assert.Equal(t, AccessKey{ID: "k-real"}, tok.Signing.AccessKey) }},
		{"scalar", `"profile_id":"p-plain"`, `"` + ns + `profile_id":"p-real"`,
			func(t *testing.T, tok *Token) { assert.Equal(t, "p-real", tok.Active.ProfileID) }},
		{"null namespaced scalar", `"email":"plain@x"`, `"` + ns + `email":null`,
			func(t *testing.T, tok *Token) { assert.Equal(t, "", tok.Active.Email) }},
		{"roles", `"roles":["owner","member"]`, `"` + ns + `roles":["member"]`,
			func(t *testing.T, tok *Token) { assert.Equal(t, []Role{{"member", "member"}}, tok.Active.Roles) }},
		{"empty namespaced permissions", `"permissions":["org:delete"]`, `"` + ns + `permissions":[]`,
			func(t *testing.T, tok *Token) { assert.Nil(t, tok.Active.Permissions) }},
		{"global_admin", `"global_admin":true`, `"` + ns + `global_admin":false`,
			func(t *testing.T, tok *Token) { assert.False(t, tok.Active.GlobalAdmin) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const common = `"sub":"u","document_id":"d",`
			a, err := Decoder{}.Decode([]byte(`{` + common + tt.plain + `,` + tt.nsd + `}`))
			require.NoError(t, err)
			b, err := Decoder{}.Decode([]byte(`{` + common + tt.nsd + `,` + tt.plain + `}`))
			require.NoError(t, err)
			assert.Equal(t, a.Kind, b.Kind)
			assert.Equal(t, a.Active, b.Active, "plain first vs namespaced first")
			assert.Equal(t, a.Signing, b.Signing, "plain first vs namespaced first")
			assert.Equal(t, a.Registered, b.Registered)
			tt.check(t, a)
			tt.check(t, b)
		})
	}
}

// Issue 10 item 10: NumericDates keep their fraction of a second.
func TestNumericDateFraction(t *testing.T) {
	tests := []struct {
		name string
		num  string
		sec  int64
		at   time.Time
	}{
		{"fraction", "1700000000.9", 1700000000, time.Unix(1700000000, 900000000)},
		{"exponent", "1.7e9", 1700000000, time.Unix(1700000000, 0)},
		{"exponent with fraction", "1.7000000009e9", 1700000000, time.Unix(1700000000, 900000000)},
		{"upper-case exponent", "17E8", 1700000000, time.Unix(1700000000, 0)},
		{"positive exponent sign", "0.17e+10", 1700000000, time.Unix(1700000000, 0)},
		{"negative exponent", "17000000009e-1", 1700000000, time.Unix(1700000000, 900000000)},
		{"zero fraction", "1700000000.0", 1700000000, time.Unix(1700000000, 0)},
		{"nanoseconds", "1700000000.123456789", 1700000000, time.Unix(1700000000, 123456789)},
		{"below a nanosecond rounds down", "1700000000.1234567899999", 1700000000, time.Unix(1700000000, 123456789)},
		{"no float rounding up", "1700000000.9999999999", 1700000000, time.Unix(1700000000, 999999999)},
		{"integer", "1700000000", 1700000000, time.Unix(1700000000, 0)},
		{"17 significant digits", "1700000000.1234567", 1700000000, time.Unix(1700000000, 123456700)},
		{"negative fraction rounds down", "-1.5", -2, time.Unix(-2, 500000000)},
		{"tiny negative", "-0.0000000001", -1, time.Unix(-1, 999999999)},
		{"tiny negative just below a nanosecond", "-0.0000000011", -1, time.Unix(-1, 999999998)},
		{"minus one nanosecond exactly", "-1e-9", -1, time.Unix(-1, 999999999)},
		{"tiny positive", "1e-400", 0, time.Unix(0, 0)},
		{"zero", "0", 0, time.Unix(0, 0)},
		{"negative zero", "-0.0", 0, time.Unix(0, 0)},
		{"zero with a huge exponent", "0e999999999999", 0, time.Unix(0, 0)},
		{"2^53", "9007199254740992", 1 << 53, time.Unix(1<<53, 0)},
		{"2^53 as exponent", "9.007199254740992e15", 1 << 53, time.Unix(1<<53, 0)},
		{"-2^53", "-9007199254740992", -(1 << 53), time.Unix(-(1 << 53), 0)},
		{"just below 2^53", "9007199254740991.5", 1<<53 - 1, time.Unix(1<<53-1, 500000000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Decoder{}.Decode([]byte(`{"exp":` + tt.num + `,"nbf":` + tt.num + `,"iat":` + tt.num + `}`))
			require.NoError(t, err)
			r := &tok.Registered
			assert.Equal(t, tt.sec, r.ExpiresAt)
			assert.Equal(t, tt.sec, r.NotBefore)
			assert.Equal(t, tt.sec, r.IssuedAt)
			assert.True(t, tt.at.Equal(r.ExpiresAtTime()), "exp %v, want %v", r.ExpiresAtTime(), tt.at)
			assert.True(t, tt.at.Equal(r.NotBeforeTime()), "nbf %v, want %v", r.NotBeforeTime(), tt.at)
			assert.True(t, tt.at.Equal(r.IssuedAtTime()), "iat %v, want %v", r.IssuedAtTime(), tt.at)
			assert.Equal(t, tt.sec, tok.Active.ExpiresAt)
		})
	}
	for _, num := range []string{"9007199254740992.5", "9007199254740993", "-9007199254740992.0000000001", "9.0071992547409921e15",
		"1e16", "1e999999999999", "-1e400"} {
		t.Run("out of range "+num, func(t *testing.T) { decodeErr(t, `{"exp":`+num+`}`, ErrClaimRange, "exp") })
	}

	// The review's case: with a 30 s leeway, nbf = now + 30.9 is not yet
	// valid and exp = now - 29.5 still is.
	now := time.Unix(1700000000, 0)
	tok, err := Decoder{}.Decode([]byte(`{"nbf":1700000030.9,"iat":1700000030.99,"exp":1699999970.5}`))
	require.NoError(t, err)
	r := &tok.Registered
	assert.Equal(t, 30900*time.Millisecond, r.NotBeforeTime().Sub(now))
	assert.Equal(t, 30990*time.Millisecond, r.IssuedAtTime().Sub(now))
	assert.Equal(t, -29500*time.Millisecond, r.ExpiresAtTime().Sub(now))

	// Absent claims give the zero Time; integer dates compare equal to a
	// Registered built by hand.
	tok, err = Decoder{}.Decode([]byte(`{"exp":1700000000,"iat":1699990000}`))
	require.NoError(t, err)
	assert.True(t, tok.Registered.NotBeforeTime().IsZero())
	assert.Equal(t, Registered{ExpiresAt: 1700000000, IssuedAt: 1699990000, Present: ClaimExp | ClaimIat}, tok.Registered)
	var nilR *Registered
	assert.True(t, nilR.ExpiresAtTime().IsZero())
	// Values beyond what a decoder accepts saturate at ±2^53 s.
	huge := Registered{ExpiresAt: math.MaxInt64, NotBefore: math.MinInt64, Present: ClaimExp | ClaimNbf}
	assert.Equal(t, time.Unix(1<<53, 0), huge.ExpiresAtTime())
	assert.Equal(t, time.Unix(-(1<<53), 0), huge.NotBeforeTime())
}
