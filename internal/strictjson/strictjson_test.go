package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Valid (for the tests) reports whether data is one strict JSON value (as [Decoder] defines
// strict), returning the reason when it is not.
func Valid(data []byte) error {
	var d Decoder
	d.Reset(data)
	d.Skip()
	return d.End()
}

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

// validFolded is Valid with RejectFoldedNames.
func validFolded(data []byte) error {
	var d Decoder
	d.Reset(data)
	d.RejectFoldedNames()
	d.Skip()
	return d.End()
}

func TestRejectFoldedNames(t *testing.T) {
	big := func(extra string) string {
		var b strings.Builder
		b.WriteString(`{"sub":1`)
		for i := range 60 {
			b.WriteString(`,"k` + strings.Repeat("x", i) + `":1`)
		}
		return b.String() + extra + "}"
	}
	tests := []struct {
		name string
		in   string
		want error // with RejectFoldedNames; nil: valid
	}{
		{"upper-case", `{"sub":"alice","SUB":"admin"}`, ErrFoldedName},
		{"upper-case first", `{"SUB":"admin","sub":"alice"}`, ErrFoldedName},
		{"title case", `{"iss":"a","Iss":"b"}`, ErrFoldedName},
		{"long s U+017F", `{"sub":"alice","ſub":"admin"}`, ErrFoldedName},
		{"long s escaped", `{"sub":"alice","\u017fub":"admin"}`, ErrFoldedName},
		{"Kelvin sign U+212A", `{"kid":"a","\u212aid":"b"}`, ErrFoldedName},
		{"two foldable names", `{"EXP":1,"Exp":2}`, ErrFoldedName},
		{"plain after foldable", `{"x":1,"AUD":"a","y":2,"aud":"b"}`, ErrFoldedName},
		{"nested object", `{"profile":{"id":"p","ID":"q"}}`, ErrFoldedName},
		{"object in array", `[{"a":1},{"b":1,"B":2}]`, ErrFoldedName},
		{"in a big object", big(`,"SUB":2`), ErrFoldedName},
		{"long s in a big object", big(`,"ſub":2`), ErrFoldedName},
		{"exact duplicate still a duplicate", `{"SUB":1,"SUB":2}`, ErrDuplicateName},
		{"exact duplicate in a big object", big(`,"sub":2`), ErrDuplicateName},
		{"distinct names", `{"sub":"a","subject":"b","SUBJECT2":1}`, nil},
		{"same folded name in sibling objects", `[{"x":1},{"X":2}]`, nil},
		{"same folded name at two levels", `{"x":{"X":1}}`, nil},
		{"big object of distinct names", big(`,"SUB2":2,"ſubject":1`), nil},
		{"non-ASCII without folding partner", `{"é":1,"e":2,"日本":3}`, nil},
		{"E acute folds to e acute", `{"é":1,"É":2}`, ErrFoldedName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validFolded([]byte(tt.in))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("validFolded(%q) = %v, want nil", tt.in, err)
				}
			} else if !errors.Is(err, tt.want) {
				t.Fatalf("validFolded(%q) = %v, want %v", tt.in, err, tt.want)
			}
			// Without the option only exact duplicates are refused.
			if err := Valid([]byte(tt.in)); errors.Is(err, ErrFoldedName) || (err != nil) != (tt.want == ErrDuplicateName) {
				t.Fatalf("Valid(%q) = %v", tt.in, err)
			}
		})
	}
}

// TestFoldMatchesEncodingJSON checks the fold against encoding/json itself:
// a name the decoder calls equal to "sub" under folding is one that
// encoding/json puts into a `json:"sub"` field, and the reverse.
func TestFoldMatchesEncodingJSON(t *testing.T) {
	names := []string{"sub", "SUB", "Sub", "sUb", "ſub", "ſUB", "suB", "subs", "su", "sub ", `s\u0075b`,
		`\u017fub`, "kid", `\u212aid`, "KID", "ﬀ", "ss", "ß", "ẞ", `sub\u0000`}
	for _, a := range names {
		for _, b := range []string{"sub", "kid", "ss"} {
			in := `{"` + a + `":1}`
			var d Decoder
			d.Reset([]byte(in))
			d.BeginObject()
			d.More()
			name := bytes.Clone(d.Name())
			ours := bytes.EqualFold(name, []byte(b))
			if got, want := string(appendFolded(nil, name)) == string(appendFolded(nil, []byte(b))), ours; got != want {
				t.Errorf("%q vs %q: appendFolded says %v, EqualFold %v", name, b, got, want)
			}
			// A struct with one field tagged b: does encoding/json fill it?
			v := reflect.New(reflect.StructOf([]reflect.StructField{{
				Name: "F", Type: reflect.TypeFor[*int](), Tag: reflect.StructTag(`json:"` + b + `"`),
			}}))
			if err := json.Unmarshal([]byte(in), v.Interface()); err != nil {
				t.Fatal(err)
			}
			theirs := !v.Elem().Field(0).IsNil()
			if ours != theirs {
				t.Errorf("%q vs field %q: folds equal %v, encoding/json matches %v", name, b, ours, theirs)
			}
		}
	}
	// Every rune and the rest of its folding orbit fold alike.
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		a := utf8.AppendRune(nil, r)
		fa := string(appendFolded(nil, a))
		for o := unicode.SimpleFold(r); o != r; o = unicode.SimpleFold(o) {
			b := utf8.AppendRune(nil, o)
			if string(appendFolded(nil, b)) != fa || !bytes.EqualFold(a, b) {
				t.Fatalf("%U and %U fold differently", r, o)
			}
		}
		if r < 0x3000 && string(appendFolded(nil, a)) == "S" && r != 's' && r != 'S' && r != 'ſ' {
			t.Fatalf("%U folds to S", r)
		}
	}
}

