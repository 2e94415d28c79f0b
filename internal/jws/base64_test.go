package jws

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestDecodeSegment(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" with ok=false
		ok   bool
	}{
		{"", "", true},
		{"QQ", "A", true},
		{"QUI", "AB", true},
		{"QUJD", "ABC", true},
		{"QUJDRA", "ABCD", true},
		{"QUJDREVGR0g", "ABCDEFGH", true},
		{"-_-_", "\xfb\xff\xbf", true},
		{"Q", "", false},
		{"QUJDR", "", false},
		{"QR", "", false},  // non-canonical: trailing bits set
		{"QUJ", "", false}, // non-canonical
		{"QQ==", "", false},
		{"QUI=", "", false},
		{"+/+/", "", false},
		{"QUJD\n", "", false},
		{"QU\rJD", "", false},
		{"QUJD REVG", "", false},
		{"QUJDREVGR0\x00", "", false},
		{"QUJDREVG\xffR0g", "", false},
		{"QUJDREV.R0g", "", false},
	}
	for _, tc := range tests {
		dst := make([]byte, decodedLen(len(tc.in)))
		ok := decodeSegment(dst, tc.in)
		if ok != tc.ok || ok && string(dst) != tc.want {
			t.Errorf("decodeSegment(%q) = %q, %v; want %q, %v", tc.in, dst, ok, tc.want, tc.ok)
		}
	}
	// Every length up to 3 blocks of the 8-char loop, every position of a
	// bad character.
	enc := base64.RawURLEncoding
	for n := 0; n < 40; n++ {
		src := bytes.Repeat([]byte{0xa5, 0x5a, 0xff}, 14)[:n]
		s := enc.EncodeToString(src)
		dst := make([]byte, decodedLen(len(s)))
		if !decodeSegment(dst, s) || !bytes.Equal(dst, src) {
			t.Fatalf("length %d: %q -> %x", n, s, dst)
		}
		for i := range len(s) {
			for _, bad := range []string{"=", "+", "/", "\n", "\r", " ", "."} {
				m := s[:i] + bad + s[i+1:]
				if decodeSegment(make([]byte, decodedLen(len(m))), m) {
					t.Fatalf("accepted %q", m)
				}
			}
		}
	}
	if decodeSegment(make([]byte, 2), "QQ") {
		t.Fatal("accepted a dst of the wrong size")
	}
}

// FuzzDecodeSegment holds decodeSegment equal to encoding/base64's strict
// raw URL decoder, except that decodeSegment also rejects CR and LF.
func FuzzDecodeSegment(f *testing.F) {
	for _, s := range []string{"", "QQ", "QR", "QUJD", "QUJDREVGR0g", "QQ==", "+/", "QU\nJD", "-_-_-_-_A"} {
		f.Add(s)
	}
	enc := base64.RawURLEncoding.Strict()
	f.Fuzz(func(t *testing.T, s string) {
		dst := make([]byte, decodedLen(len(s)))
		ok := decodeSegment(dst, s)
		want, err := enc.DecodeString(s)
		if strings.ContainsAny(s, "\r\n") {
			if ok {
				t.Fatalf("accepted a line break in %q", s)
			}
			return
		}
		if ok != (err == nil) {
			t.Fatalf("decodeSegment(%q) ok=%v, encoding/base64 err=%v", s, ok, err)
		}
		if ok && !bytes.Equal(dst, want) {
			t.Fatalf("decodeSegment(%q) = %x, want %x", s, dst, want)
		}
	})
}

func BenchmarkDecodeSegment(b *testing.B) {
	s := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte("claims!"), 250))
	dst := make([]byte, decodedLen(len(s)))
	b.Run("decodeSegment", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			if !decodeSegment(dst, s) {
				b.Fatal("rejected")
			}
		}
	})
	b.Run("encoding/base64", func(b *testing.B) {
		enc := base64.RawURLEncoding.Strict()
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			if _, err := enc.Decode(dst, []byte(s)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
