package main

import (
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/session"
)

// devDefaultAudience is the audience of development mode unless -audience
// says otherwise.
const devDefaultAudience = jwkstest.DefaultAudience

// devTokenTTL is the lifetime of the token printed in development mode.
const devTokenTTL = time.Hour

// The development issuer's endpoints, under the server's own address.
const (
	devDiscoveryPath = "/.well-known/openid-configuration"
	devJWKSPath      = "/.well-known/jwks.json"
)

// newDevIssuer returns the development issuer for issuerURL. It signs with
// the ES256 key the kit generates for it at start, kept in memory only.
func newDevIssuer(issuerURL string) *jwkstest.Issuer { return jwkstest.New(issuerURL) }

// devSession is the session of the printed token: an owner with several
// permissions, the org:standard plan and a profile with its organization.
func devSession(now time.Time) session.ActiveSession {
	const (
		orgID     = "org-0001"
		profileID = "profile-0001"
		email     = "ada@example.com"
	)
	tz := "Europe/London"
	return session.ActiveSession{
		Sub:           "dev|ada",
		Email:         email,
		EmailVerified: true,
		IssuedAt:      now.Unix(),
		ExpiresAt:     now.Add(devTokenTTL).Unix(),
		Roles:         []session.Role{{ID: session.RoleOwner, Name: "Owner"}},
		Permissions: []session.Permission{
			{ID: session.PermOrgView, Name: "View organization"},
			{ID: session.PermMemberView, Name: "View members"},
			{ID: session.PermOrgUpdate, Name: "Update organization"},
			{ID: session.PermTemplateMemberRead, Name: "Read templates"},
			{ID: session.PermTemplateMemberWrite, Name: "Write templates"},
		},
		Profile: session.Profile{
			ID:             profileID,
			UserID:         "dev|ada",
			OrganizationID: orgID,
			FirstName:      "Ada",
			LastName:       "Lovelace",
			Email:          email,
			Current:        true,
			Organization: session.Organization{
				ID:           orgID,
				Name:         "Analytical Engines Ltd",
				IsBusiness:   true,
				ContactEmail: ptr(email),
				Timezone:     &tz,
			},
		},
		ProfileID:      profileID,
		OrganizationID: orgID,
		Plans:          []session.Plan{session.PlanOrgStandard},
	}
}

func ptr[T any](v T) *T { return &v }

// devToken mints the token for s with the development issuer, for audience
// and with the claims under namespace, as the identity provider sends them
// (roles and permissions as {"id","name"} objects, since they have names),
// with the OAuth scope of GET /documents; typ, when not empty, is its "typ"
// header (the -typ the server requires).
func devToken(iss *jwkstest.Issuer, s session.ActiveSession, audience, namespace, typ string) string {
	opts := []jwkstest.Option{
		jwkstest.WithClaim("aud", audience), jwkstest.WithNamespace(namespace), jwkstest.WithClaim("scope", documentsScope),
	}
	if typ != "" {
		opts = append(opts, jwkstest.WithHeader("typ", typ))
	}
	return iss.Token(s, opts...)
}

// devBaseURL returns the URL a development server bound to addr is reached
// at over loopback: an unspecified address (all interfaces) is replaced by
// the loopback address of its family.
func devBaseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if ip.To4() != nil {
			host = "127.0.0.1"
		} else {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// printDevBanner writes what development mode prints on start: the issuer's
// endpoints, the token and a curl line per route.
func printDevBanner(w io.Writer, baseURL, token string, s session.ActiveSession) {
	var b strings.Builder
	exp := time.Unix(s.ExpiresAt, 0).UTC().Format(time.RFC3339)
	fmt.Fprintf(&b, "sessiongate example, development mode: a built-in issuer signs tokens for %s\n", baseURL)
	fmt.Fprintf(&b, "  discovery: %s%s\n", baseURL, devDiscoveryPath)
	fmt.Fprintf(&b, "  JWK set:   %s%s\n", baseURL, devJWKSPath)
	fmt.Fprintf(&b, "\nToken for %s (role owner, plan %s, scope %s), valid for one hour, until %s:\n\n", s.Email, session.PlanOrgStandard, documentsScope, exp)
	fmt.Fprintf(&b, "  TOKEN=%s\n", token)
	fmt.Fprintf(&b, "\nPaste the TOKEN line into a shell, then try:\n\n")
	bearer := `-H "Authorization: Bearer $TOKEN" `
	for _, l := range []struct {
		auth bool
		path string
	}{
		{false, "/healthz"},
		{true, "/me"},
		{true, "/admin"},
		{true, "/templates"},
		{true, "/billing"},
		{true, "/documents"},
		{false, "/hello"},
		{true, "/hello"},
	} {
		h := ""
		if l.auth {
			h = bearer
		}
		fmt.Fprintf(&b, "  curl -i %s%s%s\n", h, baseURL, l.path)
	}
	fmt.Fprintf(&b, "\nWith this token every route answers 200. Without it /me, /admin, /templates, /billing and\n")
	fmt.Fprintf(&b, "/documents answer 401, an invalid one gets 401 everywhere (also on /hello), and a valid\n")
	fmt.Fprintf(&b, "token that lacks the role, permission, plan or scope gets 403.\n")
	_, _ = io.WriteString(w, b.String())
}
