package session

import (
	"context"
	"reflect"
	"strconv"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fill sets every field reachable from v to a non-zero value: slices get
// two elements, pointers a target. New fields are covered without editing
// this test.
func fill(v reflect.Value, depth int, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + strconv.Itoa(*n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n))
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n%2 + 1))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth, n)
	case reflect.Slice:
		if depth > 3 {
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), depth+1, n)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth, n)
			}
		}
	}
}

// shared reports a slice or pointer of a that points at the same memory as
// the corresponding one of b.
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return shared(a.Elem(), b.Elem(), path+".*")
	case reflect.Slice:
		if a.Len() == 0 {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		for i := range a.Len() {
			if p := shared(a.Index(i), b.Index(i), path+"["+strconv.Itoa(i)+"]"); p != "" {
				return p
			}
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
					return p
				}
			}
		}
	}
	return ""
}

func TestCloneSharesNothing(t *testing.T) {
	var orig Token
	n := 0
	fill(reflect.ValueOf(&orig).Elem(), 0, &n)
	orig.Signing.Aud = orig.Registered.Audience // as the decoder leaves them
	orig.captured = []string{"azp", `"web"`, "tid", `"t1"`}
	for name, c := range map[string]*Token{
		"Clone":           orig.Clone(),
		"NewTokenContext": func() *Token { t, _ := TokenFromContext(NewTokenContext(context.Background(), &orig)); return t }(),
	} {
		t.Run(name, func(t *testing.T) {
			require.True(t, reflect.DeepEqual(&orig, c), "the copy equals the original")
			assert.Empty(t, shared(reflect.ValueOf(c).Elem(), reflect.ValueOf(&orig).Elem(), "Token"))
			// Changing the copy leaves the original as it was.
			before := orig.Clone()
			c.Active.Roles[0].ID = "changed"
			c.Active.Roles = append(c.Active.Roles, Role{ID: "owner"})
			*c.Active.Profile.Organization.Phone = "changed"
			c.Active.Profile.Groups[0].Profiles[0].Permissions[0] = "changed"
			c.Registered.Audience[0] = "changed"
			c.Active.Plans[1] = "changed"
			c.Scopes[0] = "changed"
			assert.NotSame(t, &orig.captured[0], &c.captured[0])
			c.captured[1] = "changed"
			assert.True(t, reflect.DeepEqual(before, &orig), "the original is unchanged")
		})
	}
	assert.Nil(t, (*Token)(nil).Clone())
}

// The context node is one allocation that fills its size class, arena
// included, for a session of up to len(inline) strings.
func TestTokenContextSize(t *testing.T) {
	assert.Equal(t, uintptr(1400), unsafe.Sizeof(tokenContext{}), "grow inline to fill the 1408-byte size class, or shrink it")
	n := len(tokenContext{}.inline)
	tok := &Token{Kind: KindActive, Registered: Registered{Audience: Audience{"a"}}, Scopes: make([]string, n-3),
		captured: []string{"azp", `"w"`}}
	ctx := context.Background()
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _ = NewTokenContext(ctx, tok) }))
	tok.Scopes = append(tok.Scopes, "one too many")
	assert.Equal(t, 2.0, testing.AllocsPerRun(100, func() { _ = NewTokenContext(ctx, tok) }))
}

func TestTokenContextCarriesValues(t *testing.T) {
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	tok := &Token{Kind: KindActive, Active: ActiveSession{Sub: "u"}}
	ctx := NewTokenContext(parent, tok)
	assert.Equal(t, "v", ctx.Value(key{}))
	s, ok := FromContext(ctx)
	require.True(t, ok)
	assert.Equal(t, "u", s.Sub)
	assert.NotSame(t, &tok.Active, s)
	cancel()
	<-ctx.Done()
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
	_, ok = FromContext(NewTokenContext(context.Background(), nil))
	assert.False(t, ok)
}

func BenchmarkNewTokenContext(b *testing.B) {
	tok, err := Decoder{}.Decode(compactPayload(b))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = NewTokenContext(ctx, tok)
	}
}
