package jwks

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

const (
	issA = "https://a.example/"
	issB = "https://b.example/"
)

// boundStatic returns a static source of keys bound to issuer ("" for none).
func boundStatic(issuer string, keys ...jwkMap) Source {
	src := StaticSource(setJSON(keys...))
	src.Issuer = issuer
	return src
}

// TestKeyPerIssuer holds per-issuer resolution: a lookup sees only the keys
// of the sources bound to its issuer and of the sources without issuer, so
// another issuer's keys can neither answer it nor make it ambiguous. The
// issuer "" is the merged view of every key (the transitional lookup).
func TestKeyPerIssuer(t *testing.T) {
	// a1 and b1 share the kid "k1"; a2 and b2 have no kid and fit ES256;
	// aDup and bDup share "dup" with a second source of A; shared is
	// issuer-less. rsaA and ecB share "mixed" with different algorithms.
	a1, b1 := ecJWK(t, "k1"), ecJWK(t, "k1")
	a2, b2 := ecJWK(t, "").with("kid", nil), ecJWK(t, "").with("kid", nil)
	shared := edJWK(t, "shared")
	sources := []Source{
		boundStatic(issA, a1, ecJWK(t, "dup"), rsaJWK(t, "mixed", 2048)),
		boundStatic(issB, b1, ecJWK(t, "mixed")),
		boundStatic(issA, ecJWK(t, "dup")),
		boundStatic("", shared),
	}
	s := newTestSet(t, Config{Sources: sources})
	noKidA := newTestSet(t, Config{Sources: []Source{boundStatic(issA, a2), boundStatic(issB, b2)}})
	noKidShared := newTestSet(t, Config{Sources: []Source{boundStatic(issA, a2), boundStatic("", b2)}})

	xOf := func(m jwkMap) string { return m["x"].(string) }
	tests := []struct {
		name             string
		set              *Set
		issuer, kid, alg string
		want             error
		x                string // the JWK "x" the key must have ("" for no check)
		keyIssuer        string
	}{
		{"A's kid k1 is A's", s, issA, "k1", "ES256", nil, xOf(a1), issA},
		{"B's kid k1 is B's", s, issB, "k1", "ES256", nil, xOf(b1), issB},
		{"merged view: k1 of two issuers is ambiguous", s, "", "k1", "ES256", ErrAmbiguousKey, "", ""},
		{"a collision within A stays ambiguous", s, issA, "dup", "ES256", ErrAmbiguousKey, "", ""},
		{"B does not see A's dup", s, issB, "dup", "ES256", ErrKeyNotFound, "", ""},
		{"mixed for A is A's RSA key", s, issA, "mixed", "RS256", nil, "", issA},
		{"mixed for A with ES256: B's EC key is not A's", s, issA, "mixed", "ES256", ErrAlgMismatch, "", ""},
		{"mixed for B is B's EC key", s, issB, "mixed", "ES256", nil, "", issB},
		{"issuer-less key for A", s, issA, "shared", "EdDSA", nil, xOf(shared), ""},
		{"issuer-less key for B", s, issB, "shared", "Ed25519", nil, xOf(shared), ""},
		{"issuer-less key for an unknown issuer", s, "https://other.example/", "shared", "EdDSA", nil, xOf(shared), ""},
		{"issuer-less key in the merged view", s, "", "shared", "EdDSA", nil, xOf(shared), ""},
		{"unknown issuer sees no bound key", s, "https://other.example/", "k1", "ES256", ErrKeyNotFound, "", ""},
		{"issuer compared exactly (trailing slash)", s, strings.TrimSuffix(issA, "/"), "k1", "ES256", ErrKeyNotFound, "", ""},
		{"issuer compared exactly (case)", s, strings.ToUpper(issA), "k1", "ES256", ErrKeyNotFound, "", ""},
		{"no kid: A's only ES256 key", noKidA, issA, "", "ES256", nil, xOf(a2), issA},
		{"no kid: B's only ES256 key", noKidA, issB, "", "ES256", nil, xOf(b2), issB},
		{"no kid, merged view: two ES256 keys", noKidA, "", "", "ES256", ErrAmbiguousKey, "", ""},
		{"no kid, unknown issuer", noKidA, "https://other.example/", "", "ES256", ErrKeyNotFound, "", ""},
		{"no kid: A's key and an issuer-less one", noKidShared, issA, "", "ES256", ErrAmbiguousKey, "", ""},
		{"no kid: B (unbound) gets the issuer-less key", noKidShared, issB, "", "ES256", nil, xOf(b2), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := tt.set.Key(context.Background(), tt.issuer, tt.kid, tt.alg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Key(%q, %q, %q) = %v, want %v", tt.issuer, tt.kid, tt.alg, err, tt.want)
			}
			if err != nil {
				return
			}
			if k.Issuer != tt.keyIssuer {
				t.Errorf("key of issuer %q, want %q", k.Issuer, tt.keyIssuer)
			}
			if tt.x != "" && keyX(t, k) != tt.x {
				t.Errorf("got another key than the issuer's own")
			}
		})
	}
}

