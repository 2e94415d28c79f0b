package jwkstest_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/session"
)

// A test identity provider on an httptest server: its discovery document
// points at its JWK set.
func ExampleNewServer() {
	idp := jwkstest.NewServer()
	defer idp.Close()

	res, err := idp.Client().Get(idp.URL() + "/.well-known/openid-configuration")
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		panic(err)
	}
	fmt.Println(doc.Issuer == idp.URL(), doc.JWKSURI == idp.JWKSURL())
	fmt.Println(idp.DiscoveryRequests(), "discovery request")
	// Output:
	// true true
	// 1 discovery request
}

// Mint an access token for a session; the claims are namespaced as the
// identity provider sends them, and the session decoder reads them back.
func ExampleIssuer_Token() {
	iss := jwkstest.New("https://idp.example.test/")
	defer iss.Close()
	iss.SetClock(jwkstest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)))

	tok := iss.Token(session.ActiveSession{
		Sub:         "auth0|ada",
		Email:       "ada@example.com",
		Roles:       []session.Role{{ID: session.RoleOwner}},
		Permissions: []session.Permission{{ID: session.PermTemplateMemberRead}},
		Plans:       []session.Plan{session.PlanOrgStandard},
	})

	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	fmt.Println(string(payload))

	// The signature verifies with the issuer's key.
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	pub := iss.SigningKey().Public().(*rsa.PublicKey)
	fmt.Println("valid:", rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil)

	t, _ := session.Decoder{}.Decode(payload)
	fmt.Println(t.Active.Sub, t.Active.Roles[0].ID, t.Active.ExpiresAtTime().UTC())
	// Output:
	// {"aud":"https://api.example.test","exp":1893459600,"https://verdocs.com/email":"ada@example.com","https://verdocs.com/email_verified":false,"https://verdocs.com/permissions":["template:member:read"],"https://verdocs.com/plans":["org:standard"],"https://verdocs.com/roles":["owner"],"iat":1893456000,"iss":"https://idp.example.test/","sub":"auth0|ada"}
	// valid: true
	// auth0|ada owner 2030-01-01 01:00:00 +0000 UTC
}

// Options craft invalid and hostile tokens.
func ExampleWithAlg() {
	iss := jwkstest.New("https://idp.example.test")
	defer iss.Close()

	tok := iss.RawToken(map[string]any{"sub": "mallory"},
		jwkstest.WithAlg("none"), jwkstest.WithoutHeader("kid"), jwkstest.WithoutSignature())
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	fmt.Println(string(header), strings.HasSuffix(tok, "."))
	// Output:
	// {"alg":"none","typ":"JWT"} true
}

// Serve the issuer's endpoints on your own router, as a development server
// does, with the issuer URL being the server's own address.
func ExampleIssuer_Handler() {
	iss := jwkstest.New("http://127.0.0.1:8080")
	defer iss.Close()
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/", iss.Handler())

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/openid-configuration", nil))
	var doc map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &doc)
	fmt.Println(rec.Code, doc["jwks_uri"])
	// Output:
	// 200 http://127.0.0.1:8080/.well-known/jwks.json
}

// Make the JWK set endpoint fail once, then recover.
func ExampleIssuer_SetJWKSFault() {
	idp := jwkstest.NewServer()
	defer idp.Close()
	idp.SetJWKSFault(jwkstest.Fault{Status: http.StatusServiceUnavailable, Times: 1})

	for range 2 {
		res, err := idp.Client().Get(idp.JWKSURL())
		if err != nil {
			panic(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		fmt.Println(res.Status)
	}
	fmt.Println(idp.JWKSRequests(), "requests")
	// Output:
	// 503 Service Unavailable
	// 200 OK
	// 2 requests
}

// Rotate the signing key: the old key stays published until removed.
func ExampleIssuer_Rotate() {
	iss := jwkstest.New("https://idp.example.test")
	defer iss.Close()
	old := iss.SigningKey().KID
	kid := iss.Rotate(jwkstest.ES256)
	fmt.Println(len(iss.KIDs()), iss.SigningKey().Alg)
	iss.RemoveKey(old)
	fmt.Println(len(iss.KIDs()), iss.KIDs()[0] == kid)
	// Output:
	// 2 ES256
	// 1 true
}

// The fake clock fires After channels when advanced past their deadline.
func ExampleClock() {
	clock := jwkstest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	timer := clock.After(time.Minute)

	clock.Advance(30 * time.Second)
	select {
	case <-timer:
		fmt.Println("fired early")
	default:
		fmt.Println("waiting at", clock.Now().Format(time.TimeOnly))
	}
	clock.Advance(30 * time.Second)
	fmt.Println("fired at", (<-timer).Format(time.TimeOnly))
	// Output:
	// waiting at 00:00:30
	// fired at 00:01:00
}
