package middleware

import (
	"sync"
	"unsafe"

	"github.com/sessiongate/sessiongate/session"
)

// tokenCache remembers tokens that passed every check, so a repeated token
// costs a map lookup instead of a signature verification. It is bounded by
// entries and by bytes (each entry's cost is estimated from the token and
// its decoded session, see entryCost), sharded (lock contention), and every
// hit is re-checked by the caller: exp and nbf against the clock, and the
// key against the key set. An entry that would take more than its shard's
// byte budget is not cached at all.
//
// Entries are indexed by the token's last bytes (its signature's tail) to
// hash little, and a hit requires the whole token to be equal. A forged token
// that copies a cached token's signature is therefore a miss; it is
// rejected on the cold path and never replaces the genuine entry.
type tokenCache struct {
	shards        [cacheShards]cacheShard
	maxPerShard   int
	bytesPerShard int
}

const cacheShards = 16

type shardState struct {
	mu    sync.RWMutex
	m     map[string]*cacheEntry
	bytes int // sum of the entries' cost
}

// cacheShard pads a shard to two cache lines (the adjacent-line prefetcher
// fetches pairs), so shards locked by different cores do not share one.
type cacheShard struct {
	shardState
	_ [128 - unsafe.Sizeof(shardState{})%128]byte
}

// cacheEntry is immutable once stored.
type cacheEntry struct {
	raw  string // the whole token
	tok  *session.Token
	v    verified // the policy, and the key that verified the token
	cost int      // estimated bytes held, see entryCost
}

func newTokenCache(size, maxBytes int) *tokenCache {
	c := &tokenCache{maxPerShard: (size + cacheShards - 1) / cacheShards, bytesPerShard: maxBytes / cacheShards}
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

// put stores e, evicting entries until the shard is within both bounds; an
// entry larger than a shard's byte budget is not stored.
func (c *tokenCache) put(e *cacheEntry) {
	if e.cost > c.bytesPerShard {
		return
	}
	key := tail(e.raw)
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[key]; ok {
		s.bytes -= old.cost
		delete(s.m, key)
	}
	for len(s.m) > 0 && (len(s.m) >= c.maxPerShard || s.bytes+e.cost > c.bytesPerShard) {
		s.evictLocked()
	}
	s.m[key] = e
	s.bytes += e.cost
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
		s.bytes -= s.m[victim].cost
		delete(s.m, victim)
	}
}

// remove drops e if it is still the entry for its token.
func (c *tokenCache) remove(e *cacheEntry) {
	key := tail(e.raw)
	s := c.shard(key)
	s.mu.Lock()
	if s.m[key] == e {
		s.bytes -= e.cost
		delete(s.m, key)
	}
	s.mu.Unlock()
}

// entryOverhead is what an entry costs besides its token and session: the
// entry, its map slot and index string, the Token struct.
const entryOverhead = int(unsafe.Sizeof(cacheEntry{})+unsafe.Sizeof(session.Token{})) + 64

// entryCost estimates the bytes an entry keeps alive: the token, the buffer
// its payload was decoded into (about 3/4 of the token: the session's strings
// are substrings of it, or unescaped copies no longer than the payload), and
// every slice and pointer of the session. It is an upper bound up to the
// allocator's rounding.
func entryCost(raw string, t *session.Token, captures int) int {
	n := entryOverhead + len(raw) + raw3of4(len(raw)) + len(t.Payload()) +
		(len(t.Registered.Audience)+cap(t.Scopes)+2*captures)*int(unsafe.Sizeof(""))
	a := &t.Active
	n += cap(a.Permissions)*int(unsafe.Sizeof(session.Permission{})) + cap(a.Roles)*int(unsafe.Sizeof(session.Role{})) +
		cap(a.Plans)*int(unsafe.Sizeof(session.Plan("")))
	n += profileCost(&a.Profile)
	return n
}

func profileCost(p *session.Profile) int {
	const str = int(unsafe.Sizeof(""))
	n := (cap(p.Permissions) + cap(p.Roles) + cap(p.Plans)) * str
	if p.Phone != nil {
		n += str
	}
	n += organizationCost(&p.Organization)
	n += cap(p.Groups) * int(unsafe.Sizeof(session.Group{}))
	for i := range p.Groups {
		g := &p.Groups[i]
		n += (cap(g.Permissions) + cap(g.Roles)) * str
		if g.ParentID != nil {
			n += str
		}
		n += cap(g.Profiles) * int(unsafe.Sizeof(session.Profile{}))
		for j := range g.Profiles {
			n += profileCost(&g.Profiles[j])
		}
	}
	return n
}

func organizationCost(o *session.Organization) int {
	n := 0
	for _, p := range [...]*string{o.Address, o.Phone, o.BusinessName, o.Address2, o.ContactEmail, o.Timezone} {
		if p != nil {
			n += int(unsafe.Sizeof(""))
		}
	}
	return n
}

// raw3of4 is the size of the buffer the three segments of a token of n bytes
// decode into.
func raw3of4(n int) int { return n*3/4 + 3 }
