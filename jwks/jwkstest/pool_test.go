package jwkstest

import (
	"crypto/rsa"
	"runtime"
	"testing"
	"time"
)

func freePoolKeys() int {
	rsaPool.load()
	rsaPool.mu.Lock()
	defer rsaPool.mu.Unlock()
	n := 0
	for _, used := range rsaPool.inUse {
		if !used {
			n++
		}
	}
	return n
}

func TestPoolKeys(t *testing.T) {
	rsaPool.load()
	if len(rsaPool.keys) != 8 {
		t.Fatalf("%d pool keys, want 8", len(rsaPool.keys))
	}
	for i, k := range rsaPool.keys {
		if k.N.BitLen() != 2048 || k.E != 65537 {
			t.Errorf("pool key %d: %d bits, e=%d", i, k.N.BitLen(), k.E)
		}
		if err := k.Validate(); err != nil {
			t.Errorf("pool key %d: %v", i, err)
		}
	}
}

// No two live Issuers share RSA key material, and an Issuer's keys are all
// different, beyond the pool too.
func TestPoolLeases(t *testing.T) {
	free := freePoolKeys()
	if free == 0 {
		t.Skip("pool in use by other tests")
	}
	a, b := New("https://a.example"), New("https://b.example")
	if got := freePoolKeys(); got != free-2 {
		t.Errorf("free pool keys %d, want %d", got, free-2)
	}
	seen := map[string]bool{}
	add := func(k Key) {
		n := k.Private.(*rsa.PrivateKey).N.String()
		if seen[n] {
			t.Errorf("key %s shared", k.KID)
		}
		seen[n] = true
	}
	add(a.SigningKey())
	add(b.SigningKey())
	for i := 0; i < free-2; i++ {
		kid := a.AddKey(PS256)
		k, _ := a.Key(kid)
		add(k)
	}
	if freePoolKeys() != 0 {
		t.Fatalf("pool not exhausted: %d free", freePoolKeys())
	}
	kid := b.Rotate(RS384) // generated
	k, _ := b.Key(kid)
	add(k)
	if k.Private.(*rsa.PrivateKey).N.BitLen() != 2048 {
		t.Errorf("generated key of %d bits", k.Private.(*rsa.PrivateKey).N.BitLen())
	}

	a.Close()
	b.Close()
	b.Close()
	if got := freePoolKeys(); got != free {
		t.Errorf("after Close: %d free, want %d", got, free)
	}

	// An Issuer nobody closes returns its keys once collected.
	func() { _ = New("https://c.example").AddKey(RS256) }()
	if freePoolKeys() != free-2 {
		t.Fatalf("leaked issuer holds %d keys", free-freePoolKeys())
	}
	deadline := time.Now().Add(10 * time.Second)
	for freePoolKeys() != free {
		if time.Now().After(deadline) {
			t.Fatalf("unreachable Issuer kept its keys: %d free, want %d", freePoolKeys(), free)
		}
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
}
