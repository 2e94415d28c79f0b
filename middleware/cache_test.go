package middleware

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"

	"github.com/sessiongate/sessiongate/session"
)

func entry(raw string, exp int64) *cacheEntry {
	return &cacheEntry{raw: raw, tok: &session.Token{Registered: session.Registered{ExpiresAt: exp}}}
}

func TestTokenCacheBounded(t *testing.T) {
	c := newTokenCache(64, 1<<30)
	for i := range 10_000 {
		c.put(entry("token-"+strconv.Itoa(i), int64(i)))
	}
	assert.LessOrEqual(t, c.len(), 64)
	assert.Greater(t, c.len(), 32, "shards should fill up before evicting")
	// The newest entry is always kept.
	assert.NotNil(t, c.get("token-9999"))
}

func TestTokenCacheRemoveOnlyThatEntry(t *testing.T) {
	c := newTokenCache(16, 1<<30)
	old := entry("t", 1)
	c.put(old)
	fresh := entry("t", 2)
	c.put(fresh)
	c.remove(old) // a stale remove must not drop the fresh entry
	assert.Same(t, fresh, c.get("t"))
	c.remove(fresh)
	assert.Nil(t, c.get("t"))
}

func TestTokenCacheNeedsTheWholeToken(t *testing.T) {
	c := newTokenCache(16, 1<<30)
	sig := strings.Repeat("s", 100)
	genuine := entry("header.payload."+sig, 1)
	c.put(genuine)
	// A forgery that copies the signature onto another payload shares the
	// index but is not the cached token.
	assert.Nil(t, c.get("header.forged."+sig))
	assert.Same(t, genuine, c.get("header.payload."+sig))
}

func TestTokenCacheConcurrent(t *testing.T) {
	c := newTokenCache(100, 1<<30)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := "t" + strconv.Itoa((g*7919+i)%300)
				if e := c.get(k); e != nil && i%3 == 0 {
					c.remove(e)
				} else {
					c.put(entry(k, int64(i)))
				}
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, c.len(), 112) // 16 shards × ceil(100/16)
}

// entryCost is an upper bound of the memory an entry keeps alive, measured
// on the heap for payloads of several shapes (the cache's byte bound relies
// on it).
func TestEntryCostBoundsRetainedMemory(t *testing.T) {
	fill := func(item string, n int) string { return strings.TrimSuffix(strings.Repeat(item+",", n), ",") }
	payloads := map[string]string{
		"realistic": `{"sub":"u","aud":["a","b"],"exp":2000000000,"https://verdocs.com/permissions":["org:view","member:view","org:update"],` +
			`"https://verdocs.com/roles":["owner"],"https://verdocs.com/profile":{"id":"p","organization":{"id":"o","name":"n","phone":"1","timezone":"Z"}},` +
			`"https://verdocs.com/plans":["org:standard"]}`,
		"padding":  `{"sub":"u","pad":"` + strings.Repeat("x", 12000) + `"}`,
		"strings":  `{"permissions":[` + fill(`"a"`, 2900) + `]}`,
		"escaped":  `{"email":"` + strings.Repeat(`\u00e9`, 2000) + `"}`,
		"profiles": `{"profile":{"groups":[{"profiles":[` + fill(`{"phone":"1","organization":{"address":"a"}}`, 250) + `]}]}}`,
		"groups":   `{"profile":{"groups":[` + fill(`{"parent_id":"p","roles":["r"]}`, 350) + `]}}`,
	}
	for name, p := range payloads {
		t.Run(name, func(t *testing.T) {
			const n = 200
			raw := "h." + strings.Repeat("p", len(p)*4/3) + ".s"
			keep := make([]*cacheEntry, n)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i := range keep {
				// The token and its payload as the authenticator holds them:
				// a fresh token string, its decoded payload, the session.
				tok, err := session.Decoder{}.Decode([]byte(p))
				if err != nil {
					t.Fatal(err)
				}
				r := strings.Clone(raw)
				keep[i] = &cacheEntry{raw: r, tok: tok, cost: entryCost(r, tok, 0)}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			retained := int(after.HeapAlloc-before.HeapAlloc) / n
			cost := keep[0].cost
			t.Logf("%s: cost %d bytes, retained %d bytes per entry", name, cost, retained)
			assert.GreaterOrEqual(t, cost, retained)
			runtime.KeepAlive(keep)
		})
	}
}

func TestTokenCacheBoundedByBytes(t *testing.T) {
	c := newTokenCache(1_000_000, 1<<20)
	for i := range 1000 {
		e := entry("token-"+strconv.Itoa(i), int64(i))
		e.cost = 10_000
		c.put(e)
	}
	assert.LessOrEqual(t, c.bytes(), 1<<20)
	assert.Greater(t, c.bytes(), 1<<19, "shards should fill up before evicting")
	sum := 0
	for i := range c.shards {
		for _, e := range c.shards[i].m {
			sum += e.cost
		}
	}
	assert.Equal(t, sum, c.bytes(), "the shards' byte counts match their entries")
	// An entry larger than a shard's budget is not cached.
	big := entry("big", 1)
	big.cost = 1<<20/cacheShards + 1
	c.put(big)
	assert.Nil(t, c.get("big"))
	// Replacing and removing keep the count exact.
	e := entry("token-999", 5)
	e.cost = 7
	c.put(e)
	c.remove(e)
	sum = 0
	for i := range c.shards {
		for _, e := range c.shards[i].m {
			sum += e.cost
		}
	}
	assert.Equal(t, sum, c.bytes())
}

// bytes returns the sum of the entries' cost.
func (c *tokenCache) bytes() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += s.bytes
		s.mu.RUnlock()
	}
	return n
}

// len returns the number of entries.
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

// The padding is real: a shard takes a whole number of 128-byte blocks, so
// two shards never share a cache line (nor a prefetched pair of lines).
func TestCacheShardPadding(t *testing.T) {
	if size := unsafe.Sizeof(cacheShard{}); size%128 != 0 {
		t.Fatalf("a cache shard is %d bytes, not a multiple of 128", size)
	}
}