func TestFoldable(t *testing.T) {
	for in, want := range map[string]bool{"": false, "sub": false, "https://verdocs.com/x_y-1": false,
		"Sub": true, "suB": true, "ſub": true, "é": true, "@[`{": false, "Z": true} {
		if got := Foldable([]byte(in)); got != want {
			t.Errorf("Foldable(%q) = %v", in, got)
		}
	}
	// The name scan tells the same for every byte (and some runes).
	names := []string{"é", "ſ", "\u212a", "日本", `\\`, `\u0041`, "abcdefghijklmnopq", "ABCDEFGHIJKLMNOPQ"}
	for c := byte(0x20); c < 0x7f; c++ {
		if c != '"' && c != '\\' {
			names = append(names, "ab"+string(c)+"cdefghijk")
		}
	}
	for _, n := range names {
		var d Decoder
		d.Reset([]byte(`"` + n + `"`))
		raw, escaped, foldable, ok := d.scanName()
		if !ok {
			t.Fatalf("scanName(%q): %v", n, d.Err())
		}
		if want := Foldable(raw); foldable != want && !escaped {
			t.Errorf("scanName(%q) foldable = %v, Foldable %v", n, foldable, want)
		}
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
			v, _ := d.NumberBytes()
			got[name] = string(v)
		case "b":
			v, _ := d.Bool()
			got[name] = v
		case "z":
			got[name] = d.Null()
		case "a":
			d.BeginArray()
			for d.More() {
				v, _ := d.StringBytes()
				got[name] = string(v)
			}
		}
	}
	if err := d.End(); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"s": "plain", "e": "café", "n": "12.5", "b": true, "z": true, "a": "x"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
}

// The readers take a fast path when the caller's Peek already skipped the
// white space; without one, or after an error, they behave as before.
func TestReadersWithoutPeek(t *testing.T) {
	src := " { \"s\" :\t\"v\" , \"z\" : null ,\"o\": {\"a\":[ ]} , \"n\":\nnull}"
	for _, peek := range []bool{false, true} {
		var d Decoder
		d.Reset([]byte(src))
		p := func() {
			if peek {
				d.Peek()
			}
		}
		p()
		if !d.BeginObject() {
			t.Fatal(d.Err())
		}
		var s string
		var z, n, a bool
		for d.More() {
			name := string(d.Name())
			p()
			switch name {
			case "s":
				s, _ = d.StringIn(src)
			case "z":
				z = d.Null()
			case "o":
				d.BeginObject()
				for d.More() {
					d.Name()
					p()
					a = d.BeginArray() && !d.More()
				}
			case "n":
				n = d.Null()
			}
		}
		if err := d.End(); err != nil || s != "v" || !z || !n || !a {
			t.Fatalf("peek %v: s %q z %v n %v a %v, err %v", peek, s, z, n, a, err)
		}
	}
	// After an error nothing is read, fast path or not.
	var d Decoder
	d.Reset([]byte(`["x",null,{}]`))
	d.BeginArray()
	d.More()
	d.Fail(ErrType)
	if _, ok := d.StringIn(`["x",null,{}]`); ok {
		t.Fatal("StringIn read after an error")
	}
	if d.Null() || d.BeginObject() || d.BeginArray() {
		t.Fatal("a reader read after an error")
	}
	// A value of another type is still a type error.
	d.Reset([]byte(`[1]`))
	d.BeginArray()
	d.More()
	if _, ok := d.StringIn(`[1]`); ok || !errors.Is(d.Err(), ErrType) {
		t.Fatalf("StringIn on a number: %v", d.Err())
	}
}

func TestWrongType(t *testing.T) {
	var d Decoder
	d.Reset([]byte(`{"a":1}`))
	d.BeginObject()
	d.More()
	d.Name()
	if _, ok := d.StringBytes(); ok {
		t.Fatal("StringBytes on a number succeeded")
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
	folded := []byte(`{"iss":"x","Aud":["a"],"ſub":"s","nested":{"X":[{"y":null,"Y2":1}]}}`)
	allocs = testing.AllocsPerRun(100, func() {
		if err := validFolded(folded); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("validFolded allocated %v times per run, want 0", allocs)
	}
}

// FuzzValid checks that the strict reader never panics, accepts only what
// encoding/json also accepts, and that everything it accepts without
// duplicate names is accepted by encoding/json.
func FuzzValid(f *testing.F) {
	for _, s := range []string{
		`{"a":1}`, `[1,2,3]`, `{"a":{"b":[null,true,false,"x\u00e9"]}}`, `"\ud83d\ude00"`,
		`{"a":1,"a":2}`, "{\"a\":\"\xff\"}", `{"a":"\ud800"}`, `1e999`, `-0.0e-0`, `{"a":1}  `,
		`{"sub":1,"SUB":2}`, `{"sub":1,"\u017fub":2}`, `[{"K":1,"\u212a":2}]`,
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
		// Folding only adds ErrFoldedName, and only to what Valid accepts.
		ferr := validFolded(data)
		if (err == nil && ferr != nil && !errors.Is(ferr, ErrFoldedName)) ||
			(err != nil && !errors.Is(ferr, errors.Unwrap(err)) && !errors.Is(ferr, ErrFoldedName)) {
			t.Fatalf("folding decoder on %q: %v, plain: %v", data, ferr, err)
		}
	})
}
