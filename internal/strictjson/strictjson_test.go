package strictjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	tooDeep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	var many strings.Builder
	many.WriteString("{")
	for i := range 200 {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`"k` + strings.Repeat("x", i) + `":1`)
	}
	manyOK := many.String() + "}"
	manyDup := many.String() + `,"kxxxxx":2}`

	tests := []struct {
		name string
		in   string
		want error // nil: valid
	}{
		{"object", `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, nil},
		{"spaces around", " \t\r\n{}\n ", nil},
		{"escapes", `{"a\"b":"\u00e9\ud83d\ude00\n\/"}`, nil},
		{"numbers", `[0,-0,1.5,-2e10,3E+2,4e-2,123456789012345678901234567890]`, nil},
		{"deep", deep, nil},
		{"many names", manyOK, nil},
		{"empty name", `{"":1}`, nil},
		{"duplicate", `{"iss":"a","iss":"b"}`, ErrDuplicateName},
		{"duplicate after unescape", `{"iss":"a","i\u0073s":"b"}`, ErrDuplicateName},
		{"duplicate nested", `{"a":{"x":1,"x":2}}`, ErrDuplicateName},
		{"same name in sibling objects", `[{"x":1},{"x":2}]`, nil},
		{"same name at two levels", `{"x":{"x":1}}`, nil},
		{"duplicate in big object", manyDup, ErrDuplicateName},
		{"trailing data", `{"a":1}x`, ErrTrailingData},
		{"two values", `{} {}`, ErrTrailingData},
		{"too deep", tooDeep, ErrTooDeep},
		{"invalid utf8", "{\"a\":\"\xff\"}", ErrInvalidUTF8},
		{"overlong utf8", "{\"a\":\"\xc0\xaf\"}", ErrInvalidUTF8},
		{"lone high surrogate", `{"a":"\ud800"}`, ErrInvalidUTF8},
		{"lone low surrogate", `{"a":"\udc00"}`, ErrInvalidUTF8},
		{"reversed surrogates", `{"a":"\udc00\ud800"}`, ErrInvalidUTF8},
		{"control char", "{\"a\":\"\n\"}", ErrSyntax},
		{"bad escape", `{"a":"\x"}`, ErrSyntax},
		{"short unicode escape", `{"a":"\u12"}`, ErrSyntax},
		{"leading zero", `[01]`, ErrSyntax},
		{"plus sign", `[+1]`, ErrSyntax},
		{"bare dot", `[1.]`, ErrSyntax},
		{"NaN", `[NaN]`, ErrSyntax},
		{"trailing comma", `[1,]`, ErrSyntax},
		{"trailing comma object", `{"a":1,}`, ErrSyntax},
		{"missing colon", `{"a" 1}`, ErrSyntax},
		{"single quotes", `{'a':1}`, ErrSyntax},
		{"truex", `[truex]`, ErrSyntax},
		{"unterminated", `{"a":1`, ErrSyntax},
		{"empty", ``, ErrSyntax},
		{"comment", `{/*c*/}`, ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Valid([]byte(tt.in))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Valid(%q) = %v, want nil", tt.in, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Valid(%q) = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func TestTypedReads(t *testing.T) {
	src := `{"s":"plain","e":"caf\u00e9","n":12.5,"b":true,"z":null,"a":["x"]}`
	var d Decoder
	d.Reset([]byte(src))
	got := map[string]any{}
	if !d.BeginObject() {
		t.Fatal(d.Err())
	}
	for d.More() {
		name := string(d.Name())
		switch name {
		case "s", "e":
			v, _ := d.StringIn(src)
			got[name] = v
		case "n":
			v, _ := d.Float()
			got[name] = v
		case "b":
			v, _ := d.Bool()
			got[name] = v
		case "z":
			got[name] = d.Null()
		case "a":
			d.BeginArray()
			for d.More() {
				v, _ := d.String()
				got[name] = v
			}
		}
	}
	if err := d.End(); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"s": "plain", "e": "café", "n": 12.5, "b": true, "z": true, "a": "x"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
}

func TestWrongType(t *testing.T) {
	var d Decoder
	d.Reset([]byte(`{"a":1}`))
	d.BeginObject()
	d.More()
	d.Name()
	if _, ok := d.String(); ok {
		t.Fatal("String on a number succeeded")
	}
	if !errors.Is(d.Err(), ErrType) {
		t.Fatalf("err = %v, want ErrType", d.Err())
	}
	d.Reset([]byte(`[1]`))
	if d.BeginObject() || !errors.Is(d.Err(), ErrType) {
		t.Fatalf("BeginObject on array: err = %v, want ErrType", d.Err())
	}
}

func TestDecoderDoesNotAllocate(t *testing.T) {
	src := []byte(`{"iss":"https://issuer.example/","aud":["a","b"],"exp":1700000000,"nested":{"x":[1,2,{"y":null}]}}`)
	allocs := testing.AllocsPerRun(100, func() {
		if err := Valid(src); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Valid allocated %v times per run, want 0", allocs)
	}
}

// FuzzValid checks that the strict reader never panics, accepts only what
// encoding/json also accepts, and that everything it accepts without
// duplicate names is accepted by encoding/json.
func FuzzValid(f *testing.F) {
	for _, s := range []string{
		`{"a":1}`, `[1,2,3]`, `{"a":{"b":[null,true,false,"x\u00e9"]}}`, `"\ud83d\ude00"`,
		`{"a":1,"a":2}`, "{\"a\":\"\xff\"}", `{"a":"\ud800"}`, `1e999`, `-0.0e-0`, `{"a":1}  `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Valid(data)
		if err == nil && !json.Valid(data) {
			t.Fatalf("strict reader accepted what encoding/json rejects: %q", data)
		}
		if err != nil && json.Valid(data) &&
			!errors.Is(err, ErrDuplicateName) && !errors.Is(err, ErrInvalidUTF8) && !errors.Is(err, ErrTooDeep) {
			t.Fatalf("strict reader rejected valid JSON %q: %v", data, err)
		}
	})
}
