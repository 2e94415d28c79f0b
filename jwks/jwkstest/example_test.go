package jwkstest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/middleware"
	"github.com/sessiongate/sessiongate/session"
)

// A handler test: the key set fetches discovery and keys from the issuer in
// process, and tokens minted for sessions meet the middleware and a guard.
func Example() {
	idp := jwkstest.New("https://idp.example.test/")
	defer idp.Close()
	keys, err := jwks.New(jwks.Config{
		Sources:    []jwks.Source{jwks.OIDCSource(idp.URL())},
		HTTPClient: idp.Client(),
	})
	if err != nil {
		panic(err)
	}
	defer keys.Close()
	auth, err := middleware.New(middleware.Config{Issuers: []middleware.Issuer{{
		Issuer: idp.URL(), Keys: keys, Audiences: []string{jwkstest.DefaultAudience},
	}}})
	if err != nil {
		panic(err)
	}
	h := auth.Handler(middleware.RequireRole(session.RoleOwner)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "hello, owner")
	})))

	owner := session.ActiveSession{Sub: "auth0|ada", Roles: []session.Role{{ID: session.RoleOwner}}}
	member := session.ActiveSession{Sub: "auth0|bob", Roles: []session.Role{{ID: session.RoleMember}}}
	try := func(name, token string) {
		req := httptest.NewRequest("GET", "/admin", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(name, rec.Code)
	}
	try("owner", idp.Token(owner))
	try("member", idp.Token(member))
	try("expired", idp.Token(owner, jwkstest.WithClaim("exp", time.Now().Add(-time.Hour))))
	try("other audience", idp.Token(owner, jwkstest.WithClaim("aud", "https://other.example.test")))
	try("unknown key", jwkstest.New(idp.URL()).Token(owner))
	// Output:
	// owner 200
	// member 403
	// expired 401
	// other audience 401
	// unknown key 401
}

// An issuer on a loopback server, for code that must fetch over a real
// connection: its discovery document names its JWK set.
func ExampleNewServer() {
	idp := jwkstest.NewServer()
	defer idp.Close()

	res, err := http.Get(idp.URL() + "/.well-known/openid-configuration")
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
	fmt.Println(strings.HasPrefix(idp.URL(), "http://127.0.0.1:"), doc.Issuer == idp.URL(), doc.JWKSURI == idp.JWKSURL())
	// Output: true true true
}

// Serve the issuer's endpoints on your own router, as a development server
// does with its own address as the issuer URL.
func ExampleIssuer_Handler() {
	idp := jwkstest.New("http://127.0.0.1:8080")
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/", idp.Handler())

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/openid-configuration", nil))
	var doc map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &doc)
	fmt.Println(rec.Code, doc["jwks_uri"], doc["id_token_signing_alg_values_supported"])
	// Output: 200 http://127.0.0.1:8080/.well-known/jwks.json [ES256]
}

// The in-process client answers for any host, https included, without a
// listener, and the issuer counts the key set's requests.
func ExampleIssuer_Client() {
	idp := jwkstest.New("https://idp.example.test")
	res, err := idp.Client().Get(idp.JWKSURL())
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var set struct {
		Keys []struct {
			Kty, Crv, Kid string
		}
	}
	_ = json.NewDecoder(res.Body).Decode(&set)
	fmt.Println(res.Status, len(set.Keys), set.Keys[0].Kty, set.Keys[0].Crv, set.Keys[0].Kid == idp.KID())
	fmt.Println(idp.JWKSRequests(), "request")
	// Output:
	// 200 OK 1 EC P-256 true
	// 1 request
}

// Rotate the signing key: the old key stays published until removed, and
// tokens it signed can still be minted to test what a retired key does.
func ExampleIssuer_Rotate() {
	idp := jwkstest.New("https://idp.example.test")
	old := idp.KID()
	kid := idp.Rotate("EdDSA")
	extra := idp.AddKey("ES384") // published, but not the signer
	fmt.Println(idp.KID() == kid, idp.KID() != extra, published(idp))

	idp.RemoveKey(old)
	fmt.Println(published(idp), idp.RemoveKey(old))
	retired := idp.Token(session.ActiveSession{Sub: "ada"}, jwkstest.WithKey(old))
	fmt.Println(header(retired)["kid"] == old)
	// Output:
	// true true 3
	// 2 false
	// true
}

// published is the number of keys in idp's JWK set.
func published(idp *jwkstest.Issuer) int {
	var set struct{ Keys []json.RawMessage }
	_ = json.Unmarshal(idp.JWKS(), &set)
	return len(set.Keys)
}

