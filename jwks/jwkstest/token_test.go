package jwkstest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/session"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func fullSession() session.ActiveSession {
	phone := "+44 20 7946 0000"
	return session.ActiveSession{
		Sub:           "auth0|ada",
		Email:         "ada@example.com",
		EmailVerified: true,
		Permissions: []session.Permission{
			{ID: session.PermOrgView, Name: session.PermOrgView},
			{ID: session.PermTemplateMemberRead, Name: session.PermTemplateMemberRead},
		},
		Roles: []session.Role{{ID: session.RoleOwner, Name: session.RoleOwner}},
		Profile: session.Profile{
			ID:             "p1",
			UserID:         "auth0|ada",
			OrganizationID: "o1",
			FirstName:      "Ada",
			Email:          "ada@example.com",
			Current:        true,
			Organization:   session.Organization{ID: "o1", Name: "Engines", Phone: &phone},
			Plans:          []session.Plan{session.PlanOrgStandard},
		},
		ProfileID:      "p1",
		OrganizationID: "o1",
		Plans:          []session.Plan{session.PlanOrgStandard},
	}
}

func TestTokenVerifiesForEveryAlgorithm(t *testing.T) {
	srv := jwkstest.NewServer()
	defer srv.Close()
	for _, alg := range jwkstest.Algorithms() {
		t.Run(alg, func(t *testing.T) {
			kid := srv.Rotate(alg)
			keys := fetchKeys(t, srv.Client(), srv.JWKSURL())
			for _, tok := range []string{
				srv.Token(fullSession()),
				srv.SigningToken(session.SigningSession{DocumentID: "d1"}),
				srv.RawToken(map[string]any{"a": 1}),
			} {
				j := splitJWT(t, tok)
				if j.header["alg"] != alg || j.header["kid"] != kid || j.header["typ"] != "JWT" || len(j.header) != 3 {
					t.Errorf("header %v", j.header)
				}
				if err := verifySig(alg, keys[kid], j.input, j.sig); err != nil {
					t.Errorf("signature does not verify against the published key: %v", err)
				}
				// Any change to the signing input breaks the signature.
				if verifySig(alg, keys[kid], j.input+"x", j.sig) == nil {
					t.Errorf("tampered input verifies")
				}
			}
		})
	}
}

