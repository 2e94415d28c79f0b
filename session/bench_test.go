package session

import (
	"encoding/json"
	"testing"
)

// baselineClaims is the same payload as an ordinary struct with ordinary
// tags: what a plain json.Unmarshal would give a user who wrote the struct by
// hand. BenchmarkDecode is compared with BenchmarkDecodeBaseline.
type baselineClaims struct {
	Iss            string          `json:"iss"`
	Sub            string          `json:"sub"`
	Aud            []string        `json:"aud"`
	Iat            int64           `json:"iat"`
	Exp            int64           `json:"exp"`
	Jti            string          `json:"jti"`
	Email          string          `json:"https://verdocs.com/email"`
	EmailVerified  bool            `json:"https://verdocs.com/email_verified"`
	ProfileID      string          `json:"https://verdocs.com/profile_id"`
	OrganizationID string          `json:"https://verdocs.com/organization_id"`
	Roles          []string        `json:"https://verdocs.com/roles"`
	Permissions    []string        `json:"https://verdocs.com/permissions"`
	Plans          []string        `json:"https://verdocs.com/plans"`
	Profile        baselineProfile `json:"https://verdocs.com/profile"`
}

type baselineProfile struct {
	ID             string  `json:"id"`
	UserID         string  `json:"user_id"`
	OrganizationID string  `json:"organization_id"`
	FirstName      string  `json:"first_name"`
	LastName       string  `json:"last_name"`
	Email          string  `json:"email"`
	Phone          *string `json:"phone"`
	Current        bool    `json:"current"`
	Organization   struct {
		ID                  string  `json:"id"`
		Name                string  `json:"name"`
		Address             *string `json:"address"`
		Phone               *string `json:"phone"`
		BusinessName        *string `json:"business_name"`
		IsBusiness          bool    `json:"is_business"`
		Address2            *string `json:"address2"`
		ContactEmail        *string `json:"contact_email"`
		Timezone            *string `json:"timezone"`
		EnvelopeResponsible bool    `json:"envelope_responsible"`
	} `json:"organization"`
}

func compactPayload(b *testing.B) []byte {
	var v any
	if err := json.Unmarshal(readTestdata(b, "access_token_claims.json"), &v); err != nil {
		b.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func BenchmarkDecode(b *testing.B) {
	payload := compactPayload(b)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Decoder{}).Decode(payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBaseline(b *testing.B) {
	payload := compactPayload(b)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		var c baselineClaims
		if err := json.Unmarshal(payload, &c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeMapped decodes a Keycloak-shaped access token with the
// issue 12 knobs an issuer policy would set: mapped roles, namespaced-only
// custom claims, scopes and two captured claims.
func BenchmarkDecodeMapped(b *testing.B) {
	payload := []byte(`{"exp":1764086400,"iat":1764000000,"jti":"0b5e7a4c-2f1d-4c8e-9a3b-6d7e8f9a0b1c",` +
		`"iss":"https://kc.example.com/realms/verdocs","aud":"account","sub":"6380b2d2-c4bd-5e7b-9ee8-f6a1",` +
		`"typ":"Bearer","azp":"web-client","sid":"7a9c","acr":"1","allowed-origins":["https://app.example.com"],` +
		`"realm_access":{"roles":["offline_access","uma_authorization","owner"]},` +
		`"resource_access":{"account":{"roles":["manage-account","view-profile"]}},` +
		`"scope":"openid profile email","email_verified":true,"name":"Ada Lovelace",` +
		`"preferred_username":"ada","email":"ada.lovelace@example.com"}`)
	dec := Decoder{NamespacedOnly: true, Roles: "realm_access.roles", Capture: []string{"azp", "acr"}}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.Decode(payload); err != nil {
			b.Fatal(err)
		}
	}
}
