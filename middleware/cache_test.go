package middleware

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sessiongate/sessiongate/session"
)

func entry(raw string, exp int64) *cacheEntry {
	return &cacheEntry{raw: raw, tok: &session.Token{Registered: session.Registered{ExpiresAt: exp}}}
}

func TestTokenCacheBounded(t *testing.T) {
	c := newTokenCache(64)
	for i := range 10_000 {
		c.put(entry("token-"+strconv.Itoa(i), int64(i)))
	}
	assert.LessOrEqual(t, c.len(), 64)
	assert.Greater(t, c.len(), 32, "shards should fill up before evicting")
	// The newest entry is always kept.
	assert.NotNil(t, c.get("token-9999"))
}

func TestTokenCacheRemoveOnlyThatEntry(t *testing.T) {
	c := newTokenCache(16)
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
	c := newTokenCache(16)
	sig := strings.Repeat("s", 100)
	genuine := entry("header.payload."+sig, 1)
	c.put(genuine)
	// A forgery that copies the signature onto another payload shares the
	// index but is not the cached token.
	assert.Nil(t, c.get("header.forged."+sig))
	assert.Same(t, genuine, c.get("header.payload."+sig))
}

func TestTokenCacheConcurrent(t *testing.T) {
	c := newTokenCache(100)
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
