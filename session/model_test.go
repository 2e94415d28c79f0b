package session

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sample returns JSON that decodes to a non-zero value of type t.
func sample(t *testing.T, typ reflect.Type, name string) string {
	t.Helper()
	switch typ {
	case reflect.TypeFor[string](), reflect.TypeFor[*string](), reflect.TypeFor[Audience](), reflect.TypeFor[Plan]():
		if name == "session_type" {
			return `"signing"` // the only value a signing session may have
		}
		return `"v-` + name + `"`
	case reflect.TypeFor[bool]():
		return `true`
	case reflect.TypeFor[int64]():
		return `7`
	}
	switch typ.Kind() {
	case reflect.Slice:
		return `[` + sample(t, typ.Elem(), name) + `]`
	case reflect.Struct:
		f := typ.Field(0)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		return `{"` + tag + `":` + sample(t, f.Type, tag) + `}`
	}
	t.Fatalf("no sample for %v", typ)
	return ""
}

// eachField calls fn with the JSON name and index of every exported field
// of typ, failing for one without a json tag.
func eachField(t *testing.T, typ reflect.Type, fn func(name string, i int, f reflect.StructField)) {
	t.Helper()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		require.NotEmpty(t, name, "%v.%s has no json tag", typ, f.Name)
		fn(name, i, f)
	}
}

// Issue 12 item 5: every tagged field of the session model decodes, in a
// token and (ActiveSession) through UnmarshalJSON; a field added to a model
// type without a reader fails here (and panics at initialization).
func TestEveryModelFieldDecodes(t *testing.T) {
	const ns = verdocsNamespace
	registered := map[string]bool{"sub": true, "iat": true, "exp": true, "iss": true, "aud": true}
	nested := []struct {
		typ  reflect.Type
		wrap func(member string) string // the token around one member
		get  func(tok *Token) reflect.Value
	}{
		{reflect.TypeFor[Profile](), func(m string) string { return `{"profile":{` + m + `}}` },
			func(tok *Token) reflect.Value { return reflect.ValueOf(tok.Active.Profile) }},
		{reflect.TypeFor[Organization](), func(m string) string { return `{"profile":{"organization":{` + m + `}}}` },
			func(tok *Token) reflect.Value { return reflect.ValueOf(tok.Active.Profile.Organization) }},
		{reflect.TypeFor[Group](), func(m string) string { return `{"profile":{"groups":[{` + m + `}]}}` },
			func(tok *Token) reflect.Value { return reflect.ValueOf(tok.Active.Profile.Groups[0]) }},
		{reflect.TypeFor[AccessKey](), func(m string) string { return `{"document_id":"d","access_key":{` + m + `}}` },
			func(tok *Token) reflect.Value { return reflect.ValueOf(tok.Signing.AccessKey) }},
		{reflect.TypeFor[ActiveSession](), func(m string) string { return `{` + m + `}` },
			func(tok *Token) reflect.Value { return reflect.ValueOf(tok.Active) }},
		{reflect.TypeFor[SigningSession](), func(m string) string { return `{"document_id":"d",` + m + `}` },
			func(tok *Token) reflect.Value { return reflect.ValueOf(tok.Signing) }},
	}
	for _, tt := range nested {
		eachField(t, tt.typ, func(name string, i int, f reflect.StructField) {
			member := `"` + name + `":` + sample(t, f.Type, name)
			spellings := []string{member}
			if (tt.typ == reflect.TypeFor[ActiveSession]() || tt.typ == reflect.TypeFor[SigningSession]()) && !registered[name] {
				spellings = append(spellings, `"`+ns+name+`":`+sample(t, f.Type, name))
			}
			for _, m := range spellings {
				payload := tt.wrap(m)
				if tt.typ == reflect.TypeFor[SigningSession]() && name == "document_id" {
					payload = `{` + m + `}`
				}
				t.Run(tt.typ.Name()+"/"+payload, func(t *testing.T) {
					tok, err := Decoder{}.Decode([]byte(payload))
					require.NoError(t, err)
					assert.False(t, tt.get(tok).Field(i).IsZero(), "%s.%s stayed zero", tt.typ.Name(), f.Name)
				})
			}
		})
	}
	eachField(t, reflect.TypeFor[ActiveSession](), func(name string, i int, f reflect.StructField) {
		payload := `{"` + name + `":` + sample(t, f.Type, name) + `}`
		t.Run("UnmarshalJSON/"+payload, func(t *testing.T) {
			var s ActiveSession
			require.NoError(t, json.Unmarshal([]byte(payload), &s))
			assert.False(t, reflect.ValueOf(s).Field(i).IsZero(), "ActiveSession.%s stayed zero", f.Name)
		})
	})
}

