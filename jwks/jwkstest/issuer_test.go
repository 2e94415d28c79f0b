package jwkstest_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/sessiongate/sessiongate/jwks/jwkstest"
)

func TestServerDiscovery(t *testing.T) {
	srv := jwkstest.NewServer()
	defer srv.Close()
	srv.AddKey(jwkstest.ES256)
	srv.AddKey(jwkstest.EdDSA)

	var doc map[string]any
	res := getJSON(t, srv.Client(), srv.URL()+"/.well-known/openid-configuration", &doc)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %q, want a loopback httptest URL", srv.URL())
	}
	want := map[string]any{
		"issuer":                                srv.URL(),
		"jwks_uri":                              srv.URL() + "/.well-known/jwks.json",
		"authorization_endpoint":                srv.URL() + "/authorize",
		"token_endpoint":                        srv.URL() + "/oauth/token",
		"response_types_supported":              []any{"code"},
		"subject_types_supported":               []any{"public"},
		"id_token_signing_alg_values_supported": []any{"ES256", "EdDSA", "RS256"},
	}
	if !jsonEqual(doc, want) {
		t.Errorf("discovery document\n got %v\nwant %v", doc, want)
	}
	if srv.JWKSURL() != want["jwks_uri"] || srv.DiscoveryURL() != srv.URL()+"/.well-known/openid-configuration" {
		t.Errorf("JWKSURL %q, DiscoveryURL %q", srv.JWKSURL(), srv.DiscoveryURL())
	}
	if got := srv.DiscoveryRequests(); got != 1 {
		t.Errorf("DiscoveryRequests = %d, want 1", got)
	}
	if got := srv.JWKSRequests(); got != 0 {
		t.Errorf("JWKSRequests = %d, want 0", got)
	}
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestJWKSShape(t *testing.T) {
	srv := jwkstest.NewServer()
	defer srv.Close()
	for _, alg := range jwkstest.Algorithms() {
		if alg != jwkstest.RS256 {
			srv.AddKey(alg)
		}
	}
	var set jwkSet
	res := getJSON(t, srv.Client(), srv.JWKSURL(), &set)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" || res.Header.Get("Cache-Control") != "" {
		t.Fatalf("status %d, headers %v", res.StatusCode, res.Header)
	}
	keys := srv.Keys()
	if len(set.Keys) != len(keys) || len(keys) != len(jwkstest.Algorithms()) {
		t.Fatalf("served %d keys, Keys() %d, want %d", len(set.Keys), len(keys), len(jwkstest.Algorithms()))
	}
	wantKty := map[string]string{"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
	for i, k := range keys {
		t.Run(k.Alg, func(t *testing.T) {
			m := set.Keys[i]
			if m["kid"] != k.KID || m["alg"] != k.Alg || m["use"] != "sig" || m["kty"] != wantKty[k.Alg[:2]] {
				t.Errorf("JWK %v for key %s %s", m, k.KID, k.Alg)
			}
			pub := jwkPublic(t, m)
			if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()) {
				t.Errorf("published key differs from the signing key's public key")
			}
			if k.KID != jwkstest.Thumbprint(pub) {
				t.Errorf("kid %q is not the thumbprint %q", k.KID, jwkstest.Thumbprint(pub))
			}
			if rk, ok := k.Public().(*rsa.PublicKey); ok && rk.N.BitLen() != 2048 {
				t.Errorf("RSA key of %d bits", rk.N.BitLen())
			}
			if m["kty"] == "RSA" && m["e"] != "AQAB" {
				t.Errorf("e = %v", m["e"])
			}
		})
	}
	if !slices.Equal(srv.KIDs(), kidsOf(keys)) {
		t.Errorf("KIDs %v", srv.KIDs())
	}
	if string(srv.JWKS()) != mustGetBody(t, srv.Client(), srv.JWKSURL()) {
		t.Errorf("JWKS() differs from the served body")
	}
}

