package session

import "encoding/json"

// Claim is a stand-in until the decoder captures claims (v2-session).
func (t *Token) Claim(name string) (json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(t.payload), &m) != nil {
		return nil, false
	}
	v, ok := m[name]
	return v, ok
}
