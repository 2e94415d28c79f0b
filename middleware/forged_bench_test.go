package middleware_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/middleware"
)

// forgedPayloads are large, well-formed claims that a forger can send
// without any key: each fills a 16 KiB token.
func forgedPayloads(iss string) map[string]string {
	head := `{"iss":"` + iss + `","aud":"` + jwkstest.DefaultAudience + `","sub":"x","exp":` +
		itoa(time.Now().Add(time.Hour).Unix()) + `,"iat":` + itoa(time.Now().Unix())
	fill := func(item string, n int) string {
		return strings.TrimSuffix(strings.Repeat(item+",", n), ",")
	}
	return map[string]string{
		"strings":  head + `,"permissions":[` + fill(`"a"`, 2900) + `]}`,
		"profiles": head + `,"profile":{"groups":[{"profiles":[` + fill(`{}`, 3900) + `]}]}}`,
		"groups":   head + `,"profile":{"groups":[` + fill(`{}`, 3900) + `]}}`,
		"unknown":  head + `,"x":[` + fill(`{"a":[1,2,{"b":null}]}`, 480) + `]}`,
		"idnames":  head + `,"roles":[` + fill(`{"id":"a"}`, 1000) + `]}`,
	}
}

func itoa(v int64) string { return strings.TrimSpace(strings.Repeat(" ", 0) + formatInt(v)) }

func formatInt(v int64) string {
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}

// BenchmarkForged16K is the work done on a forged token of 16 KiB (well-formed
// header and payload, random signature) before it is refused: everything
// before the signature check, plus the check itself.
func BenchmarkForged16K(b *testing.B) {
	idp := jwkstest.New("https://auth.example.test/")
	b.Cleanup(idp.Close)
	kid := idp.Rotate("RS256")
	keys, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.StaticSource(idp.JWKS())}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(keys.Close)
	a, err := middleware.New(middleware.Config{Issuers: []middleware.Issuer{{Issuer: idp.URL(), Keys: keys, Audiences: []string{jwkstest.DefaultAudience}}}, Cache: middleware.CacheConfig{Disabled: true}})
	if err != nil {
		b.Fatal(err)
	}
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"` + kid + `","typ":"JWT"}`))
	sig := make([]byte, 256)
	_, _ = rand.Read(sig)
	for name, p := range forgedPayloads(idp.URL()) {
		tok := hdr + "." + base64.RawURLEncoding.EncodeToString([]byte(p)) + "." + base64.RawURLEncoding.EncodeToString(sig)
		if len(tok) > 16<<10 {
			b.Fatalf("%s: token of %d bytes", name, len(tok))
		}
		b.Run(name, func(b *testing.B) {
			b.ReportMetric(float64(len(tok)), "tokenB")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Verify(context.Background(), tok); err == nil {
					b.Fatal("forged token accepted")
				}
			}
		})
	}
}
