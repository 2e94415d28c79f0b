package session

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzDecode checks that the decoder never panics and that every session it
// decodes re-encodes to JSON that decodes to an equal session.
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.json")
	for _, name := range seeds {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`{}`, `{"sub":"a","aud":["x","y"],"exp":1,"nbf":2,"iat":3,"jti":"j","iss":"i"}`,
		`{"permissions":[{"id":"a","name":"A"},"b"],"roles":["owner"],"plans":["org:standard"]}`,
		`{"https://verdocs.com/profile":{"organization":{"name":"o","phone":null},"groups":[{"profiles":[{"id":"p"}]}]}}`,
		`{"document_id":"d","access_key":{"id":"k","type":"email"},"role":"r"}`,
		`{"iss":"a","iss":"b"}`, `{"exp":"1"}`, `{"exp":1e18}`, `{"a":1}x`, "{\"sub\":\"\xff\"}",
		// Issue 10: 6.x session kinds (item 4), kind markers (11a), cnf (3),
		// folded names (5), namespaced objects in both orders (6), fractional
		// NumericDates (10).
		`{"aud":"a","iss":"i","sub":"s","iat":1,"exp":2,"session_type":"signing","https://verdocs.com/session_type":"signing",` +
			`"key_type":"email","email":"s@x","profile_id":"p","envelope_id":"e","https://verdocs.com/envelope_id":"e","role_name":"r"}`,
		`{"jti":"j","sid":"s","sub":"u","session_type":"user","https://verdocs.com/session_type":"user","global_admin":true,` +
			`"https://verdocs.com/global_admin":true,"organization_id":"o"}`,
		`{"envelope_id":"e"}`, `{"session_type":"user","envelope_id":"e"}`, `{"session_type":"user","document_id":"d"}`,
		`{"session_type":"admin"}`, `{"document_id":null}`, `{"document_id":""}`, `{"envelope_id":null}`, `{"session_type":""}`,
		`{"cnf":{"jkt":"x"}}`, `{"cnf":{"x5t#S256":"y"}}`, `{"cnf":null}`, `{"cnf":"x"}`,
		`{"sub":"alice","SUB":"admin"}`, `{"sub":"alice","ſub":"admin"}`, `{"exp":1,"EXP":2}`, `{"iss":"a","Iss":"b"}`,
		`{"aud":"a","AUD":"b"}`, `{"key_type":"a","\u212aey_type":"b"}`, `{"SUB":"admin"}`, `{"profile":{"id":"p","ID":"q"}}`,
		`{"profile":{"permissions":["org:delete"],"roles":["owner"],"organization":{"id":"org-other"}},"https://verdocs.com/profile":{"id":"p-real"}}`,
		`{"https://verdocs.com/profile":{"id":"p-real"},"profile":{"permissions":["org:delete"],"roles":["owner"],"organization":{"id":"org-other"}}}`,
		`{"access_key":{"id":"k","type":"email"},"https://verdocs.com/access_key":{"id":"k2"},"document_id":"d"}`,
		`{"exp":1700000000.9,"nbf":1.7e9,"iat":-0.5}`, `{"exp":9007199254740992.5}`, `{"exp":1e-400,"nbf":0e99999}`,
		// Issue 12: mapped paths (item 1) with dotted names, ambiguity in
		// both orders, absent and mistyped values; plain claims next to
		// namespaced ones (2); scopes in every form (3); captured claims
		// (4); white space around values (the readers' fast path).
		`{"realm_access":{"roles":["admin",{"id":"a","name":"A"}]},"scp":"read write","azp":"web","tid":null}`,
		`{"realm_access.roles":["x"],"realm_access":{"roles":["y"]}}`, `{"realm_access":{"roles":["y"]},"realm_access.roles":["x"]}`,
		`{"realm_access":{"roles.x":1,"roles":{"x":2}}}`, `{"realm_access":"admin"}`, `{"realm_access":{"roles":5}}`,
		`{"realm_access":null,"scp":["a","b"],"scope":"b a"}`, `{"a":{"b":"gold  silver"},"scp":"p q"}`,
		`{"roles":["owner"],"https://verdocs.com/roles":["member"],"document_id":"d","email":"e"}`,
		`{"session_type":"signing","https://verdocs.com/session_type":"user"}`,
		`{"scope":"a  b","scp":["b","a",""]}`, `{"scope":"a","scp":"b"}`, `{"scope":["a"]}`, `{"scp":["a b"]}`, `{"scp":{}}`,
		`{"azp" : "w" , "ext" : { "k" : [ 1 , null ] } , "tid":"t\u00e9"}`, `{"AZP":"x","Realm_Access":{}}`,
		` { "sub" : "u" , "email_verified" : true , "aud" : [ "a" ] , "exp" : 1 } `,
	} {
		f.Add([]byte(s))
	}
	// Issuers' decoders with the issue 12 knobs set: their verdicts are
	// checked below next to the default decoder's. The first refuses
	// most payloads (the mapped paths are missing), the second few.
	issuers := []Decoder{
		{NamespacedOnly: true, Roles: "realm_access.roles", Permissions: "scp", Plans: "a.b", Capture: []string{"azp", "tid", "ext", "scope"}},
		{NamespacedOnly: true, Capture: []string{"azp", "tid", "ext", "sub", "roles"}},
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		tok, err := Decoder{}.Decode(payload)
		for _, issuer := range issuers {
			mapped, merr := issuer.Decode(payload)
			if merr != nil {
				continue
			}
			if !json.Valid(payload) {
				t.Fatalf("issuer decoder decoded a payload encoding/json rejects: %q", payload)
			}
			for _, name := range issuer.Capture {
				if raw, ok := mapped.Claim(name); ok && !json.Valid(raw) {
					t.Fatalf("captured %s is not JSON: %q", name, raw)
				}
			}
			checkScopes(t, mapped.Scopes)
			if err == nil && (!slices.Equal(mapped.Scopes, tok.Scopes) || !reflect.DeepEqual(mapped.Registered, tok.Registered)) {
				t.Fatalf("scopes or registered claims depend on the mapping: %v %v", mapped.Scopes, tok.Scopes)
			}
		}
		if err != nil {
			return
		}
		checkScopes(t, tok.Scopes)
		if !json.Valid(payload) {
			t.Fatalf("decoded a payload encoding/json rejects: %q", payload)
		}
		// Token.Claims sees the registered claims the decoder read.
		var c struct {
			Iss string   `json:"iss"`
			Sub string   `json:"sub"`
			Jti string   `json:"jti"`
			Aud Audience `json:"aud"`
		}
		if err := tok.Claims(&c); err != nil {
			t.Fatalf("Claims: %v", err)
		}
		r := tok.Registered
		if c.Iss != r.Issuer || c.Sub != r.Subject || c.Jti != r.ID || !slices.Equal(c.Aud, r.Audience) {
			t.Fatalf("Claims saw %+v, the decoder %+v", c, r)
		}
		// The exact instants agree with the rounded-down seconds.
		if r.Has(ClaimExp) && r.ExpiresAtTime().Unix() != r.ExpiresAt {
			t.Fatalf("exp %d, instant %v", r.ExpiresAt, r.ExpiresAtTime())
		}
		b, err := json.Marshal(tok.Active)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var back ActiveSession
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("re-decode of %s: %v", b, err)
		}
		b2, err := json.Marshal(back)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != string(b2) {
			t.Fatalf("round trip changed the session:\n%s\n%s", b, b2)
		}
	})
}

// checkScopes fails for an empty scope or one holding a space.
func checkScopes(t *testing.T, scopes []string) {
	t.Helper()
	for _, s := range scopes {
		if s == "" || strings.Contains(s, " ") {
			t.Fatalf("scopes %q", scopes)
		}
	}
}