func kidsOf(keys []jwkstest.Key) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.KID)
	}
	return out
}

func mustGetBody(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestThumbprintRFC7638(t *testing.T) {
	// RFC 7638, section 3.1.
	n := "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	nb, _ := base64.RawURLEncoding.DecodeString(n)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: 65537}
	if got, want := jwkstest.Thumbprint(pub), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("Thumbprint = %s, want %s", got, want)
	}
	m := jwkstest.PublicJWK(pub, "", "")
	if _, ok := m["kid"]; ok {
		t.Errorf("empty kid written: %v", m)
	}
	if _, ok := m["alg"]; ok {
		t.Errorf("empty alg written: %v", m)
	}
}

func TestPublicJWKPanicsOnUnsupportedKey(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a []byte key")
		}
	}()
	jwkstest.PublicJWK([]byte("secret"), "k", "HS256")
}

func TestHandlerMode(t *testing.T) {
	iss := jwkstest.New("http://127.0.0.1:8080/tenant/")
	defer iss.Close()
	h := iss.Handler()
	tests := []struct {
		method, path string
		status       int
		body         string // substring
	}{
		{"GET", "/tenant/.well-known/jwks.json", 200, `{"keys":[{`},
		{"HEAD", "/.well-known/jwks.json", 200, ""},
		{"GET", "/.well-known/openid-configuration", 200, `"jwks_uri":"http://127.0.0.1:8080/tenant/.well-known/jwks.json"`},
		{"GET", "/x/.well-known/openid-configuration", 200, `"issuer":"http://127.0.0.1:8080/tenant/"`},
		{"GET", "/", 404, ""},
		{"GET", "/.well-known/jwks", 404, ""},
		{"POST", "/.well-known/jwks.json", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("%d %q, want %d containing %q", rec.Code, rec.Body.String(), tt.status, tt.body)
			}
			if tt.method == "HEAD" && (rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "") {
				t.Errorf("HEAD: body %q, Content-Length %q", rec.Body.String(), rec.Header().Get("Content-Length"))
			}
			if tt.status == 405 && rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q", rec.Header().Get("Allow"))
			}
		})
	}
	if got := iss.JWKSRequests(); got != 3 {
		t.Errorf("JWKSRequests = %d, want 3 (POST counted)", got)
	}
	if got := iss.DiscoveryRequests(); got != 2 {
		t.Errorf("DiscoveryRequests = %d, want 2", got)
	}
	if iss.JWKSURL() != "http://127.0.0.1:8080/tenant/.well-known/jwks.json" {
		t.Errorf("JWKSURL = %q", iss.JWKSURL())
	}

	// The single-endpoint handlers ignore the path, for routers.
	rec := httptest.NewRecorder()
	iss.JWKSHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/keys", nil))
	if rec.Code != 200 || rec.Body.String() != string(iss.JWKS()) {
		t.Errorf("JWKSHandler: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	iss.DiscoveryHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/disc", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"issuer":"http://127.0.0.1:8080/tenant/"`) {
		t.Errorf("DiscoveryHandler: %d %s", rec.Code, rec.Body)
	}
}

func TestNewRejectsBadIssuerURL(t *testing.T) {
	for _, u := range []string{"", "example.com", "ftp://example.com", "http://", "/path", "http://a b"} {
		t.Run(u, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%q) did not panic", u)
				}
			}()
			jwkstest.New(u).Close()
		})
	}
}

func TestKeyManagement(t *testing.T) {
	srv := jwkstest.NewServer()
	defer srv.Close()
	first := srv.SigningKey()
	if first.Alg != jwkstest.RS256 || !slices.Equal(srv.KIDs(), []string{first.KID}) {
		t.Fatalf("new issuer: signer %s %s, kids %v", first.KID, first.Alg, srv.KIDs())
	}

	es := srv.AddKey(jwkstest.ES256)
	if srv.SigningKey().KID != first.KID {
		t.Errorf("AddKey changed the signer")
	}
	ed := srv.Rotate(jwkstest.EdDSA)
	if srv.SigningKey().KID != ed {
		t.Errorf("Rotate did not change the signer")
	}
	if got := kidsOfServed(t, srv); !slices.Equal(got, []string{first.KID, es, ed}) {
		t.Errorf("served kids %v", got)
	}

	if !srv.RemoveKey(first.KID) {
		t.Errorf("RemoveKey(first) = false")
	}
	if srv.RemoveKey(first.KID) || srv.RemoveKey("nope") {
		t.Errorf("RemoveKey of a removed or unknown kid = true")
	}
	if got := kidsOfServed(t, srv); !slices.Equal(got, []string{es, ed}) {
		t.Errorf("served kids after removal %v", got)
	}
	if _, ok := srv.Key(first.KID); !ok {
		t.Errorf("removed key forgotten")
	}

	// A removed key still signs on request, and its tokens verify against
	// nothing served.
	tok := splitJWT(t, srv.RawToken(map[string]any{"sub": "x"}, jwkstest.WithKey(first.KID)))
	if tok.header["kid"] != first.KID || tok.header["alg"] != "RS256" {
		t.Errorf("header %v", tok.header)
	}
	if err := verifySig("RS256", first.Public(), tok.input, tok.sig); err != nil {
		t.Errorf("retired key's token: %v", err)
	}

	srv.SetSigner(es)
	if k := srv.SigningKey(); k.KID != es || k.Alg != jwkstest.ES256 {
		t.Errorf("SetSigner: %v", k)
	}
	if srv.RemoveKey(es); srv.SigningKey().KID != es {
		t.Errorf("removing the signer changed the signer")
	}
	if len(srv.Keys()) != 1 || srv.Keys()[0].KID != ed {
		t.Errorf("Keys %v", kidsOf(srv.Keys()))
	}

	for _, f := range []func(){
		func() { srv.SetSigner("nope") },
		func() { srv.AddKey("HS256") },
		func() { srv.AddKey("none") },
		func() { srv.RawToken(nil, jwkstest.WithKey("nope")) },
		func() { srv.SignWithKey("nope", []byte("{}"), []byte("{}")) },
		func() { srv.ImportKey(ed, jwkstest.EdDSA, srv.SigningKey().Private) }, // duplicate kid
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("setup error did not panic")
				}
			}()
			f()
		}()
	}
}

func kidsOfServed(t *testing.T, srv *jwkstest.Server) []string {
	t.Helper()
	var set jwkSet
	getJSON(t, srv.Client(), srv.JWKSURL(), &set)
	var out []string
	for _, k := range set.Keys {
		out = append(out, k["kid"].(string))
	}
	return out
}

func TestImportKey(t *testing.T) {
	iss := jwkstest.New("https://issuer.example.test")
	defer iss.Close()
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	kid := iss.ImportKey("", jwkstest.RS256, weak)
	if kid != jwkstest.Thumbprint(&weak.PublicKey) {
		t.Errorf("kid %q", kid)
	}
	if got := iss.ImportKey("mine", jwkstest.ES384, mustEC(t)); got != "mine" {
		t.Errorf("kid %q", got)
	}
	var set jwkSet
	if err := json.Unmarshal(iss.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 3 || set.Keys[1]["kid"] != kid || set.Keys[2]["kid"] != "mine" || set.Keys[2]["crv"] != "P-384" {
		t.Fatalf("set %v", set.Keys)
	}
	if n := jwkPublic(t, set.Keys[1]).(*rsa.PublicKey).N.BitLen(); n != 1024 {
		t.Errorf("weak key has %d bits", n)
	}
	tok := splitJWT(t, iss.RawToken(map[string]any{}, jwkstest.WithKey(kid)))
	if err := verifySig("RS256", &weak.PublicKey, tok.input, tok.sig); err != nil {
		t.Error(err)
	}

	// Algorithm and key must match.
	for _, c := range []struct {
		alg string
		key crypto.Signer
	}{
		{jwkstest.ES256, weak},
		{jwkstest.ES256, mustEC(t)}, // P-384 key
		{jwkstest.RS256, mustEC(t)},
		{jwkstest.EdDSA, weak},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ImportKey(%s, %T) did not panic", c.alg, c.key)
				}
			}()
			iss.ImportKey("", c.alg, c.key)
		}()
	}
}

func mustEC(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestRawJWKs(t *testing.T) {
	iss := jwkstest.New("https://issuer.example.test")
	defer iss.Close()
	signer := iss.SigningKey()
	dup := signer.JWK()
	dup["use"] = "enc"
	iss.AddRawJWK(`{"kty":"oct","kid":"hmac","k":"c2VjcmV0"}`)
	iss.AddRawJWK([]byte(`{"kty":"RSA","kid":"e1","n":"AQAB","e":"AQ"}`))
	iss.AddRawJWK(json.RawMessage(`{"kty":"XYZ"}`))
	iss.AddRawJWK(dup)                                 // same kid as the signer
	iss.AddRawJWK(ed25519.PublicKey(make([]byte, 32))) // marshals to a JSON string: not a JWK at all

	var set struct{ Keys []json.RawMessage }
	if err := json.Unmarshal(iss.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 6 {
		t.Fatalf("%d keys: %s", len(set.Keys), iss.JWKS())
	}
	if string(set.Keys[1]) != `{"kty":"oct","kid":"hmac","k":"c2VjcmV0"}` || string(set.Keys[3]) != `{"kty":"XYZ"}` {
		t.Errorf("raw JWKs changed: %s", iss.JWKS())
	}
	if got, want := iss.KIDs(), []string{signer.KID, "hmac", "e1", signer.KID}; !slices.Equal(got, want) {
		t.Errorf("KIDs = %v, want %v", got, want)
	}
	if !iss.RemoveKey("hmac") || slices.Contains(iss.KIDs(), "hmac") {
		t.Errorf("RemoveKey(hmac): %v", iss.KIDs())
	}
	// Removing the signer's kid removes the duplicate too.
	if !iss.RemoveKey(signer.KID) || len(iss.KIDs()) != 1 {
		t.Errorf("RemoveKey(signer): %v", iss.KIDs())
	}
	iss.ClearRawJWKs()
	if string(iss.JWKS()) != `{"keys":[]}` {
		t.Errorf("JWKS = %s", iss.JWKS())
	}
	for _, bad := range []any{`{"kty":`, []byte("nope"), make(chan int)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddRawJWK(%v) did not panic", bad)
				}
			}()
			iss.AddRawJWK(bad)
		}()
	}
}

func TestTLSServer(t *testing.T) {
	noGoroutineLeak(t)
	srv := jwkstest.NewTLSServer()
	defer srv.Close()
	if !strings.HasPrefix(srv.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL %q", srv.URL())
	}
	var doc map[string]any
	getJSON(t, srv.Client(), srv.DiscoveryURL(), &doc)
	if doc["issuer"] != srv.URL() || doc["jwks_uri"] != srv.JWKSURL() {
		t.Errorf("discovery %v", doc)
	}
	keys := fetchKeys(t, srv.Client(), srv.JWKSURL())
	j := splitJWT(t, srv.Token(fullSession()))
	if j.payload["iss"] != srv.URL() {
		t.Errorf("iss %v", j.payload["iss"])
	}
	if err := verifySig("RS256", keys[j.header["kid"].(string)], j.input, j.sig); err != nil {
		t.Error(err)
	}
	// A client that does not trust the test certificate is refused.
	if _, err := (&http.Client{Transport: &http.Transport{}}).Get(srv.JWKSURL()); err == nil {
		t.Error("untrusted client connected")
	}
}
