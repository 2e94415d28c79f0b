package jwks

import (
	"slices"
	"time"

	"github.com/sessiongate/sessiongate/internal/jwa"
)

// snapshot is an immutable view of the usable keys of every source, swapped
// atomically whenever a source changes. A lookup reads the one keyIndex of
// the issuer it names (see [Set.Key]), so at most two map lookups stand
// between a token and its key: the issuer's index (a scan of at most
// smallIssuers strings instead, when there are that few), then the kid.
type snapshot struct {
	gen uint64
	// all merges the keys of every source: the index of lookups with
	// issuer "".
	all keyIndex
	// anyIssuer holds the keys of the sources without Issuer: the index of
	// an issuer no source is bound to. It is &all when no source has an
	// issuer.
	anyIssuer *keyIndex
	// byIssuer holds, for each Source.Issuer, the keys of the sources bound
	// to exactly that issuer and of the sources without issuer. An entry
	// is &all when those sources are every source. With at most
	// smallIssuers issuers, they are in small instead (comparing a few
	// strings costs less than hashing one).
	byIssuer map[string]*keyIndex
	small    []issuerIndex
	keys     int
	// refreshAt, in a Set not started, is the earliest time a source whose
	// keys the snapshot holds is due for a refresh or goes stale; from then
	// on lookups take the slow path, which fetches (see [Set.Key]). Zero
	// when no such time applies: a started Set's loops refresh.
	refreshAt time.Time
}

// smallIssuers is the most issuers a snapshot scans rather than hashes.
const smallIssuers = 4

// issuerIndex is the index of one issuer.
type issuerIndex struct {
	issuer string
	ix     *keyIndex
}

// keyIndex answers lookups over the keys of some of the sources.
type keyIndex struct {
	byKid map[string]*Key
	// dupKid holds the kids that more than one of the sources publishes
	// (one source never does: key hygiene drops a kid it repeats).
	dupKid map[string][]*Key
	// noKid[a] is the only key that fits the algorithm a, for tokens
	// without kid; nil when none or several do (then noKidMany has a).
	noKid     [jwa.Count + 1]*Key
	noKidMany jwa.Set
}

// emptySnapshot returns a snapshot without keys.
func emptySnapshot(gen uint64) *snapshot {
	snap := &snapshot{gen: gen}
	snap.anyIssuer = &snap.all
	return snap
}

// index returns the keys that may verify tokens of issuer: every key for
// "", the keys of the sources bound to issuer and of the sources without
// issuer otherwise.
func (snap *snapshot) index(issuer string) *keyIndex {
	if issuer == "" {
		return &snap.all
	}
	for i := range snap.small {
		if snap.small[i].issuer == issuer {
			return snap.small[i].ix
		}
	}
	if ix := snap.byIssuer[issuer]; ix != nil {
		return ix
	}
	return snap.anyIssuer
}

// lookup finds a key for a token's kid and supported alg, without I/O.
func (ix *keyIndex) lookup(kid string, alg jwa.Alg) (*Key, error) {
	if kid == "" {
		if k := ix.noKid[alg]; k != nil {
			return k, nil
		}
		if ix.noKidMany.Has(alg) {
			return nil, ErrAmbiguousKey
		}
		return nil, ErrKeyNotFound
	}
	if k := ix.byKid[kid]; k != nil {
		if k.fits.Has(alg) {
			return k, nil
		}
		return nil, ErrAlgMismatch
	}
	if ks := ix.dupKid[kid]; len(ks) > 0 {
		var found *Key
		n := 0
		for _, k := range ks {
			if k.fits.Has(alg) {
				found = k
				n++
			}
		}
		switch n {
		case 0:
			return nil, ErrAlgMismatch
		case 1:
			return found, nil
		default:
			return nil, ErrAmbiguousKey
		}
	}
	return nil, ErrKeyNotFound
}

// fill indexes the keys of the sources for which include is true; keys[i]
// are the usable keys of source i (nil when it has none).
func (ix *keyIndex) fill(keys [][]*Key, include func(i int) bool) {
	ix.byKid = map[string]*Key{}
	var counts [jwa.Count + 1]int
	for i, ks := range keys {
		if !include(i) {
			continue
		}
		for _, k := range ks {
			for a := range k.fits.All() {
				counts[a]++
				ix.noKid[a] = k
			}
			if k.ID == "" {
				continue
			}
			if dup, ok := ix.dupKid[k.ID]; ok {
				ix.dupKid[k.ID] = append(dup, k)
			} else if prev := ix.byKid[k.ID]; prev != nil {
				if ix.dupKid == nil {
					ix.dupKid = map[string][]*Key{}
				}
				ix.dupKid[k.ID] = []*Key{prev, k}
				delete(ix.byKid, k.ID)
			} else {
				ix.byKid[k.ID] = k
			}
		}
	}
	for a, n := range counts {
		if n > 1 {
			ix.noKid[a] = nil
			ix.noKidMany |= jwa.Alg(a).Bit()
		}
	}
}

