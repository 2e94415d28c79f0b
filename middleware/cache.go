package middleware

import (
	"sync"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/session"
)

// tokenCache remembers tokens that passed every check, so a repeated token
// costs a map lookup instead of a signature verification. It is bounded
// (entries), sharded (lock contention), and every hit is re-checked by the
// caller: exp and nbf against the clock, and the key against the key set.
//
// Entries are indexed by the token's last bytes (its signature's tail) to
// hash little, and a hit requires the whole token to be equal. A forged token
// that copies a cached token's signature is therefore a miss; it is
// rejected on the cold path and never replaces the genuine entry.
type tokenCache struct {
	shards      [cacheShards]cacheShard
	maxPerShard int
}

const cacheShards = 16

type cacheShard struct {
	mu sync.RWMutex
	m  map[string]*cacheEntry
	_  [40]byte // keep shards on separate cache lines
}

// cacheEntry is immutable once stored.
type cacheEntry struct {
	raw      string // the whole token
	tok      *session.Token
	key      *jwks.Key // the key that verified the token
	kid, alg string
}

func newTokenCache(size int) *tokenCache {
	c := &tokenCache{maxPerShard: (size + cacheShards - 1) / cacheShards}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*cacheEntry)
	}
	return c
}

// tailLen is how many trailing bytes of a token index it: 64 base64url
// characters of signature, 384 bits drawn uniformly.
const tailLen = 64

func tail(token string) string { return token[max(0, len(token)-tailLen):] }

// shard picks a shard from the token's last bytes: the tail of a compact JWS
// is its signature, which is uniformly distributed, so no hashing is needed.
func (c *tokenCache) shard(key string) *cacheShard {
	var h uint32 = 2166136261
	for i := max(0, len(key)-8); i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return &c.shards[h%cacheShards]
}

// get returns the entry for exactly this token, or nil.
func (c *tokenCache) get(token string) *cacheEntry {
	key := tail(token)
	s := c.shard(key)
	s.mu.RLock()
	e := s.m[key]
	s.mu.RUnlock()
	if e == nil || e.raw != token {
		return nil
	}
	return e
}

func (c *tokenCache) put(e *cacheEntry) {
	key := tail(e.raw)
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; !ok && len(s.m) >= c.maxPerShard {
		s.evictLocked()
	}
	s.m[key] = e
}

// evictLocked drops one entry: of a few sampled at random (map iteration
// starts at a random place), the one that expires first. Expired entries are
// therefore the likeliest to go, and no bookkeeping is needed on hits.
func (s *cacheShard) evictLocked() {
	const samples = 8
	var victim string
	var victimExp int64
	n := 0
	for k, e := range s.m {
		if exp := e.tok.Registered.ExpiresAt; n == 0 || exp < victimExp {
			victim, victimExp = k, exp
		}
		n++
		if n == samples {
			break
		}
	}
	if n > 0 {
		delete(s.m, victim)
	}
}

// remove drops e if it is still the entry for its token.
func (c *tokenCache) remove(e *cacheEntry) {
	key := tail(e.raw)
	s := c.shard(key)
	s.mu.Lock()
	if s.m[key] == e {
		delete(s.m, key)
	}
	s.mu.Unlock()
}

// len returns the number of entries (for tests and stats).
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
