package middleware

import (
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sessiongate/sessiongate/session"
)

func entryExpiring(exp int64) *cacheEntry {
	return &cacheEntry{tok: &session.Token{Registered: session.Registered{ExpiresAt: exp}}}
}

func TestTokenCacheBounded(t *testing.T) {
	c := newTokenCache(64)
	for i := range 10_000 {
		c.put("token-"+strconv.Itoa(i), entryExpiring(int64(i)))
	}
	assert.LessOrEqual(t, c.len(), 64)
	assert.Greater(t, c.len(), 32, "shards should fill up before evicting")
	// The newest entry is always kept.
	assert.NotNil(t, c.get("token-9999"))
}

func TestTokenCacheRemoveOnlyThatEntry(t *testing.T) {
	c := newTokenCache(16)
	old := entryExpiring(1)
	c.put("t", old)
	fresh := entryExpiring(2)
	c.put("t", fresh)
	c.remove("t", old) // a stale remove must not drop the fresh entry
	assert.Same(t, fresh, c.get("t"))
	c.remove("t", fresh)
	assert.Nil(t, c.get("t"))
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
					c.remove(k, e)
				} else {
					c.put(k, entryExpiring(int64(i)))
				}
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, c.len(), 112) // 16 shards × ceil(100/16)
}