// ambiguous returns, sorted, the kids of ix that several of its keys
// publish for a common algorithm (a lookup of such a kid with that alg is
// ErrAmbiguousKey), keeping only those where one of the keys satisfies
// want.
func (ix *keyIndex) ambiguous(want func(*Key) bool) []string {
	var kids []string
	for kid, ks := range ix.dupKid {
		var seen, twice jwa.Set
		wanted := false
		for _, k := range ks {
			twice |= seen & k.fits
			seen |= k.fits
			wanted = wanted || want(k)
		}
		if twice != 0 && wanted {
			kids = append(kids, kid)
		}
	}
	slices.Sort(kids)
	return kids
}

// build makes a snapshot of the usable keys of every source, and logs (Warn)
// each kid that is ambiguous for the lookups of one issuer. s.mu held.
func (s *Set) build(gen uint64) *snapshot {
	keys := make([][]*Key, len(s.sources))
	var refreshAt time.Time
	notStarted := s.state.Load() == stateNew
	for i, src := range s.sources {
		src.mu.Lock()
		// A refresh replaces src.keys, never changes the slice in place.
		if src.hasSet && !src.stale {
			keys[i] = src.keys
			if notStarted && src.remote {
				t := src.nextAttempt
				if stale := src.lastSuccess.Add(s.cfg.maxStale); stale.Before(t) {
					t = stale
				}
				if refreshAt.IsZero() || t.Before(refreshAt) {
					refreshAt = t
				}
			}
		}
		src.mu.Unlock()
	}
	snap := emptySnapshot(gen)
	snap.refreshAt = refreshAt
	for _, ks := range keys {
		snap.keys += len(ks)
	}
	snap.all.fill(keys, func(int) bool { return true })
	// The index of an issuer (or of "no issuer" for anyIssuer): the sources
	// bound to it, and those without issuer.
	serving := func(issuer string) func(int) bool {
		return func(i int) bool {
			bound := s.sources[i].cfg.Issuer
			return bound == "" || bound == issuer
		}
	}
	everySource := func(include func(int) bool) bool {
		for i := range s.sources {
			if !include(i) {
				return false
			}
		}
		return true
	}
	if len(s.issuers) > 0 {
		snap.anyIssuer = new(keyIndex)
		snap.anyIssuer.fill(keys, serving(""))
	}
	if len(s.issuers) > smallIssuers {
		snap.byIssuer = make(map[string]*keyIndex, len(s.issuers))
	}
	s.logAmbiguous(keys, "", snap.anyIssuer.ambiguous(func(*Key) bool { return true }))
	for _, iss := range s.issuers {
		include := serving(iss)
		ix := &snap.all
		if !everySource(include) {
			ix = new(keyIndex)
			ix.fill(keys, include)
		}
		if snap.byIssuer != nil {
			snap.byIssuer[iss] = ix
		} else {
			snap.small = append(snap.small, issuerIndex{iss, ix})
		}
		// A kid only the sources without issuer repeat was logged above.
		s.logAmbiguous(keys, iss, ix.ambiguous(func(k *Key) bool { return k.Issuer == iss }))
	}
	return snap
}

// logAmbiguous logs the ambiguous kids of one issuer's lookups ("" for the
// issuer-less sources), naming the sources that publish each kid.
func (s *Set) logAmbiguous(keys [][]*Key, issuer string, kids []string) {
	for _, kid := range kids {
		var names []string
		for i, ks := range keys {
			if slices.ContainsFunc(ks, func(k *Key) bool { return k.ID == kid }) {
				if iss := s.sources[i].cfg.Issuer; iss == "" || iss == issuer {
					names = append(names, s.sources[i].name)
				}
			}
		}
		s.logger().Warn("jwks: several sources publish this kid for the same algorithm; tokens of the issuer with this kid are refused as ambiguous",
			"issuer", issuer, "kid", kid, "sources", names)
	}
}