// header decodes the header of a compact JWS.
func header(token string) map[string]any {
	b, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	var h map[string]any
	_ = json.Unmarshal(b, &h)
	return h
}

// claims decodes the payload of a compact JWS.
func claims(token string) string {
	b, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	return string(b)
}

// Publish a key made elsewhere, and sign with it.
func ExampleIssuer_ImportKey() {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	idp := jwkstest.New("https://idp.example.test")
	kid := idp.ImportKey("Ed25519", key)

	tok := idp.Token(session.ActiveSession{Sub: "ada"}, jwkstest.WithKey(kid))
	parts := strings.Split(tok, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	pub := idp.Key(kid).Public().(ed25519.PublicKey)
	fmt.Println(header(tok)["alg"], ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig))
	// Output: Ed25519 true
}

// The private key behind a kid verifies what the issuer signed.
func ExampleIssuer_Key() {
	idp := jwkstest.New("https://idp.example.test")
	tok := idp.Token(session.ActiveSession{Sub: "ada"})
	parts := strings.Split(tok, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	pub := idp.Key(idp.KID()).Public().(*ecdsa.PublicKey)
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	fmt.Println(ecdsa.Verify(pub, digest[:], r, s))
	// Output: true
}

// Make the JWK set fail, then recover with a caching header; the discovery
// document has a fault of its own.
func ExampleIssuer_SetFault() {
	idp := jwkstest.New("https://idp.example.test")
	get := func(url string) {
		res, err := idp.Client().Get(url)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Printf("%d %q %.9s\n", res.StatusCode, res.Header.Get("Cache-Control"), body)
	}
	discovery := idp.URL() + "/.well-known/openid-configuration"

	idp.SetFault(jwkstest.Fault{Status: http.StatusServiceUnavailable})
	get(idp.JWKSURL())
	idp.SetFault(jwkstest.Fault{CacheControl: "max-age=60"})
	get(idp.JWKSURL())
	idp.SetFault(jwkstest.Fault{Discovery: true, Body: []byte("<html>maintenance</html>")})
	get(discovery)
	fmt.Println(idp.JWKSRequests(), "JWK set requests")
	// Output:
	// 503 "" 503 Servi
	// 200 "max-age=60" {"keys":[
	// 200 "" <html>mai
	// 2 JWK set requests
}

// A hanging key set: the client gives up at its own deadline; a new fault
// releases the requests still held.
func ExampleFault_hang() {
	idp := jwkstest.New("https://idp.example.test")
	defer idp.Close()
	idp.SetFault(jwkstest.Fault{Hang: true})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", idp.JWKSURL(), nil)
	_, err := idp.Client().Do(req)
	fmt.Println(err)
	// Output: Get "https://idp.example.test/.well-known/jwks.json": context deadline exceeded
}

// An access token for a session, its claims namespaced as the identity
// provider sends them; roles with a name are written as objects.
func ExampleIssuer_Token() {
	idp := jwkstest.New("https://idp.example.test/")
	tok := idp.Token(session.ActiveSession{
		Sub:         "auth0|ada",
		Email:       "ada@example.com",
		IssuedAt:    1_893_456_000, // zero: now
		ExpiresAt:   1_893_459_600, // zero: an hour after iat
		Roles:       []session.Role{{ID: session.RoleOwner, Name: "Owner"}},
		Permissions: []session.Permission{{ID: session.PermTemplateMemberRead}},
	})
	fmt.Println(claims(tok))

	t, err := session.Decoder{}.Decode([]byte(claims(tok)))
	fmt.Println(err, t.Active.Roles[0].Name, t.Active.Permissions[0].ID)
	// Output:
	// {"aud":"https://api.example.test","exp":1893459600,"https://verdocs.com/email":"ada@example.com","https://verdocs.com/email_verified":false,"https://verdocs.com/permissions":["template:member:read"],"https://verdocs.com/roles":[{"id":"owner","name":"Owner"}],"iat":1893456000,"iss":"https://idp.example.test/","sub":"auth0|ada"}
	// <nil> Owner template:member:read
}

// A document-signing token.
func ExampleIssuer_SigningToken() {
	idp := jwkstest.New("https://idp.example.test/")
	tok := idp.SigningToken(session.SigningSession{DocumentID: "doc-1", Role: "Recipient 1", IssuedAt: 1_893_456_000},
		jwkstest.WithClaim("exp", time.Unix(1_893_456_600, 0)))
	fmt.Println(claims(tok))
	// Output: {"aud":"https://api.example.test","exp":1893456600,"https://verdocs.com/document_id":"doc-1","https://verdocs.com/role":"Recipient 1","iat":1893456000,"iss":"https://idp.example.test/"}
}

// A token of another identity provider's shape, with exactly these claims.
func ExampleIssuer_RawToken() {
	idp := jwkstest.New("https://keycloak.example.test/realms/acme")
	tok := idp.RawToken(map[string]any{
		"iss":          idp.URL(),
		"exp":          time.Unix(1_893_459_600, 0),
		"realm_access": map[string]any{"roles": []string{"owner"}},
	}, jwkstest.WithHeader("typ", "at+jwt"))
	fmt.Println(claims(tok), header(tok)["typ"])
	// Output: {"exp":1893459600,"iss":"https://keycloak.example.test/realms/acme","realm_access":{"roles":["owner"]}} at+jwt
}

// Sign bytes that are not a valid claims set: duplicate members.
func ExampleIssuer_Sign() {
	idp := jwkstest.New("https://idp.example.test/")
	tok := idp.Sign([]byte(`{"alg":"ES256"}`), []byte(`{"sub":"ada","sub":"admin"}`))
	fmt.Println(claims(tok), len(strings.Split(tok, ".")))
	// Output: {"sub":"ada","sub":"admin"} 3
}

// Set, replace and remove claims; times are NumericDates, nil removes, and
// a JSON null is json.RawMessage("null").
func ExampleWithClaim() {
	idp := jwkstest.New("https://idp.example.test/")
	opts := []jwkstest.Option{
		jwkstest.WithClaim("aud", []string{"api-a", "api-b"}),
		jwkstest.WithClaim("exp", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)),
		jwkstest.WithClaim("iat", nil),
		jwkstest.WithClaim("https://verdocs.com/email_verified", nil),
		jwkstest.WithClaim("https://verdocs.com/permissions", nil),
		jwkstest.WithClaim("https://verdocs.com/roles", nil),
		jwkstest.WithClaim("cnf", json.RawMessage("null")),
	}
	fmt.Println(claims(idp.Token(session.ActiveSession{Sub: "ada"}, opts...)))
	// Output: {"aud":["api-a","api-b"],"cnf":null,"exp":1893456000,"iss":"https://idp.example.test/","sub":"ada"}
}

