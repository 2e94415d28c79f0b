package bench

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/session"
)

// Namespace is the prefix of the Verdocs custom claims.
const Namespace = "https://verdocs.com/"

// Alg is one signature setup of the comparison.
type Alg struct {
	// Name labels the setup in results: RS256-2048, RS256-4096, PS256,
	// ES256 or EdDSA.
	Name string
	// JWA is the algorithm of the token header.
	JWA string
	// Bits is the RSA modulus size (0 for other key types).
	Bits int
}

// Algs returns the setups the benchmarks cover, in result order.
func Algs() []Alg {
	return []Alg{
		{Name: "RS256-2048", JWA: "RS256", Bits: 2048},
		{Name: "RS256-4096", JWA: "RS256", Bits: 4096},
		{Name: "PS256", JWA: "PS256", Bits: 2048},
		{Name: "ES256", JWA: "ES256"},
		{Name: "EdDSA", JWA: "EdDSA"},
	}
}

// AlgByName returns the setup called name.
func AlgByName(name string) (Alg, bool) {
	for _, a := range Algs() {
		if a.Name == name {
			return a, true
		}
	}
	return Alg{}, false
}

// rsa4096 is generated once per process: a 4096-bit key takes seconds, and
// the kit generates 2048-bit RSA keys only.
var rsa4096 = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 4096) })

// NewSession returns the realistic Verdocs session every token of the
// comparison carries (the shape of middleware's benchSession): registered
// claims, namespaced profile_id, organization_id, email, roles, 10
// permissions, plans, and a profile with its organization — about 1.3 KB of
// claims.
func NewSession() session.ActiveSession {
	phone, tz := "+44 20 7946 0000", "Europe/London"
	org := session.Organization{ID: "org-1", Name: "Analytical Engines", Phone: &phone, Timezone: &tz}
	s := session.ActiveSession{
		Sub: "auth0|42", Email: "ada@example.com", EmailVerified: true,
		ProfileID: "p-1", OrganizationID: "org-1",
		Roles: []session.Role{{ID: session.RoleOwner, Name: session.RoleOwner}},
		Plans: []session.Plan{session.PlanOrgStandard},
		Profile: session.Profile{ID: "p-1", UserID: "auth0|42", OrganizationID: "org-1", FirstName: "Ada",
			LastName: "Lovelace", Email: "ada@example.com", Current: true, Organization: org},
	}
	for _, p := range []string{session.PermOrgView, session.PermMemberView, session.PermOrgUpdate, session.PermMemberAdd,
		session.PermMemberRemove, session.PermTemplateCreatorCreatePersonal, session.PermTemplateMemberRead,
		session.PermTemplateMemberWrite, session.PermRFormAccess, session.PermRCommonAccess} {
		s.Permissions = append(s.Permissions, session.Permission{ID: p, Name: p})
	}
	return s
}

// Facts are what every case must hand the handler.
type Facts struct {
	Sub            string
	OrganizationID string
	Permissions    int
}

// WantFacts are the facts of [NewSession].
func WantFacts() Facts {
	s := NewSession()
	return Facts{Sub: s.Sub, OrganizationID: s.OrganizationID, Permissions: len(s.Permissions)}
}

// Fixture is one algorithm's identity provider (a kit issuer on a loopback
// server that serves discovery and the JWK set), its signing key and the
// token of [NewSession] it signed.
type Fixture struct {
	Alg    Alg
	IDP    *jwkstest.Issuer
	KID    string
	Token  string
	Public crypto.PublicKey

	closers []func()
}

// NewFixture starts the identity provider for alg and mints the token. Call
// Close when done.
func NewFixture(alg Alg) (*Fixture, error) {
	idp := jwkstest.NewServer()
	f := &Fixture{Alg: alg, IDP: idp, closers: []func(){idp.Close}}
	switch {
	case alg.Bits == 4096:
		key, err := rsa4096()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("bench: generating RSA-4096 key: %w", err)
		}
		f.KID = idp.ImportKey(alg.JWA, key)
	case alg.JWA == "ES256":
		f.KID = idp.KID() // a new issuer signs with an ES256 key
	default:
		f.KID = idp.AddKey(alg.JWA)
	}
	if initial := idp.KID(); f.KID != initial {
		idp.RemoveKey(initial) // the JWK set holds the fixture's key alone
	}
	f.Public = idp.Key(f.KID).Public()
	f.Token = idp.Token(NewSession(), jwkstest.WithKey(f.KID))
	return f, nil
}

// Issuer is the issuer identifier of the tokens.
func (f *Fixture) Issuer() string { return f.IDP.URL() }

// Audience is the audience of the tokens.
func (f *Fixture) Audience() string { return jwkstest.DefaultAudience }

// JWKS is the identity provider's JWK set document.
func (f *Fixture) JWKS() []byte { return f.IDP.JWKS() }

// Close stops everything the fixture and its cases started.
func (f *Fixture) Close() {
	for i := len(f.closers) - 1; i >= 0; i-- {
		f.closers[i]()
	}
	f.closers = nil
}

func (f *Fixture) onClose(fn func()) { f.closers = append(f.closers, fn) }

// Request returns GET /me carrying the fixture's token.
func (f *Fixture) Request() *http.Request {
	r, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://api.example.test/me", nil)
	r.RequestURI = "/me"
	r.Header.Set("Authorization", "Bearer "+f.Token)
	return r
}

// KeySet returns a started sessiongate key set that fetches the fixture's
// JWK set over loopback, as a production server would.
func (f *Fixture) KeySet(ctx context.Context) (*jwks.Set, error) {
	set, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.URLSource(f.IDP.JWKSURL())}})
	if err != nil {
		return nil, err
	}
	f.onClose(func() { set.Close() })
	start, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := set.Start(start); err != nil {
		return nil, err
	}
	return set, nil
}
