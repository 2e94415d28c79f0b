package session

import (
	"encoding/json"
	"os"
	"path/filepath"
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
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		tok, err := Decoder{}.Decode(payload)
		if err != nil {
			return
		}
		if !json.Valid(payload) {
			t.Fatalf("decoded a payload encoding/json rejects: %q", payload)
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
