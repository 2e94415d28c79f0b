package jwkstest_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/session"
)

// The kit checked from the outside with crypto/* only, so that a misreading
// shared with sessiongate's verifier cannot hide.

var algorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}

// Every algorithm signs tokens that verify with the published JWK, whose
// kid is its RFC 7638 thumbprint, and the JWK set carries no private member.
func TestEveryAlgorithm(t *testing.T) {
	idp := jwkstest.New("https://idp.example.test")
	kids := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, alg := range algorithms { // RSA keys take a while: make them at once
		wg.Go(func() {
			kid := idp.AddKey(alg)
			mu.Lock()
			kids[alg] = kid
			mu.Unlock()
		})
	}
	wg.Wait()
	set := jwkSet(t, idp.JWKS())
	if len(set) != 1+len(algorithms) {
		t.Fatalf("%d keys published, want %d", len(set), 1+len(algorithms))
	}
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			jwk := set[kids[alg]]
			if jwk == nil {
				t.Fatalf("kid %q not published", kids[alg])
			}
			if jwk["alg"] != alg || jwk["use"] != "sig" {
				t.Errorf("alg %v, use %v", jwk["alg"], jwk["use"])
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
				if _, ok := jwk[private]; ok {
					t.Errorf("private member %q published", private)
				}
			}
			tok := split(t, idp.Token(session.ActiveSession{Sub: "ada"}, jwkstest.WithKey(kids[alg])))
			if tok.header["alg"] != alg || tok.header["kid"] != kids[alg] || tok.header["typ"] != "JWT" {
				t.Errorf("header %v", tok.header)
			}
			if err := verify(alg, jwkPublic(t, jwk), tok.input, tok.sig); err != nil {
				t.Error(err)
			}
			if got := rfc7638(t, jwk); got != kids[alg] {
				t.Errorf("kid %q, thumbprint %q", kids[alg], got)
			}
		})
	}
}

// The thumbprint the tests compare kids with is RFC 7638's (section 3.1).
func TestRFC7638Example(t *testing.T) {
	n := "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	if got := rfc7638(t, map[string]any{"kty": "RSA", "n": n, "e": "AQAB"}); got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Errorf("thumbprint %s", got)
	}
}

// Token, SigningToken and RawToken write the claims documented, at the
// time of the (here fake) clock.
func TestMintedClaims(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Now().Unix() // 2000-01-01 in a bubble
		idp := jwkstest.New("https://idp.example.test/")
		s := session.ActiveSession{
			Sub: "auth0|ada", Email: "ada@example.com", EmailVerified: true, ProfileID: "p-1", OrganizationID: "org-1",
			Roles:       []session.Role{{ID: session.RoleOwner, Name: session.RoleOwner}},
			Permissions: []session.Permission{{ID: session.PermOrgView}},
			Plans:       []session.Plan{session.PlanOrgStandard},
			Profile:     session.Profile{ID: "p-1", FirstName: "Ada"},
		}
		profile, _ := json.Marshal(s.Profile)
		tests := []struct {
			name, token, want string
		}{
			{"active session", idp.Token(s), fmt.Sprintf(`{"aud":"https://api.example.test","exp":%d,"https://verdocs.com/email":"ada@example.com","https://verdocs.com/email_verified":true,"https://verdocs.com/organization_id":"org-1","https://verdocs.com/permissions":["org:view"],"https://verdocs.com/plans":["org:standard"],"https://verdocs.com/profile":%s,"https://verdocs.com/profile_id":"p-1","https://verdocs.com/roles":["owner"],"iat":%d,"iss":"https://idp.example.test/","sub":"auth0|ada"}`, now+3600, profile, now)},
			{"empty session", idp.Token(session.ActiveSession{}), fmt.Sprintf(`{"aud":"https://api.example.test","exp":%d,"https://verdocs.com/email_verified":false,"https://verdocs.com/permissions":[],"https://verdocs.com/roles":[],"iat":%d,"iss":"https://idp.example.test/"}`, now+3600, now)},
			{"names other than ids: objects", idp.Token(session.ActiveSession{IssuedAt: 1, ExpiresAt: 2,
				Roles: []session.Role{{ID: "a"}, {ID: "b", Name: "B"}}, Permissions: []session.Permission{{ID: "p", Name: "p"}}}),
				`{"aud":"https://api.example.test","exp":2,"https://verdocs.com/email_verified":false,"https://verdocs.com/permissions":["p"],"https://verdocs.com/roles":[{"id":"a","name":""},{"id":"b","name":"B"}],"iat":1,"iss":"https://idp.example.test/"}`},
			{"signing session", idp.SigningToken(session.SigningSession{DocumentID: "d-1", ProfileID: "p-1", Role: "Recipient 1", Email: "ada@example.com",
				AccessKey: session.AccessKey{ID: "k", Type: "email"}, Aud: []string{"x"}, Iss: "https://other.example.test"}),
				fmt.Sprintf(`{"aud":"x","exp":%d,"https://verdocs.com/access_key":{"id":"k","type":"email"},"https://verdocs.com/document_id":"d-1","https://verdocs.com/email":"ada@example.com","https://verdocs.com/profile_id":"p-1","https://verdocs.com/role":"Recipient 1","iat":%d,"iss":"https://other.example.test"}`, now+3600, now)},
			{"raw", idp.RawToken(map[string]any{"sub": "x", "nbf": time.Unix(now, 0)}), fmt.Sprintf(`{"nbf":%d,"sub":"x"}`, now)},
			{"raw, nothing", idp.RawToken(nil), `{}`},
		}
		for _, tt := range tests {
			if got := string(split(t, tt.token).payload); got != tt.want {
				t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
			}
		}
		// The clock is the bubble's: an hour passes in no time.
		tok := idp.Token(session.ActiveSession{})
		time.Sleep(time.Hour)
		if later := idp.Token(session.ActiveSession{}); claim(t, later, "iat") != claim(t, tok, "iat")+3600 {
			t.Errorf("iat %v an hour after %v", claim(t, later, "iat"), claim(t, tok, "iat"))
		}
	})
}