// The tables refuse a model they could not read whole.
func TestBuildModelsRefuses(t *testing.T) {
	type untagged struct{ X string }
	type unsupported struct {
		M map[string]string `json:"m"`
	}
	type ignored struct {
		A string `json:"a"`
		b string
	}
	assert.PanicsWithValue(t, "session: model field untagged.X has no JSON name",
		func() { buildModels(reflect.TypeFor[untagged]()) })
	assert.PanicsWithValue(t, "session: no reader for model field unsupported.M of type map[string]string",
		func() { buildModels(reflect.TypeFor[unsupported]()) })
	m := buildModels(reflect.TypeFor[ignored]())[reflect.TypeFor[ignored]()]
	require.Len(t, m.fields, 1)
	assert.Equal(t, "a", m.names)
	_ = ignored{}.b
}

// The tables find every field by name and nothing else.
func TestModelFind(t *testing.T) {
	for typ, m := range models {
		for i := range m.fields {
			f := &m.fields[i]
			assert.Same(t, f, m.find([]byte(f.name)), "%v %s", typ, f.name)
			for _, other := range []string{f.name + "x", f.name[1:], strings.ToUpper(f.name), f.name[:len(f.name)-1] + "_"} {
				if g := m.find([]byte(other)); g != nil {
					assert.Equal(t, other, g.name)
				}
			}
		}
		assert.Nil(t, m.find(nil))
		assert.Nil(t, m.find([]byte("a_name_longer_than_sixteen_bytes")))
	}
	// Names longer than 16 bytes share the last length bucket and compare
	// in full.
	type long struct {
		A string `json:"envelope_responsible"`
		B string `json:"envelope_responsibly"`
		C string `json:"a_name_longer_than_twenty_four_bytes"`
	}
	m := buildModels(reflect.TypeFor[long]())[reflect.TypeFor[long]()]
	for _, n := range []string{"envelope_responsible", "envelope_responsibly", "a_name_longer_than_twenty_four_bytes"} {
		require.NotNil(t, m.find([]byte(n)), n)
		assert.Equal(t, n, m.find([]byte(n)).name)
	}
	assert.Nil(t, m.find([]byte("envelope_responsiblx")))
	assert.Nil(t, m.find([]byte("envelope_Xesponsible")))
}

// Issue 12 item 6: json.Unmarshal of an ActiveSession reads the model's
// own shape, not a token's.
func TestActiveSessionUnmarshalShape(t *testing.T) {
	const ns = verdocsNamespace
	tests := []struct {
		name string
		in   string
		want ActiveSession
	}{
		{"plain shape", `{"sub":"u","email":"a@b","permissions":[{"id":"p","name":"P"}],"roles":["owner"],"plans":["x"],"iat":1,"exp":2}`,
			ActiveSession{Sub: "u", Email: "a@b", Permissions: []Permission{{"p", "P"}}, Roles: []Role{{"owner", "owner"}},
				Plans: []Plan{"x"}, IssuedAt: 1, ExpiresAt: 2}},
		{"namespaced names are unknown members", `{"` + ns + `email":"evil@x","` + ns + `roles":["owner"],"email":"a@b"}`,
			ActiveSession{Email: "a@b"}},
		{"token-only claims are unknown members", `{"document_id":"d","session_type":"admin","aud":1,"iss":{}}`, ActiveSession{}},
		{"empty arrays are nil", `{"permissions":[],"roles":[],"plans":[]}`, ActiveSession{}},
		{"profile", `{"profile":{"id":"p","organization":{"name":"o"}}}`,
			ActiveSession{Profile: Profile{ID: "p", Organization: Organization{Name: "o"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ActiveSession{Sub: "old", Roles: []Role{{"stale", "stale"}}}
			require.NoError(t, json.Unmarshal([]byte(tt.in), &s))
			assert.Equal(t, tt.want, s, "replaces the whole session")
		})
	}
	s := ActiveSession{Sub: "kept"}
	require.NoError(t, s.UnmarshalJSON([]byte("null")))
	assert.Equal(t, "kept", s.Sub)

	errs := []struct {
		name, in string
		want     error
		claim    string
		field    string
	}{
		{"wrong type", `{"sub":1}`, ErrClaimType, "sub", ""},
		{"nested wrong type", `{"profile":{"organization":{"name":1}}}`, ErrClaimType, "profile", "organization.name"},
		{"role item", `{"roles":[1]}`, ErrClaimType, "roles", ""},
		{"folded name", `{"sub":"a","SUB":"b"}`, ErrFoldedName, "", ""},
		{"lone folded name", `{"Email":"a"}`, ErrFoldedName, "", ""},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			var s ActiveSession
			err := json.Unmarshal([]byte(tt.in), &s)
			require.ErrorIs(t, err, tt.want)
			if tt.claim != "" {
				var ce *ClaimError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, tt.claim, ce.Claim)
				assert.Equal(t, tt.field, ce.Field)
			}
		})
	}
	// Direct calls see the strict reader's own verdicts on the JSON itself.
	assert.ErrorIs(t, s.UnmarshalJSON([]byte(`{"sub":"a","sub":"b"}`)), ErrMalformed)
	assert.ErrorIs(t, s.UnmarshalJSON([]byte(`[]`)), ErrMalformed)
}
