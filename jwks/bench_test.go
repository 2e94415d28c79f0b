package jwks

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// tenKeySet returns a static set of 10 ES256 keys, kids "k0".."k9".
func tenKeySet(tb testing.TB) *Set {
	tb.Helper()
	keys := make([]jwkMap, 10)
	for i := range keys {
		keys[i] = ecJWK(tb, fmt.Sprintf("k%d", i))
	}
	s, err := New(Config{Sources: []Source{StaticSource(setJSON(keys...))}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// twoIssuerSet returns a set of two static sources bound to two issuers,
// each with 10 ES256 keys of the same kids "k0".."k9".
func twoIssuerSet(tb testing.TB) *Set {
	tb.Helper()
	var srcs []Source
	for _, iss := range []string{"https://one.example/", "https://login.two.example/tenant/v2.0"} {
		keys := make([]jwkMap, 10)
		for i := range keys {
			keys[i] = ecJWK(tb, fmt.Sprintf("k%d", i))
		}
		src := StaticSource(setJSON(keys...))
		src.Issuer = iss
		srcs = append(srcs, src)
	}
	s, err := New(Config{Sources: srcs})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

func TestKeyHitDoesNotAllocate(t *testing.T) {
	s := tenKeySet(t)
	ctx := context.Background()
	want, err := s.Key(ctx, "", "k7", "ES256")
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if k, err := s.Key(ctx, "", "k7", "ES256"); err != nil || k != want {
			t.Fatal("miss")
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per hit, want 0", allocs)
	}
	if allocs := testing.AllocsPerRun(1000, func() { _, _ = s.Key(ctx, "", "k7", "RS256") }); allocs != 0 {
		t.Fatalf("%v allocs per alg mismatch, want 0", allocs)
	}
	two := twoIssuerSet(t)
	iss := "https://login.two.example/tenant/v2.0"
	want, err = two.Key(ctx, iss, "k7", "ES256")
	if err != nil || want.Issuer != iss {
		t.Fatalf("issuer lookup: %v", err)
	}
	allocs = testing.AllocsPerRun(1000, func() {
		if k, err := two.Key(ctx, iss, "k7", "ES256"); err != nil || k != want {
			t.Fatal("miss")
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per hit with an issuer, want 0", allocs)
	}
}

// BenchmarkKeyHit measures the hot path: a kid in a set of 10 keys.
func BenchmarkKeyHit(b *testing.B) {
	s := tenKeySet(b)
	ctx := context.Background()
	kids := [10]string{}
	for i := range kids {
		kids[i] = fmt.Sprintf("k%d", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Key(ctx, "", kids[i%10], "ES256"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeyHitIssuer is the hot path of a lookup naming its issuer: a
// kid among the 10 keys of one of two issuers that publish the same kids.
func BenchmarkKeyHitIssuer(b *testing.B) {
	s := twoIssuerSet(b)
	ctx := context.Background()
	kids := [10]string{}
	for i := range kids {
		kids[i] = fmt.Sprintf("k%d", i)
	}
	// A copy, as a caller's configuration would hold: not the source's own
	// string, which compares faster.
	iss := strings.Clone("https://login.two.example/tenant/v2.0")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Key(ctx, iss, kids[i%10], "ES256"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeyHitRemote is the hot path of a remote set, started (its loop
// refreshes) or not (each lookup also reads the clock, to find a refresh
// due).
func BenchmarkKeyHitRemote(b *testing.B) {
	for _, started := range []bool{true, false} {
		b.Run(fmt.Sprintf("started=%v", started), func(b *testing.B) {
			keys := make([]jwkMap, 10)
			for i := range keys {
				keys[i] = ecJWK(b, fmt.Sprintf("k%d", i))
			}
			p := newIDP(b)
			p.serve(setJSON(keys...))
			s, err := New(Config{Sources: []Source{URLSource(p.url())}, HTTPClient: &http.Client{Transport: inProcess{}}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(s.Close)
			ctx := context.Background()
			if started {
				if err := s.Start(ctx); err != nil {
					b.Fatal(err)
				}
			}
			kids := [10]string{}
			for i := range kids {
				kids[i] = fmt.Sprintf("k%d", i)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := s.Key(ctx, "", kids[i%10], "ES256"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkKeyHitParallel is the hot path under concurrency.
func BenchmarkKeyHitParallel(b *testing.B) {
	s := tenKeySet(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Key(ctx, "", "k3", "ES256"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMapBaseline is the floor: a plain map lookup of the same kids,
// for comparison with BenchmarkKeyHit in the same run.
func BenchmarkMapBaseline(b *testing.B) {
	m := map[string]*Key{}
	kids := [10]string{}
	for i := range kids {
		kids[i] = fmt.Sprintf("k%d", i)
		m[kids[i]] = &Key{ID: kids[i]}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if m[kids[i%10]] == nil {
			b.Fatal("miss")
		}
	}
}

// BenchmarkCheckKeyRSA measures key hygiene of one RSA JWK (parse, exponent,
// size, trial division by the primes below 2^16, ROCA, Miller-Rabin), as
// every fetch runs it for every key; smallFactor is the trial division
// alone.
func BenchmarkCheckKeyRSA(b *testing.B) {
	for _, bits := range []int{2048, 4096} {
		n := rsaModulus(b, bits)
		raw := []byte(must(jwkMap{"kty": "RSA", "kid": "k", "alg": "RS256", "n": b64(n.Bytes()), "e": "AQAB"}))
		b.Run(fmt.Sprintf("bits=%d/checkKey", bits), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, _, reason := checkKey(raw, nil, nil); reason != "" {
					b.Fatal(reason)
				}
			}
		})
		b.Run(fmt.Sprintf("bits=%d/smallFactor", bits), func(b *testing.B) {
			smallPrimes()
			b.ReportAllocs()
			for b.Loop() {
				if smallFactor(n) != 0 {
					b.Fatal("small factor")
				}
			}
		})
	}
}