// Options set, replace and remove claims and header parameters in order,
// after the session's claims.
func TestOptions(t *testing.T) {
	idp := jwkstest.New("https://idp.example.test/")
	other := idp.AddKey("EdDSA")
	s := session.ActiveSession{Sub: "ada", IssuedAt: 10, ExpiresAt: 20}
	tests := []struct {
		name         string
		opts         []jwkstest.Option
		claims, head string
	}{
		{"none", nil,
			`{"aud":"https://api.example.test","exp":20,"https://verdocs.com/email_verified":false,"https://verdocs.com/permissions":[],"https://verdocs.com/roles":[],"iat":10,"iss":"https://idp.example.test/","sub":"ada"}`,
			`{"alg":"ES256","kid":"` + idp.KID() + `","typ":"JWT"}`},
		{"claims set, replaced, removed, null, time", []jwkstest.Option{
			jwkstest.WithClaim("sub", "bob"), jwkstest.WithClaim("sub", "carol"), jwkstest.WithClaim("aud", nil),
			jwkstest.WithClaim("https://verdocs.com/permissions", nil), jwkstest.WithClaim("https://verdocs.com/roles", nil),
			jwkstest.WithClaim("https://verdocs.com/email_verified", nil), jwkstest.WithClaim("cnf", json.RawMessage("null")),
			jwkstest.WithClaim("exp", time.Unix(99, 999_000_000)), jwkstest.WithClaim("n", 1.5)},
			`{"cnf":null,"exp":99,"iat":10,"iss":"https://idp.example.test/","n":1.5,"sub":"carol"}`,
			`{"alg":"ES256","kid":"` + idp.KID() + `","typ":"JWT"}`},
		{"header set and removed", []jwkstest.Option{jwkstest.WithHeader("typ", "at+jwt"), jwkstest.WithHeader("kid", nil), jwkstest.WithHeader("crit", []string{"b64"})}, "",
			`{"alg":"ES256","crit":["b64"],"typ":"at+jwt"}`},
		{"alg alone: still the same key", []jwkstest.Option{jwkstest.WithHeader("alg", "HS256")}, "",
			`{"alg":"HS256","kid":"` + idp.KID() + `","typ":"JWT"}`},
		{"another key", []jwkstest.Option{jwkstest.WithKey(other)}, "",
			`{"alg":"EdDSA","kid":"` + other + `","typ":"JWT"}`},
		{"another key, its kid replaced", []jwkstest.Option{jwkstest.WithHeader("kid", "x"), jwkstest.WithKey(other)}, "",
			`{"alg":"EdDSA","kid":"x","typ":"JWT"}`},
		{"plain names", []jwkstest.Option{jwkstest.WithNamespace("")},
			`{"aud":"https://api.example.test","email_verified":false,"exp":20,"iat":10,"iss":"https://idp.example.test/","permissions":[],"roles":[],"sub":"ada"}`, ""},
		{"nil option", []jwkstest.Option{nil}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := split(t, idp.Token(s, tt.opts...))
			if tt.claims != "" && string(tok.payload) != tt.claims {
				t.Errorf("claims\n got %s\nwant %s", tok.payload, tt.claims)
			}
			if tt.head != "" && string(tok.rawHeader) != tt.head {
				t.Errorf("header\n got %s\nwant %s", tok.rawHeader, tt.head)
			}
		})
	}
	// RawToken takes the options too, and leaves the caller's map alone.
	in := map[string]any{"sub": "x"}
	if got := string(split(t, idp.RawToken(in, jwkstest.WithClaim("sub", nil), jwkstest.WithClaim("a", 1))).payload); got != `{"a":1}` || len(in) != 1 {
		t.Errorf("RawToken: %s, input %v", got, in)
	}
}

