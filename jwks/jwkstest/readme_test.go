// This file is the code block of README.md's "Testing your handlers"
// section, verbatim but for the package clause, so that the README's
// example compiles and runs as written. TestReadmeGoBlocks (in the example
// command's readme_test.go, which checks every Go block of the README)
// fails when the two differ: change both together.

package jwkstest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/middleware"
	"github.com/sessiongate/sessiongate/session"
)

// newAdmin is the code under test: GET /admin for owners, behind the
// middleware, with the keys of idp.
func newAdmin(t *testing.T, idp *jwkstest.Issuer) http.Handler {
	keys, err := jwks.New(jwks.Config{
		Sources:    []jwks.Source{jwks.OIDCSource(idp.URL())},
		HTTPClient: idp.Client(), // discovery and keys in process: no network
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(keys.Close)
	auth, err := middleware.New(middleware.Config{Issuers: []middleware.Issuer{{
		Issuer: idp.URL(), Keys: keys, Audiences: []string{jwkstest.DefaultAudience},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	admin := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "hello, owner") })
	return auth.Handler(middleware.RequireRole(session.RoleOwner)(admin))
}

func status(h http.Handler, token string) int {
	req := httptest.NewRequest("GET", "/admin", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

var (
	owner  = session.ActiveSession{Sub: "auth0|ada", Roles: []session.Role{{ID: session.RoleOwner}}}
	member = session.ActiveSession{Sub: "auth0|bob", Roles: []session.Role{{ID: session.RoleMember}}}
)

func TestAdmin(t *testing.T) {
	idp := jwkstest.New("https://idp.example.test/")
	h := newAdmin(t, idp)
	for _, tt := range []struct {
		name  string
		token string
		want  int
	}{
		{"owner", idp.Token(owner), http.StatusOK},
		{"member", idp.Token(member), http.StatusForbidden},
		{"expired", idp.Token(owner, jwkstest.WithClaim("exp", time.Now().Add(-time.Hour))), http.StatusUnauthorized},
		{"other audience", idp.Token(owner, jwkstest.WithClaim("aud", "https://other.example")), http.StatusUnauthorized},
		{"no kid", idp.Token(owner, jwkstest.WithHeader("kid", nil)), http.StatusOK},
		{"unknown key", jwkstest.New(idp.URL()).Token(owner), http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := status(h, tt.token); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
}

// In a synctest bubble time is fake: the token expires and the key
// rotates in no time.
func TestAdminOverTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		idp := jwkstest.New("https://idp.example.test/")
		h := newAdmin(t, idp)
		token := idp.Token(owner) // valid for an hour
		time.Sleep(59 * time.Minute)
		if got := status(h, token); got != http.StatusOK {
			t.Errorf("after 59 minutes: %d", got)
		}
		time.Sleep(2 * time.Minute) // past exp and the 30 s leeway
		if got := status(h, token); got != http.StatusUnauthorized {
			t.Errorf("after 61 minutes: %d", got)
		}
		idp.Rotate("ES256") // a new signing key: the key set fetches it on first sight
		if got := status(h, idp.Token(owner)); got != http.StatusOK {
			t.Errorf("after the rotation: %d", got)
		}
	})
}