// Header parameters a verifier must refuse, and the classic "none" attack:
// alg none, no kid, and the signature cut off.
func ExampleWithHeader() {
	idp := jwkstest.New("https://idp.example.test/")
	tok := idp.Token(session.ActiveSession{Sub: "mallory"}, jwkstest.WithHeader("alg", "none"), jwkstest.WithHeader("kid", nil))
	unsigned := tok[:strings.LastIndexByte(tok, '.')+1]
	fmt.Println(header(unsigned))

	tok = idp.Token(session.ActiveSession{Sub: "mallory"}, jwkstest.WithHeader("jku", "https://evil.example/jwks.json"))
	fmt.Println(header(tok)["jku"])
	// Output:
	// map[alg:none typ:JWT]
	// https://evil.example/jwks.json
}

// Sign with a key that is published but not the signer.
func ExampleWithKey() {
	idp := jwkstest.New("https://idp.example.test/")
	kid := idp.AddKey("ES512")
	h := header(idp.Token(session.ActiveSession{Sub: "ada"}, jwkstest.WithKey(kid)))
	fmt.Println(h["alg"], h["kid"] == kid)
	// Output: ES512 true
}

// Custom claims under another namespace, or with plain names.
func ExampleWithNamespace() {
	idp := jwkstest.New("https://idp.example.test/")
	s := session.ActiveSession{Sub: "ada", OrganizationID: "org-1", IssuedAt: 1, ExpiresAt: 2}
	fmt.Println(claims(idp.Token(s, jwkstest.WithNamespace("https://ns.example/"))))
	fmt.Println(claims(idp.Token(s, jwkstest.WithNamespace(""))))
	// Output:
	// {"aud":"https://api.example.test","exp":2,"https://ns.example/email_verified":false,"https://ns.example/organization_id":"org-1","https://ns.example/permissions":[],"https://ns.example/roles":[],"iat":1,"iss":"https://idp.example.test/","sub":"ada"}
	// {"aud":"https://api.example.test","email_verified":false,"exp":2,"iat":1,"iss":"https://idp.example.test/","organization_id":"org-1","permissions":[],"roles":[],"sub":"ada"}
}