// Keys: the signer changes with Rotate only; a removed key leaves the set
// but still signs; imported keys are published under their thumbprint; Sign
// signs bytes as given.
func TestKeys(t *testing.T) {
	idp := jwkstest.New("https://idp.example.test")
	first := idp.KID()
	added := idp.AddKey("ES384")
	if idp.KID() != first {
		t.Error("AddKey changed the signer")
	}
	rotated := idp.Rotate("Ed25519")
	if idp.KID() != rotated {
		t.Error("Rotate did not change the signer")
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	imported := idp.ImportKey("EdDSA", edKey)
	if imported != rfc7638(t, map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(edKey.Public().(ed25519.PublicKey))}) {
		t.Error("imported kid is not the thumbprint")
	}
	if k, ok := idp.Key(imported).(ed25519.PrivateKey); !ok || !k.Equal(edKey) {
		t.Error("Key does not return the imported key")
	}
	if kids := order(t, idp.JWKS()); kids != strings.Join([]string{first, added, rotated, imported}, " ") {
		t.Errorf("published %s", kids)
	}
	if !idp.RemoveKey(rotated) || idp.RemoveKey(rotated) || idp.RemoveKey("nope") {
		t.Error("RemoveKey reports wrongly")
	}
	if kids := order(t, idp.JWKS()); kids != strings.Join([]string{first, added, imported}, " ") {
		t.Errorf("published after removal %s", kids)
	}
	// The removed key still signs, by default (it stays the signer) and by kid.
	pub := idp.Key(rotated).Public()
	for _, tok := range []string{idp.Token(session.ActiveSession{}), idp.RawToken(nil, jwkstest.WithKey(rotated))} {
		j := split(t, tok)
		if j.header["kid"] != rotated {
			t.Errorf("kid %v", j.header["kid"])
		}
		if err := verify("Ed25519", pub, j.input, j.sig); err != nil {
			t.Error(err)
		}
	}
	raw := split(t, idp.Sign([]byte(`{"alg":"x","alg":"y"}`), []byte("not json")))
	if string(raw.rawHeader) != `{"alg":"x","alg":"y"}` || string(raw.payload) != "not json" {
		t.Errorf("Sign changed its input: %s %s", raw.rawHeader, raw.payload)
	}
	if err := verify("Ed25519", pub, raw.input, raw.sig); err != nil {
		t.Error(err)
	}
	// Two issuers never share a key.
	if jwkstest.New("https://idp.example.test").KID() == first {
		t.Error("two issuers with one key")
	}
}