// TestKeyManyIssuers runs per-issuer resolution with more issuers than a
// snapshot scans (its map of issuers).
func TestKeyManyIssuers(t *testing.T) {
	for _, n := range []int{1, smallIssuers, smallIssuers + 1, 3 * smallIssuers} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var srcs []Source
			keys := map[string]jwkMap{}
			for i := range n {
				iss := fmt.Sprintf("https://tenant-%d.example/", i)
				keys[iss] = ecJWK(t, "same")
				srcs = append(srcs, boundStatic(iss, keys[iss]))
			}
			srcs = append(srcs, boundStatic("", edJWK(t, "free")))
			s := newTestSet(t, Config{Sources: srcs})
			for iss, want := range keys {
				k := mustIssuerKey(t, s, iss, "same", "ES256")
				if k.Issuer != iss || keyX(t, k) != want["x"] {
					t.Errorf("%s: key of %q", iss, k.Issuer)
				}
				mustIssuerKey(t, s, iss, "free", "EdDSA")
			}
			if _, err := s.Key(context.Background(), "https://tenant-x.example/", "same", "ES256"); !errors.Is(err, ErrKeyNotFound) {
				t.Errorf("unknown issuer: %v", err)
			}
			if _, err := s.Key(context.Background(), "", "same", "ES256"); n > 1 && !errors.Is(err, ErrAmbiguousKey) {
				t.Errorf("merged view: %v", err)
			}
		})
	}
}

// TestUnknownKidRefetchesIssuerSources holds that a lookup of an unknown kid
// refetches only the sources that could serve its issuer (bound to it, or
// without issuer), each under its own rate limit, and that only those count
// for ErrUnavailable.
func TestUnknownKidRefetchesIssuerSources(t *testing.T) {
	synctest.Test(t, testUnknownKidRefetchesIssuerSources)
}

