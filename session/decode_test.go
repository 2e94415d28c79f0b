package session

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

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