// Misuse panics, and says what was misused.
func TestMisusePanics(t *testing.T) {
	idp := jwkstest.New("https://idp.example.test")
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	idp.ImportKey("EdDSA", edKey)
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"relative issuer", func() { jwkstest.New("idp.example.test") }, `jwkstest: New("idp.example.test"): the issuer must be an absolute http or https URL`},
		{"ftp issuer", func() { jwkstest.New("ftp://idp.example.test") }, `jwkstest: New("ftp://idp.example.test"): the issuer must be an absolute http or https URL`},
		{"HS256", func() { idp.AddKey("HS256") }, `jwkstest: AddKey("HS256"): unsupported algorithm; the kit signs with RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519`},
		{"es256 lower case", func() { idp.Rotate("es256") }, `jwkstest: Rotate("es256"): unsupported algorithm`},
		{"wrong key type", func() { idp.ImportKey("RS256", edKey) }, `jwkstest: ImportKey("RS256"): a ed25519.PrivateKey cannot sign RS256, which needs an *rsa.PrivateKey`},
		{"wrong curve", func() { idp.ImportKey("ES384", mustEC(t, elliptic.P256())) }, `jwkstest: ImportKey("ES384"): a *ecdsa.PrivateKey cannot sign ES384, which needs an *ecdsa.PrivateKey on P-384`},
		{"nil key", func() { idp.ImportKey("EdDSA", nil) }, `jwkstest: ImportKey("EdDSA", nil): the key is nil`},
		{"same key twice", func() { idp.ImportKey("Ed25519", edKey) }, `jwkstest: ImportKey("Ed25519"): the issuer already has this key (kid "`},
		{"Key of an unknown kid", func() { idp.Key("nope") }, `jwkstest: Key("nope"): the issuer has no key with this kid (its kids: ` + idp.KID() + `, `},
		{"WithKey of an unknown kid", func() { idp.Token(session.ActiveSession{}, jwkstest.WithKey("nope")) }, `jwkstest: Token: WithKey("nope"): the issuer has no key with this kid`},
		{"empty claim name", func() { jwkstest.WithClaim("", 1) }, `jwkstest: WithClaim: the claim name is empty`},
		{"empty header name", func() { jwkstest.WithHeader("", 1) }, `jwkstest: WithHeader: the header parameter name is empty`},
		{"claim json refuses", func() { idp.RawToken(map[string]any{"c": make(chan int)}) }, `jwkstest: RawToken: the claims cannot be marshalled: json: unsupported type: chan int`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				msg := fmt.Sprint(recover())
				if !strings.HasPrefix(msg, tt.want) {
					t.Errorf("panic %q\nwant %q…", msg, tt.want)
				}
			}()
			tt.f()
		})
	}
}

// The handler serves the two documents at paths ending in the well-known
// ones, GET and HEAD only.
func TestHandler(t *testing.T) {
	idp := jwkstest.New("https://login.example.test/tenant/v2.0/")
	idp.AddKey("PS256")
	serve := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		idp.Handler().ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec
	}
	rec := serve("GET", "/tenant/v2.0/.well-known/openid-configuration")
	want := `{"authorization_endpoint":"https://login.example.test/tenant/v2.0/authorize","id_token_signing_alg_values_supported":["ES256","PS256"],"issuer":"https://login.example.test/tenant/v2.0/","jwks_uri":"https://login.example.test/tenant/v2.0/.well-known/jwks.json","response_types_supported":["code"],"subject_types_supported":["public"],"token_endpoint":"https://login.example.test/tenant/v2.0/oauth/token"}`
	if rec.Code != 200 || rec.Body.String() != want || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("discovery: %d %s %s", rec.Code, rec.Header(), rec.Body)
	}
	rec = serve("GET", "/.well-known/jwks.json")
	if rec.Code != 200 || rec.Body.String() != string(idp.JWKS()) || rec.Header().Get("Content-Length") != fmt.Sprint(len(idp.JWKS())) {
		t.Errorf("JWK set: %d %s %s", rec.Code, rec.Header(), rec.Body)
	}
	if rec = serve("HEAD", "/.well-known/jwks.json"); rec.Code != 200 || rec.Body.Len() != 0 {
		t.Errorf("HEAD: %d %q", rec.Code, rec.Body)
	}
	if rec = serve("POST", "/.well-known/jwks.json"); rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %s", rec.Code, rec.Header())
	}
	for _, path := range []string{"/", "/.well-known/jwks.json/x", "/.well-known/openid-configuration/", "/jwks.json"} {
		if rec = serve("GET", path); rec.Code != 404 {
			t.Errorf("GET %s: %d", path, rec.Code)
		}
	}
	if n := idp.JWKSRequests(); n != 3 {
		t.Errorf("%d JWK set requests counted, want 3 (GET, HEAD, POST)", n)
	}
}