func testUnknownKidRefetchesIssuerSources(t *testing.T) {
	pa, pb, pn := newIDP(t), newIDP(t), newIDP(t)
	pa.serve(setJSON(ecJWK(t, "a")))
	pb.serve(setJSON(ecJWK(t, "b")))
	pn.serve(setJSON(ecJWK(t, "n")))
	sa, sb, sn := URLSource(pa.url()), URLSource(pb.url()), URLSource(pn.url())
	sa.Issuer, sb.Issuer = issA, issB
	s := newTestSet(t, Config{Sources: []Source{sa, sb, sn}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	hits := func() [3]int64 { return [3]int64{pa.hits.Load(), pb.hits.Load(), pn.hits.Load()} }
	tests := []struct {
		name   string
		issuer string
		want   [3]int64 // fetches added per source: A, B, issuer-less
	}{
		{"issuer A", issA, [3]int64{1, 0, 1}},
		{"issuer B", issB, [3]int64{0, 1, 1}},
		{"unknown issuer", "https://other.example/", [3]int64{0, 0, 1}},
		{"merged view", "", [3]int64{1, 1, 1}},
	}
	for i, tt := range tests { // no t.Run in a bubble
		before := hits()
		if _, err := s.Key(context.Background(), tt.issuer, fmt.Sprintf("unknown-%d", i), "ES256"); !errors.Is(err, ErrKeyNotFound) {
			t.Fatalf("%s: Key = %v, want ErrKeyNotFound", tt.name, err)
		}
		after := hits()
		for j := range after {
			if got := after[j] - before[j]; got != tt.want[j] {
				t.Errorf("%s: source %d fetched %d times, want %d", tt.name, j, got, tt.want[j])
			}
		}
		advance(defaultUnknownKIDWindow) // open every rate limit
	}
	// The rate limit stays per source: a refetch for A leaves B's open.
	if _, err := s.Key(context.Background(), issA, "unknown-a", "ES256"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatal(err)
	}
	before := hits()
	if _, err := s.Key(context.Background(), issB, "unknown-b", "ES256"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatal(err)
	}
	if after := hits(); after[1]-before[1] != 1 || after[2] != before[2] || after[0] != before[0] {
		t.Errorf("after A's refetch, B's lookup fetched %v", [3]int64{after[0] - before[0], after[1] - before[1], after[2] - before[2]})
	}

	// B's source failing past MaxStale makes B's unknown kids unavailable,
	// not A's: A's key cannot come from B.
	pb.status(500)
	for time.Since(s.Stats().Sources[1].LastSuccess) < defaultMaxStale {
		advance(defaultMaxStale / 4)
	}
	if _, err := s.Key(context.Background(), issA, "unknown-c", "ES256"); !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("A after B went stale: %v, want ErrKeyNotFound", err)
	}
	for _, iss := range []string{issB, ""} {
		if _, err := s.Key(context.Background(), iss, "unknown-d", "ES256"); !errors.Is(err, ErrUnavailable) {
			t.Errorf("issuer %q after B went stale: %v, want ErrUnavailable", iss, err)
		}
	}
	mustIssuerKey(t, s, issA, "a", "ES256")
}

// TestAmbiguousKidLogged holds the Warn that names the issuer and the kid
// several of its sources publish, written with each snapshot, and that kids
// shared by different issuers are not reported.
func TestAmbiguousKidLogged(t *testing.T) { synctest.Test(t, testAmbiguousKidLogged) }

func testAmbiguousKidLogged(t *testing.T) {
	var logs logBuffer
	pa := newIDP(t)
	pa.serve(setJSON(ecJWK(t, "dup")))
	src := URLSource(pa.url())
	src.Issuer = issA
	s := newTestSet(t, Config{Logger: logs.logger(), Sources: []Source{
		src,
		boundStatic(issA, ecJWK(t, "dup"), rsaJWK(t, "byalg", 2048)),
		boundStatic(issA, ecJWK(t, "byalg")), // resolved by alg: not ambiguous
		boundStatic(issB, ecJWK(t, "dup")),   // another issuer: not ambiguous
		boundStatic("", ecJWK(t, "free")),
		boundStatic("", ecJWK(t, "free")),
	}})
	count := func() (a, free int) {
		out := logs.String()
		return strings.Count(out, `kid=dup`), strings.Count(out, `kid=free`)
	}
	if a, free := count(); a != 0 || free != 1 {
		t.Fatalf("before the fetch: %d and %d records\n%s", a, free, logs.String())
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, free := count()
	if a != 1 || free != 2 {
		t.Fatalf("after the fetch: %d records for A's dup, %d for the issuer-less free; want 1, 2\n%s", a, free, logs.String())
	}
	out := logs.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "issuer="+issA+" kid=dup") || strings.Contains(out, "byalg") || strings.Contains(out, "issuer="+issB) {
		t.Errorf("records:\n%s", out)
	}
	if !strings.Contains(out, pa.url()) || !strings.Contains(out, "static#1") || strings.Contains(out, "static#3") {
		t.Errorf("sources not named:\n%s", out)
	}
	for _, iss := range []string{issA, ""} {
		if _, err := s.Key(context.Background(), iss, "dup", "ES256"); !errors.Is(err, ErrAmbiguousKey) {
			t.Errorf("%q dup: %v", iss, err)
		}
	}
	mustIssuerKey(t, s, issB, "dup", "ES256")
	mustIssuerKey(t, s, issA, "byalg", "ES256")
	mustIssuerKey(t, s, issA, "byalg", "RS256")
}

func mustIssuerKey(t *testing.T, s *Set, issuer, kid, alg string) *Key {
	t.Helper()
	k, err := s.Key(context.Background(), issuer, kid, alg)
	if err != nil {
		t.Fatalf("Key(%q, %q, %q): %v", issuer, kid, alg, err)
	}
	return k
}

// keyX returns the JWK "x" of an EC or Ed25519 key.
func keyX(t *testing.T, k *Key) string {
	t.Helper()
	switch p := k.Public.(type) {
	case *ecdsa.PublicKey:
		raw, err := p.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return b64(raw[1 : 1+(len(raw)-1)/2])
	case ed25519.PublicKey:
		return b64(p)
	}
	t.Fatalf("no x for a %T", k.Public)
	return ""
}
