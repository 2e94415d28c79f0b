package middleware

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPeekIssuer(t *testing.T) {
	tests := []struct {
		payload string
		want    string
		ok      bool
	}{
		{`{"iss":"https://a"}`, "https://a", true},
		{` { "sub" : "x" , "iss" : "https://a" } `, "https://a", true},
		{`{"aud":["a","b"],"x":{"iss":"inner"},"iss":"outer"}`, "outer", true},
		{`{"x":"a \"iss\":\"fake\" b","iss":"real"}`, "real", true},
		{`{"x":"\\","iss":"after a backslash"}`, "after a backslash", true},
		{`{"iss":"https:\/\/a"}`, "https://a", true},
		{`{"iss":"\u0068ttps://a"}`, "https://a", true},
		{`{"\u0069ss":"escaped name does not count"}`, "", false},
		{`{"iss":1}`, "", false},
		{`{"iss":null}`, "", false},
		{`{"sub":"x"}`, "", false},
		{`{"x":[1,2,{"y":[]}],"n":-1.5e3,"t":true,"iss":"deep skip"}`, "deep skip", true},
		{`[]`, "", false},
		{`{"x":"unterminated`, "", false},
		{`{"x":[1,2}`, "", false},
		{``, "", false},
		{`{"iss":"a","iss":"b"}`, "a", true}, // the first; the strict decode refuses the duplicate
	}
	for _, tt := range tests {
		got, ok := peekIssuer(tt.payload)
		if got != tt.want || ok != tt.ok {
			t.Errorf("peekIssuer(%s) = %q, %v; want %q, %v", tt.payload, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzPeekIssuer: never panics; on any valid UTF-8 payload that
// encoding/json reads as an object with one "iss" string and no escaped
// member names, it finds that iss (invalid UTF-8 is refused by the strict
// decode after the signature anyway).
func FuzzPeekIssuer(f *testing.F) {
	for _, s := range []string{`{"iss":"https://a"}`, `{"a":{"iss":"x"},"iss":"y"}`, `{"x":"\"iss\":","iss":"z"}`,
		`{"iss":"\u00e9"}`, `{"a":[{"b":"]"}],"iss":"q"}`, `{"iss"`, `{"iss":`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		got, ok := peekIssuer(payload)
		var m map[string]json.RawMessage
		if !utf8.ValidString(payload) || json.Unmarshal([]byte(payload), &m) != nil || strings.Contains(payload, `\`) && strings.Count(payload, `"iss"`) == 0 {
			return
		}
		raw, has := m["iss"]
		var iss string
		if !has || json.Unmarshal(raw, &iss) != nil || strings.Count(payload, `"iss"`) != 1 || foldedNames(m) {
			return
		}
		if !ok || got != iss {
			t.Fatalf("peekIssuer(%q) = %q, %v; want %q", payload, got, ok, iss)
		}
	})
}

// foldedNames reports names encoding/json would have merged with "iss".
func foldedNames(m map[string]json.RawMessage) bool {
	for k := range m {
		if k != "iss" && strings.EqualFold(k, "iss") {
			return true
		}
	}
	return len(m) == 0
}