// Faults through the in-process client, in a bubble: each document has
// its own; a hanging request waits for its client's deadline, a new fault
// or Close, on the fake clock.
func TestFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		idp := jwkstest.New("https://idp.example.test")
		c := idp.Client()
		disc := idp.URL() + "/.well-known/openid-configuration"

		idp.SetFault(jwkstest.Fault{Status: 500, CacheControl: "no-store"})
		if st, h, body := get(t, c, idp.JWKSURL()); st != 500 || h.Get("Cache-Control") != "no-store" || body != "500 Internal Server Error\n" || h.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("JWK set 500: %d %v %q", st, h, body)
		}
		if st, _, _ := get(t, c, disc); st != 200 {
			t.Errorf("discovery is healthy: %d", st)
		}
		idp.SetFault(jwkstest.Fault{Discovery: true, Status: 200, Body: []byte(`{"issuer":"https://evil.example"}`)})
		if st, _, body := get(t, c, disc); st != 200 || body != `{"issuer":"https://evil.example"}` {
			t.Errorf("discovery body: %d %q", st, body)
		}
		if st, _, _ := get(t, c, idp.JWKSURL()); st != 500 {
			t.Errorf("the JWK set keeps its own fault: %d", st)
		}
		idp.SetFault(jwkstest.Fault{Status: 418, Body: []byte("{")})
		if st, h, body := get(t, c, idp.JWKSURL()); st != 418 || body != "{" || h.Get("Content-Type") != "application/json" {
			t.Errorf("status and body: %d %v %q", st, h, body)
		}

		// Hang: the client's deadline ends it, in fake time.
		idp.SetFault(jwkstest.Fault{Hang: true})
		start := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		_, err := c.Do(mustRequest(t, ctx, idp.JWKSURL()))
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 10*time.Second {
			t.Errorf("hang ended after %v with %v", time.Since(start), err)
		}

		// A new fault releases the held requests, which answer as it says.
		results := make(chan int, 3)
		for range 3 {
			go func() {
				st, _, _ := get(t, c, idp.JWKSURL())
				results <- st
			}()
		}
		synctest.Wait() // all three hang
		if len(results) != 0 {
			t.Fatal("a request answered through a hang")
		}
		idp.SetFault(jwkstest.Fault{Status: 503})
		for range 3 {
			if st := <-results; st != 503 {
				t.Errorf("released with %d, want the new fault's 503", st)
			}
		}

		// Close releases them too, with the rest of their fault; later hangs
		// answer at once.
		idp.SetFault(jwkstest.Fault{Hang: true, Status: 502})
		go func() {
			st, _, _ := get(t, c, idp.JWKSURL())
			results <- st
		}()
		synctest.Wait()
		idp.Close()
		if st := <-results; st != 502 {
			t.Errorf("released by Close with %d", st)
		}
		if st, _, _ := get(t, c, idp.JWKSURL()); st != 502 {
			t.Errorf("after Close: %d", st)
		}
		idp.SetFault(jwkstest.Fault{})
		if st, _, body := get(t, c, idp.JWKSURL()); st != 200 || body != string(idp.JWKS()) {
			t.Errorf("healthy again: %d %s", st, body)
		}
		if n := idp.JWKSRequests(); n != 10 {
			t.Errorf("%d JWK set requests counted, want 10", n)
		}
	})
}

