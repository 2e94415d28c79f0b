package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sessiongate/sessiongate/session"
)

func ExampleDecoder_Decode() {
	// The claims of a verified access token, with namespaced custom claims.
	payload := []byte(`{
		"iss": "https://auth.example.com/", "sub": "auth0|42", "aud": "https://api.example.com/",
		"iat": 1764000000, "exp": 1764003600,
		"https://verdocs.com/profile_id": "p-1",
		"https://verdocs.com/organization_id": "org-1",
		"https://verdocs.com/roles": ["owner"],
		"https://verdocs.com/permissions": ["org:view", "template:member:read"],
		"https://verdocs.com/plans": ["org:standard"]
	}`)
	tok, err := session.Decoder{}.Decode(payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	s := tok.Active
	fmt.Println(tok.Kind, s.Sub, s.OrganizationID, tok.Registered.Audience)
	fmt.Println(s.HasRole(session.RoleOwner), s.HasPermission(session.PermTemplateMemberRead), s.HasPlan(session.PlanOrgStandard))
	// Output:
	// active auth0|42 org-1 [https://api.example.com/]
	// true true true
}

func ExampleDecoder_Decode_wrongType() {
	_, err := session.Decoder{}.Decode([]byte(`{"exp":"1764003600"}`))
	var ce *session.ClaimError
	fmt.Println(errors.Is(err, session.ErrClaimType), errors.As(err, &ce) && ce.Claim == "exp")
	fmt.Println(err)
	// Output:
	// true true
	// session: claim "exp": want number
}

func ExampleToken_Claims() {
	tok, _ := session.Decoder{}.Decode([]byte(`{"sub":"u","scope":"read:templates","azp":"client-1"}`))
	var extra struct {
		Scope string `json:"scope"`
	}
	_ = tok.Claims(&extra)
	fmt.Println(extra.Scope)
	// Output: read:templates
}

func ExampleActiveSession_MarshalJSON() {
	s := session.ActiveSession{
		Sub:         "auth0|42",
		Permissions: []session.Permission{{ID: session.PermOrgView, Name: session.PermOrgView}},
	}
	b, _ := json.Marshal(s)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	fmt.Println(m["permissions"], m["roles"], m["plans"])
	// Output: [map[id:org:view name:org:view]] [] <nil>
}

func ExampleFromContext() {
	ctx := session.NewContext(context.Background(), &session.ActiveSession{Sub: "auth0|42"})
	if s, ok := session.FromContext(ctx); ok {
		fmt.Println(s.Sub)
	}
	// Output: auth0|42
}

func ExampleActiveSession_HasAnyRole() {
	s := &session.ActiveSession{Roles: []session.Role{{ID: session.RoleMember, Name: "Member"}}}
	fmt.Println(s.HasAnyRole(session.RoleOwner, session.RoleMember), s.HasAllRoles(session.RoleOwner, session.RoleMember))
	var none *session.ActiveSession
	fmt.Println(none.HasRole(session.RoleMember))
	// Output:
	// true false
	// false
}
