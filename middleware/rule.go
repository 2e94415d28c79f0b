package middleware

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/sessiongate/sessiongate/session"
)

// A Rule is a check an issuer's policy applies at authentication time
// ([Issuer.Require]): a token that fails it is refused with 401
// invalid_token before it is cached, and the error wraps [ErrRule]. Build
// rules with [ClaimIn] for required claim values and [Check] for the rest;
// the zero Rule is refused by New.
type Rule struct {
	claim string // a top-level claim the decoder keeps for the rule, or ""
	desc  string // the client-safe error_description
	check func(*session.Token) bool
}

// ClaimIn requires the top-level claim name to hold one of values, compared
// as JSON values (a string, a bool or a number: ClaimIn("azp", "web", "cli"),
// ClaimIn("email_verified", true)). A claim that is an array passes when one
// of its items is one of values (ClaimIn("amr", "mfa")). An absent or null
// claim fails. It panics when values is empty or holds something JSON
// cannot encode: a programming error caught at setup.
func ClaimIn(name string, values ...any) Rule {
	if name == "" || len(values) == 0 {
		panic("middleware: ClaimIn needs a claim name and at least one value")
	}
	want := make([][]byte, len(values))
	for i, v := range values {
		b, err := json.Marshal(v)
		if err != nil || len(b) == 0 || b[0] == '{' || b[0] == '[' || string(b) == "null" {
			panic(fmt.Sprintf("middleware: ClaimIn(%q): value %v is not a JSON string, bool or number", name, v))
		}
		want[i] = canonical(b)
	}
	return Rule{claim: name, desc: "claim " + name + " not allowed", check: func(t *session.Token) bool {
		raw, ok := t.Claim(name)
		if !ok {
			return false
		}
		var items []json.RawMessage
		if len(raw) > 0 && raw[0] == '[' {
			if json.Unmarshal(raw, &items) != nil {
				return false
			}
		} else {
			items = []json.RawMessage{raw}
		}
		for _, it := range items {
			got := canonical(it)
			for _, w := range want {
				if bytes.Equal(got, w) {
					return true
				}
			}
		}
		return false
	}}
}

// canonical re-encodes one JSON scalar, so that "a" and "\u0061", or 1 and
// 1.0, compare equal.
func canonical(raw []byte) []byte {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return nil
	}
	if n, ok := v.(json.Number); ok {
		if f, err := n.Float64(); err == nil {
			v = f
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// Check is a rule of your own: ok is called with the decoded token (its
// session, registered claims, scopes and [session.Token.Claims] for the
// rest) and reports whether the token passes; desc is the
// error_description a refused client sees, so it must hold nothing secret
// ("organization suspended"). ok runs once per token, before the token is
// cached. It panics when ok is nil.
func Check(desc string, ok func(*session.Token) bool) Rule {
	if ok == nil {
		panic("middleware: Check needs a non-nil function")
	}
	if desc == "" {
		desc = reasons[ErrRule].desc
	}
	return Rule{desc: desc, check: ok}
}