// The loopback server is the one part of the kit on real network I/O, so
// this test runs on wall time: Close releases a hanging request before it
// stops the server, and returns.
func TestServerClose(t *testing.T) {
	idp := jwkstest.NewServer()
	idp.SetFault(jwkstest.Fault{Hang: true, Status: 503})
	done := make(chan int)
	go func() {
		res, err := http.Get(idp.JWKSURL())
		if err != nil {
			done <- 0
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	for idp.JWKSRequests() == 0 { // the request reached the server
		time.Sleep(time.Millisecond)
	}
	idp.Close()
	if st := <-done; st != 503 {
		t.Errorf("the hanging request got %d", st)
	}
	idp.Close() // idempotent
	if _, err := http.Get(idp.JWKSURL()); err == nil {
		t.Error("the server still answers")
	}
}

func get(t *testing.T, c *http.Client, url string) (int, http.Header, string) {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return 0, nil, ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

func mustRequest(t *testing.T, ctx context.Context, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func mustEC(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func unb64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64url %q: %v", s, err)
	}
	return b
}

type jws struct {
	rawHeader, payload []byte
	header             map[string]any
	input              string
	sig                []byte
}

func split(t *testing.T, tok string) jws {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("%d parts in %q", len(parts), tok)
	}
	j := jws{rawHeader: unb64(t, parts[0]), payload: unb64(t, parts[1]), input: parts[0] + "." + parts[1], sig: unb64(t, parts[2])}
	_ = json.Unmarshal(j.rawHeader, &j.header)
	return j
}

func claim(t *testing.T, tok, name string) float64 {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(split(t, tok).payload, &c); err != nil {
		t.Fatal(err)
	}
	f, _ := c[name].(float64)
	return f
}

// jwkSet indexes a JWK set by kid.
func jwkSet(t *testing.T, doc []byte) map[string]map[string]any {
	t.Helper()
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, k := range set.Keys {
		out[k["kid"].(string)] = k
	}
	return out
}

// order lists the kids of a JWK set in order.
func order(t *testing.T, doc []byte) string {
	t.Helper()
	var set struct{ Keys []struct{ Kid string } }
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return strings.Join(kids, " ")
}

// rfc7638 computes the thumbprint of a public JWK from its required
// members, written out as RFC 7638 section 3.2 says.
func rfc7638(t *testing.T, jwk map[string]any) string {
	t.Helper()
	var members []string
	switch jwk["kty"] {
	case "RSA":
		members = []string{"e", "kty", "n"}
	case "EC":
		members = []string{"crv", "kty", "x", "y"}
	case "OKP":
		members = []string{"crv", "kty", "x"}
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%q", m, jwk[m])
	}
	b.WriteByte('}')
	sum := sha256.Sum256([]byte(b.String()))
	return b64(sum[:])
}

// jwkPublic decodes a public JWK, checking the fixed sizes of EC and OKP
// members.
func jwkPublic(t *testing.T, m map[string]any) crypto.PublicKey {
	t.Helper()
	str := func(name string) string {
		v, ok := m[name].(string)
		if !ok {
			t.Fatalf("JWK member %q = %#v, want a string", name, m[name])
		}
		return v
	}
	switch str("kty") {
	case "RSA":
		return &rsa.PublicKey{N: new(big.Int).SetBytes(unb64(t, str("n"))), E: int(new(big.Int).SetBytes(unb64(t, str("e"))).Int64())}
	case "EC":
		curves := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}
		c := curves[str("crv")]
		size := (c.Params().BitSize + 7) / 8
		x, y := unb64(t, str("x")), unb64(t, str("y"))
		if len(x) != size || len(y) != size {
			t.Fatalf("EC coordinates of %d and %d bytes, want %d", len(x), len(y), size)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(c, append(append([]byte{4}, x...), y...))
		if err != nil {
			t.Fatal(err)
		}
		return pub
	case "OKP":
		x := unb64(t, str("x"))
		if str("crv") != "Ed25519" || len(x) != ed25519.PublicKeySize {
			t.Fatalf("OKP %v", m)
		}
		return ed25519.PublicKey(x)
	}
	t.Fatalf("kty %v", m["kty"])
	return nil
}

// verify checks a JWS signature made with alg.
func verify(alg string, pub crypto.PublicKey, input string, sig []byte) error {
	if alg == "EdDSA" || alg == "Ed25519" {
		if p, ok := pub.(ed25519.PublicKey); !ok || !ed25519.Verify(p, []byte(input), sig) {
			return fmt.Errorf("%s: bad signature", alg)
		}
		return nil
	}
	var h hash.Hash
	ch := map[string]crypto.Hash{"256": crypto.SHA256, "384": crypto.SHA384, "512": crypto.SHA512}[alg[2:]]
	switch ch {
	case crypto.SHA256:
		h = sha256.New()
	case crypto.SHA384:
		h = sha512.New384()
	default:
		h = sha512.New()
	}
	h.Write([]byte(input))
	d := h.Sum(nil)
	switch alg[:2] {
	case "RS":
		return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), ch, d, sig)
	case "PS":
		return rsa.VerifyPSS(pub.(*rsa.PublicKey), ch, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	}
	p := pub.(*ecdsa.PublicKey)
	size := (p.Params().BitSize + 7) / 8
	if len(sig) != 2*size || !ecdsa.Verify(p, d, new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])) {
		return fmt.Errorf("%s: bad signature", alg)
	}
	return nil
}
