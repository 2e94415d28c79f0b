package middleware

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/session"
)

func BenchmarkPeekIssuer(b *testing.B) {
	idp := jwkstest.New("https://auth.example.test/")
	defer idp.Close()
	org := session.Organization{ID: "org-1", Name: "Analytical Engines"}
	tok := idp.Token(session.ActiveSession{Sub: "auth0|42", Email: "ada@example.com", ProfileID: "p-1",
		Roles:       []session.Role{{ID: "owner", Name: "owner"}},
		Permissions: []session.Permission{{ID: "org:view", Name: "org:view"}, {ID: "template:member:read", Name: "template:member:read"}},
		Profile:     session.Profile{ID: "p-1", OrganizationID: "org-1", FirstName: "Ada", Organization: org}})
	p, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	payload := string(p)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := peekIssuer(payload); !ok {
			b.Fatal("no iss")
		}
	}
}
