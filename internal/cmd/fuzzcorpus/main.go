// Command fuzzcorpus writes the committed seed corpora (testdata/fuzz) of the
// fuzz targets. Tokens come from an issuer whose URL no test trusts, so they
// exercise every layer but are never valid for the fuzz targets' issuers.
// Run it from the repository root: go run ./internal/cmd/fuzzcorpus
package main

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/session"
)

func write(dir string, i int, lines ...string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		panic(err)
	}
	body := "go test fuzz v1\n" + strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%03d", i)), []byte(body), 0o644); err != nil {
		panic(err)
	}
}

func str(s string) string   { return fmt.Sprintf("string(%q)", s) }
func bytes(s string) string { return fmt.Sprintf("[]byte(%q)", s) }
func b64(s string) string   { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// withSignature replaces the signature of a compact JWS.
func withSignature(token string, sig []byte) string {
	return token[:strings.LastIndexByte(token, '.')+1] + base64.RawURLEncoding.EncodeToString(sig)
}

func main() {
	now := time.Unix(1_764_000_000, 0) // the tokens' iat, whenever the corpus is written
	idp := jwkstest.New("https://corpus.example.test/")
	rsaKID := idp.Rotate("RS256")
	ec := idp.AddKey("ES256")
	ed := idp.AddKey("EdDSA")
	org := session.Organization{ID: "org-1", Name: "Analytical Engines"}
	s := session.ActiveSession{Sub: "auth0|42", Email: "ada@example.com", EmailVerified: true, ProfileID: "p-1", OrganizationID: "org-1",
		Roles: []session.Role{{ID: "owner", Name: "owner"}}, Permissions: []session.Permission{{ID: "org:view", Name: "org:view"}},
		Plans: []session.Plan{"org:standard"}, Profile: session.Profile{ID: "p-1", Organization: org},
		IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Hour).Unix()}
	named := s // roles and permissions with names: written as {"id","name"} objects
	named.Roles = []session.Role{{ID: "owner", Name: "Owner"}}
	good := idp.Token(s)
	parts := strings.Split(good, ".")
	der, _ := x509.MarshalPKIXPublicKey(idp.Key(rsaKID).Public().(*rsa.PublicKey))
	var set struct{ Keys []map[string]any }
	_ = json.Unmarshal(idp.JWKS(), &set)
	rsaJWK := set.Keys[1] // the first is the issuer's initial ES256 key
	jwk, _ := json.Marshal(rsaJWK)
	tokens := []string{
		good, idp.Token(s, jwkstest.WithKey(ec)), idp.Token(s, jwkstest.WithKey(ed)), idp.Token(named),
		b64(`{"alg":"none"}`) + "." + parts[1] + ".", b64(`{"alg":"None"}`) + "." + parts[1] + "." + parts[2],
		b64(`{"alg":"NONE"}`) + "." + parts[1] + ".", b64(`{"alg":"HS256"}`) + "." + parts[1] + "." + parts[2],
		idp.Token(s, jwkstest.WithHeader("alg", "ES256")), idp.Token(s, jwkstest.WithHeader("alg", "PS256")), idp.Token(s, jwkstest.WithHeader("alg", nil)),
		idp.Token(s, jwkstest.WithHeader("kid", ec)), idp.Token(s, jwkstest.WithHeader("kid", "../../../../etc/passwd")), idp.Token(s, jwkstest.WithHeader("kid", "' OR 1=1 --")),
		idp.Token(s, jwkstest.WithHeader("jwk", rsaJWK)), idp.Token(s, jwkstest.WithHeader("jku", "https://evil.example/jwks.json")),
		idp.Token(s, jwkstest.WithHeader("x5u", "https://evil.example/c.pem")), idp.Token(s, jwkstest.WithHeader("x5c", []string{base64.StdEncoding.EncodeToString(der)})),
		idp.Token(s, jwkstest.WithHeader("crit", []string{"exp"})), idp.Token(s, jwkstest.WithHeader("crit", []string{})),
		idp.Token(s, jwkstest.WithHeader("crit", []string{"b64"}), jwkstest.WithHeader("b64", false)), idp.Token(s, jwkstest.WithHeader("cty", "JWT")),
		good + ".a.b", good + ".a", "." + good, good + ".", parts[0] + "=." + parts[1] + "." + parts[2],
		strings.NewReplacer("-", "+", "_", "/").Replace(good), parts[0][:10] + "\r\n" + parts[0][10:] + "." + parts[1] + "." + parts[2],
		" " + good, good + " ",
		`{"protected":"` + parts[0] + `","payload":"` + parts[1] + `","signature":"` + parts[2] + `"}`,
		`{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`,
		idp.Sign([]byte(`{"alg":"RS256","alg":"RS256"}`), []byte(`{"exp":1}`)),
		idp.Sign([]byte(`{"alg":"RS256"}`), []byte(`{"iss":"a","iss":"b","exp":1}`)),
		idp.Sign([]byte(`{"alg":"RS256"}`), []byte(`{"exp":1}{}`)),
		idp.Sign([]byte(`{"alg":"RS256"}`), []byte("{\"sub\":\"\xff\"}")),
		idp.Token(s, jwkstest.WithClaim("exp", nil)), idp.Token(s, jwkstest.WithClaim("exp", 0)), idp.Token(s, jwkstest.WithClaim("exp", -1)),
		idp.Token(s, jwkstest.WithClaim("exp", "1764003600")), idp.Token(s, jwkstest.WithClaim("exp", 1e18)), idp.Token(s, jwkstest.WithClaim("exp", json.RawMessage("null"))),
		idp.Token(s, jwkstest.WithClaim("iat", now.Add(time.Hour))), idp.Token(s, jwkstest.WithClaim("nbf", now.Add(time.Hour))),
		idp.Token(s, jwkstest.WithClaim("aud", "https://other.example")), idp.Token(s, jwkstest.WithClaim("aud", []string{})),
		idp.Token(s, jwkstest.WithClaim("iss", "https://corpus.example.test")),
		withSignature(idp.Token(s, jwkstest.WithKey(ec)), make([]byte, 64)),
		string(jwk),
		// The shapes of issues 10 and 12: scopes, sender-constrained and
		// signing sessions, folded names, empty kid, the RFC 9864 name,
		// fractional dates, a tenant's issuer.
		idp.Token(s, jwkstest.WithClaim("scope", "documents:read profile")), idp.Token(s, jwkstest.WithClaim("scp", []string{"a", "b"})),
		idp.Token(s, jwkstest.WithClaim("cnf", map[string]string{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})), idp.Token(s, jwkstest.WithClaim("cnf", json.RawMessage("null"))),
		idp.Token(s, jwkstest.WithClaim("session_type", "signing"), jwkstest.WithClaim("envelope_id", "e-1")),
		idp.Token(s, jwkstest.WithClaim("https://verdocs.com/session_type", "user"), jwkstest.WithClaim("session_type", "signing")),
		idp.Token(s, jwkstest.WithClaim("SUB", "x")), idp.Token(s, jwkstest.WithClaim("\u017fub", "x")), idp.Token(s, jwkstest.WithHeader("kid", "")),
		idp.Token(s, jwkstest.WithKey(ed), jwkstest.WithHeader("alg", "Ed25519")), idp.Token(s, jwkstest.WithClaim("exp", 1764003600.5)),
		idp.Token(s, jwkstest.WithClaim("iss", "https://login.example.net/tenant-a/v2.0")),
	}
	for i, t := range tokens {
		write("middleware/testdata/fuzz/FuzzAuthenticate", i, str(t))
		write("internal/jws/testdata/fuzz/FuzzParse", i, str(t))
	}
	headers := [][2]string{
		{"Bearer " + good, ""}, {"bearer    " + good, "token=" + good}, {"Basic dXNlcjpwYXNz", ""}, {"Bearer", "token=x; token=y"},
		{"Bearer\t" + good, ""}, {"Bearertoken", "token=\"quoted\""}, {"Bearer a b", "token=a.b.c; Path=/"}, {"Bearer " + good + "\r\n", ""},
		{"BEARER " + good, "session=1; token=" + good},
	}
	for i, h := range headers {
		write("middleware/testdata/fuzz/FuzzExtract", i, str(h[0]), str(h[1]))
	}
	var payloads []string
	for _, t := range tokens {
		p := strings.Split(t, ".")
		if len(p) == 3 {
			if b, err := base64.RawURLEncoding.DecodeString(p[1]); err == nil {
				payloads = append(payloads, string(b))
			}
		}
	}
	payloads = append(payloads, `{"permissions":[{"id":"a","name":"A"},"b"],"roles":[{"id":1}]}`, `{"profile":{"groups":[{"profiles":[{"phone":false}]}]}}`,
		`{"https://verdocs.com/email":"a","email":1}`, `{"document_id":"d","access_key":{"id":"k","type":"email"}}`, `{"exp":1e400}`,
		`{"sub":"a","SUB":"b"}`, "{\"sub\":\"a\",\"\u017fub\":\"b\"}", `{"session_type":"signing","envelope_id":"e"}`, `{"session_type":"user","document_id":"d"}`,
		`{"scope":"a b","scp":["c"]}`, `{"cnf":{"x5t#S256":"abc"}}`, `{"cnf":null}`, `{"exp":1764003600.123456789}`, `{"envelope_id":""}`)
	seen := map[string]bool{}
	n := 0
	for _, p := range payloads {
		if seen[p] {
			continue
		}
		seen[p] = true
		write("session/testdata/fuzz/FuzzDecode", n, bytes(p))
		write("internal/strictjson/testdata/fuzz/FuzzValid", n, bytes(p))
		n++
	}
	fmt.Println(len(tokens), "tokens,", len(headers), "headers,", n, "payloads")
}