func TestTokenClaims(t *testing.T) {
	clock := jwkstest.NewClock(t0)
	iss := jwkstest.New("https://idp.example.test/")
	defer iss.Close()
	iss.SetClock(clock)
	s := fullSession()

	j := splitJWT(t, iss.Token(s))
	ns := "https://verdocs.com/"
	wantNames := []string{"iss", "aud", "sub", "iat", "exp",
		ns + "email", ns + "email_verified", ns + "permissions", ns + "roles",
		ns + "profile", ns + "profile_id", ns + "organization_id", ns + "plans"}
	var names []string
	for k := range j.payload {
		names = append(names, k)
	}
	slices.Sort(names)
	slices.Sort(wantNames)
	if !slices.Equal(names, wantNames) {
		t.Fatalf("claims %v\nwant %v", names, wantNames)
	}
	for name, want := range map[string]string{
		"iss":              `"https://idp.example.test/"`,
		"aud":              `"https://api.example.test"`,
		"iat":              "1893553445",
		"exp":              "1893557045",
		ns + "roles":       `["owner"]`,
		ns + "permissions": `["org:view","template:member:read"]`,
		ns + "plans":       `["org:standard"]`,
	} {
		if got := string(mustJSON(j.payload[name])); got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}

	// The session decoder reads back the same session.
	tok, err := session.Decoder{}.Decode(j.rawPay)
	if err != nil {
		t.Fatal(err)
	}
	want := s
	want.IssuedAt, want.ExpiresAt = t0.Unix(), t0.Add(time.Hour).Unix()
	if tok.Kind != session.KindActive || !reflect.DeepEqual(tok.Active, want) {
		t.Errorf("decoded session\n got %+v\nwant %+v", tok.Active, want)
	}

	// A session's own iat and exp win over the defaults; the clock moves them.
	s.IssuedAt, s.ExpiresAt = 100, 200
	j = splitJWT(t, iss.Token(s))
	if mustJSON(j.payload["iat"]) != "100" || mustJSON(j.payload["exp"]) != "200" {
		t.Errorf("iat %v exp %v", j.payload["iat"], j.payload["exp"])
	}
	clock.Advance(time.Minute)
	j = splitJWT(t, iss.Token(session.ActiveSession{}))
	if mustJSON(j.payload["iat"]) != "1893553505" {
		t.Errorf("iat after Advance = %v", j.payload["iat"])
	}
	// An empty session writes no optional claims; roles and permissions are [].
	for _, name := range []string{"sub", ns + "email", ns + "profile", ns + "profile_id", ns + "plans"} {
		if _, ok := j.payload[name]; ok {
			t.Errorf("empty session wrote %s", name)
		}
	}
	if mustJSON(j.payload[ns+"roles"]) != "[]" || mustJSON(j.payload[ns+"email_verified"]) != "false" {
		t.Errorf("empty session: %s", j.rawPay)
	}

	// Objects instead of id strings.
	j = splitJWT(t, iss.Token(fullSession(), jwkstest.WithIDNameObjects()))
	if got := mustJSON(j.payload[ns+"roles"]); got != `[{"id":"owner","name":"owner"}]` {
		t.Errorf("roles as objects = %s", got)
	}
	tok, err = session.Decoder{}.Decode(j.rawPay)
	if err != nil || !reflect.DeepEqual(tok.Active.Permissions, s.Permissions) {
		t.Errorf("decoded permissions %v, %v", tok.Active.Permissions, err)
	}
	j = splitJWT(t, iss.Token(session.ActiveSession{}, jwkstest.WithIDNameObjects()))
	if mustJSON(j.payload[ns+"permissions"]) != "[]" {
		t.Errorf("empty permissions as objects = %v", j.payload[ns+"permissions"])
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestSigningToken(t *testing.T) {
	iss := jwkstest.New("https://idp.example.test")
	defer iss.Close()
	iss.SetClock(jwkstest.NewClock(t0))
	s := session.SigningSession{
		ProfileID:  "p1",
		DocumentID: "doc-1",
		Role:       "Recipient 1",
		Email:      "signer@example.com",
		AccessKey:  session.AccessKey{ID: "ak1", Type: "email"},
	}
	j := splitJWT(t, iss.SigningToken(s))
	ns := "https://verdocs.com/"
	if len(j.payload) != 9 || j.payload[ns+"document_id"] != "doc-1" || j.payload["iss"] != "https://idp.example.test" ||
		j.payload["aud"] != jwkstest.DefaultAudience || mustJSON(j.payload[ns+"access_key"]) != `{"id":"ak1","type":"email"}` {
		t.Errorf("payload %s", j.rawPay)
	}
	tok, err := session.Decoder{}.Decode(j.rawPay)
	if err != nil {
		t.Fatal(err)
	}
	want := s
	want.Iss, want.Aud = "https://idp.example.test", session.Audience{jwkstest.DefaultAudience}
	want.IssuedAt, want.ExpiresAt = t0.Unix(), t0.Add(time.Hour).Unix()
	if tok.Kind != session.KindSigning || !reflect.DeepEqual(tok.Signing, want) {
		t.Errorf("decoded\n got %+v\nwant %+v", tok.Signing, want)
	}

	// The session's own iss, aud, iat and exp are used; no namespace.
	s2 := session.SigningSession{DocumentID: "", Iss: "https://other", Aud: session.Audience{"a", "b"}, IssuedAt: 5, ExpiresAt: 6}
	j = splitJWT(t, iss.SigningToken(s2, jwkstest.WithNamespace("")))
	if got := string(j.rawPay); got != `{"aud":["a","b"],"document_id":"","exp":6,"iat":5,"iss":"https://other"}` {
		t.Errorf("payload %s", got)
	}
}

func TestTokenOptions(t *testing.T) {
	clock := jwkstest.NewClock(t0)
	iss := jwkstest.New("https://idp.example.test")
	defer iss.Close()
	iss.SetClock(clock)
	es := iss.AddKey(jwkstest.ES256)
	ns := "https://verdocs.com/"
	s := session.ActiveSession{Sub: "u1", Roles: []session.Role{{ID: "owner"}}}

	type check func(t *testing.T, j jwt)
	claim := func(name, want string) check {
		return func(t *testing.T, j jwt) {
			t.Helper()
			v, ok := j.payload[name]
			got := "<absent>"
			if ok {
				got = mustJSON(v)
			}
			if got != want {
				t.Errorf("claim %s = %s, want %s", name, got, want)
			}
		}
	}
	header := func(name, want string) check {
		return func(t *testing.T, j jwt) {
			t.Helper()
			v, ok := j.header[name]
			got := "<absent>"
			if ok {
				got = mustJSON(v)
			}
			if got != want {
				t.Errorf("header %s = %s, want %s", name, got, want)
			}
		}
	}
	signedBy := func(kid, alg string) check {
		return func(t *testing.T, j jwt) {
			t.Helper()
			k, _ := iss.Key(kid)
			if err := verifySig(alg, k.Public(), j.input, j.sig); err != nil {
				t.Errorf("not signed by %s: %v", kid, err)
			}
		}
	}
	rsKID := iss.SigningKey().KID

	tests := []struct {
		name   string
		opts   []jwkstest.Option
		checks []check
	}{
		{"defaults", nil, []check{claim("iss", `"https://idp.example.test"`), claim("aud", `"https://api.example.test"`),
			claim("nbf", "<absent>"), header("typ", `"JWT"`), header("alg", `"RS256"`), header("kid", `"`+rsKID+`"`), signedBy(rsKID, "RS256")}},
		{"issuer", []jwkstest.Option{jwkstest.WithIssuer("https://evil")}, []check{claim("iss", `"https://evil"`)}},
		{"one audience", []jwkstest.Option{jwkstest.WithAudience("a")}, []check{claim("aud", `"a"`)}},
		{"audiences", []jwkstest.Option{jwkstest.WithAudience("a", "b")}, []check{claim("aud", `["a","b"]`)}},
		{"no audience", []jwkstest.Option{jwkstest.WithAudience()}, []check{claim("aud", `[]`)}},
		{"subject", []jwkstest.Option{jwkstest.WithSubject("u2")}, []check{claim("sub", `"u2"`)}},
		{"exp", []jwkstest.Option{jwkstest.WithExpiresAt(t0.Add(time.Minute))}, []check{claim("exp", "1893553505"), claim("iat", "1893553445")}},
		{"expires in", []jwkstest.Option{jwkstest.WithExpiresIn(-time.Second)}, []check{claim("exp", "1893553444")}},
		{"nbf", []jwkstest.Option{jwkstest.WithNotBefore(t0.Add(time.Hour))}, []check{claim("nbf", "1893557045")}},
		{"iat", []jwkstest.Option{jwkstest.WithIssuedAt(t0.Add(-time.Hour))}, []check{claim("iat", "1893549845"), claim("exp", "1893557045")}},
		{"claim", []jwkstest.Option{jwkstest.WithClaim("exp", "soon"), jwkstest.WithClaim("x", nil)}, []check{claim("exp", `"soon"`), claim("x", "null")}},
		{"namespaced claim", []jwkstest.Option{jwkstest.WithClaim(ns+"roles", []string{"admin"})}, []check{claim(ns+"roles", `["admin"]`)}},
		{"without", []jwkstest.Option{jwkstest.WithoutClaims("exp", "iss", ns+"roles")}, []check{claim("exp", "<absent>"), claim("iss", "<absent>"), claim(ns+"roles", "<absent>"), claim("sub", `"u1"`)}},
		{"order matters", []jwkstest.Option{jwkstest.WithoutClaims("aud"), jwkstest.WithAudience("late")}, []check{claim("aud", `"late"`)}},
		{"namespace", []jwkstest.Option{jwkstest.WithNamespace("https://other.example/")}, []check{claim("https://other.example/roles", `["owner"]`), claim(ns+"roles", "<absent>")}},
		{"no namespace", []jwkstest.Option{jwkstest.WithNamespace("")}, []check{claim("roles", `["owner"]`), claim(ns+"roles", "<absent>")}},
		{"key", []jwkstest.Option{jwkstest.WithKey(es)}, []check{header("alg", `"ES256"`), header("kid", `"`+es+`"`), signedBy(es, "ES256")}},
		{"kid only", []jwkstest.Option{jwkstest.WithKID(es)}, []check{header("kid", `"`+es+`"`), header("alg", `"RS256"`), signedBy(rsKID, "RS256")}},
		{"alg only", []jwkstest.Option{jwkstest.WithAlg("HS256")}, []check{header("alg", `"HS256"`), signedBy(rsKID, "RS256")}},
		{"typ", []jwkstest.Option{jwkstest.WithTyp("at+jwt")}, []check{header("typ", `"at+jwt"`)}},
		{"header params", []jwkstest.Option{jwkstest.WithHeader("jku", "https://evil/jwks"), jwkstest.WithHeader("crit", []string{"exp"}),
			jwkstest.WithHeader("jwk", map[string]any{"kty": "oct"})},
			[]check{header("jku", `"https://evil/jwks"`), header("crit", `["exp"]`), header("jwk", `{"kty":"oct"}`)}},
		{"without header", []jwkstest.Option{jwkstest.WithoutHeader("kid", "typ")}, []check{header("kid", "<absent>"), header("typ", "<absent>"), header("alg", `"RS256"`)}},
		{"nil option ignored", []jwkstest.Option{nil}, []check{signedBy(rsKID, "RS256")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := splitJWT(t, iss.Token(s, tt.opts...))
			for _, c := range tt.checks {
				c(t, j)
			}
		})
	}
}

func TestUnsignedAndCustomSignatures(t *testing.T) {
	iss := jwkstest.New("https://idp.example.test")
	defer iss.Close()

	tok := iss.RawToken(map[string]any{"sub": "x"}, jwkstest.WithAlg("none"), jwkstest.WithoutSignature())
	if !strings.HasSuffix(tok, ".") || strings.Count(tok, ".") != 2 {
		t.Errorf("unsigned token %q", tok)
	}
	if j := splitJWT(t, tok); j.header["alg"] != "none" || len(j.sig) != 0 {
		t.Errorf("header %v, signature %x", j.header, j.sig)
	}

	// HS256 with the public key as the secret: the key-confusion attack.
	secret := []byte(mustJSON(iss.SigningKey().JWK()))
	tok = iss.RawToken(map[string]any{"sub": "x"}, jwkstest.WithAlg("HS256"),
		jwkstest.WithSignatureFunc(func(in []byte) []byte {
			m := hmac.New(sha256.New, secret)
			m.Write(in)
			return m.Sum(nil)
		}))
	j := splitJWT(t, tok)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(j.input))
	if j.header["alg"] != "HS256" || !hmac.Equal(j.sig, m.Sum(nil)) {
		t.Errorf("HS256 token %v", j.header)
	}

	// A nil func restores normal signing.
	j = splitJWT(t, iss.RawToken(nil, jwkstest.WithoutSignature(), jwkstest.WithSignatureFunc(nil)))
	if err := verifySig("RS256", iss.SigningKey().Public(), j.input, j.sig); err != nil {
		t.Error(err)
	}
}

func TestRawTokenAndSign(t *testing.T) {
	iss := jwkstest.New("https://idp.example.test")
	defer iss.Close()
	claims := map[string]any{"sub": "x", "n": 1}
	j := splitJWT(t, iss.RawToken(claims, jwkstest.WithClaim("extra", true)))
	if string(j.rawPay) != `{"extra":true,"n":1,"sub":"x"}` {
		t.Errorf("payload %s", j.rawPay)
	}
	if len(claims) != 2 {
		t.Errorf("RawToken changed the caller's map: %v", claims)
	}
	if j = splitJWT(t, iss.RawToken(nil)); string(j.rawPay) != `{}` {
		t.Errorf("nil claims: %s", j.rawPay)
	}

	// Sign keeps the bytes exactly, duplicate members and all.
	header := []byte(`{"alg":"RS256","alg":"none"}`)
	payload := []byte(`{"sub":"a", "sub":"b"}`)
	tok := iss.Sign(header, payload)
	parts := strings.Split(tok, ".")
	enc := base64.RawURLEncoding
	if parts[0] != enc.EncodeToString(header) || parts[1] != enc.EncodeToString(payload) {
		t.Errorf("Sign changed the input: %s", tok)
	}
	sig, _ := enc.DecodeString(parts[2])
	if err := verifySig("RS256", iss.SigningKey().Public(), parts[0]+"."+parts[1], sig); err != nil {
		t.Error(err)
	}
	ed := iss.AddKey(jwkstest.EdDSA)
	edKey, _ := iss.Key(ed)
	parts = strings.Split(iss.SignWithKey(ed, header, payload), ".")
	sig, _ = enc.DecodeString(parts[2])
	if err := verifySig("EdDSA", edKey.Public(), parts[0]+"."+parts[1], sig); err != nil {
		t.Error(err)
	}
}

// TestAlgorithmConstants holds the kit's exported algorithm names equal to
// the library's table, in its order: a name the verifier adds or renames
// must show here.
func TestAlgorithmConstants(t *testing.T) {
	want := []string{jwkstest.RS256, jwkstest.RS384, jwkstest.RS512, jwkstest.PS256, jwkstest.PS384, jwkstest.PS512,
		jwkstest.ES256, jwkstest.ES384, jwkstest.ES512, jwkstest.EdDSA, jwkstest.Ed25519}
	if got := jwkstest.Algorithms(); !slices.Equal(got, want) {
		t.Fatalf("Algorithms() = %v, want the constants %v", got, want)
	}
}
