package jwks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiongate/sessiongate/internal/jwa"
)

// Set is a key set made of one or more sources, looked up by kid and alg.
// It is safe for concurrent use. Create it with [New]; stop it with
// [Set.Close].
type Set struct {
	cfg     settings
	sources []*source
	issuers []string // the distinct non-empty Source.Issuer values, in order
	snap    atomic.Pointer[snapshot]
	rnd     func() float64

	mu      sync.Mutex // guards starting, closing and storing snapshots
	started atomic.Bool
	closed  atomic.Bool
	ctx     context.Context // the background work's; cancelled by Close
	cancel  context.CancelFunc
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup

	neg negCache

	unknownRefetches atomic.Uint64
	unknownFastFails atomic.Uint64

	// testHookParked, when set (by tests, before Start), is called by a
	// refresh loop each time it has armed its timer and is about to wait.
	testHookParked func()
}

// New validates cfg and returns a Set. It does no network I/O: fetching
// starts with [Set.Start] or at the first [Set.Key] call. Static sources
// are parsed here; one that leaves no usable key is an error.
func New(cfg Config) (*Set, error) {
	st, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	s := &Set{
		cfg:  st,
		rnd:  defaultRand,
		done: make(chan struct{}),
		neg:  negCache{max: st.unknown.NegativeCacheSize, ttl: st.unknown.NegativeCacheTTL},
	}
	for i, sc := range cfg.Sources {
		src := &source{cfg: sc, wake: make(chan struct{}, 1), logged: map[uint64]struct{}{}}
		if err := checkIssuerTemplate(sc.Issuer); err != nil {
			return nil, configError("source %d: issuer %q: %v", i, sc.Issuer, err)
		}
		switch sc.kind {
		case kindURL:
			if _, err := checkURL(sc.url, st.insecureAny); err != nil {
				return nil, configError("source %d: %v", i, err)
			}
			src.remote, src.name, src.jwksURL = true, sc.url, sc.url
		case kindOIDC:
			if sc.Issuer == "" {
				return nil, configError("source %d: OIDC source without issuer", i)
			}
			u, err := checkURL(sc.Issuer, st.insecureAny)
			if err != nil {
				return nil, configError("source %d: issuer: %v", i, err)
			}
			if u.RawQuery != "" {
				return nil, configError("source %d: issuer %q has a query", i, sc.Issuer)
			}
			src.remote, src.name = true, sc.Issuer
		case kindStatic:
			src.name = "static#" + strconv.Itoa(i)
			ps, err := parseKeySet(sc.json, sc.Issuer, nil)
			if ps != nil {
				src.logRejected(st.logger, ps.rejected)
			}
			if err != nil {
				return nil, fmt.Errorf("%w: source %d: %w", ErrInvalidConfig, i, err)
			}
			src.keys, src.dropped, src.hasSet = ps.keys, len(ps.rejected), true
		default:
			return nil, configError("source %d: unknown kind %d", i, sc.kind)
		}
		s.sources = append(s.sources, src)
		if sc.Issuer != "" && !slices.Contains(s.issuers, sc.Issuer) {
			s.issuers = append(s.issuers, sc.Issuer)
		}
	}
	s.snap.Store(s.build(1))
	return s, nil
}

// Key returns the key for a token of issuer with the header's kid and alg.
//
// Only keys that may verify issuer's tokens are considered: the keys of the
// sources whose [Source.Issuer] equals issuer exactly, and the keys of the
// sources without Issuer, which verify tokens of any issuer. Another issuer's
// keys are never returned, so one issuer cannot make the kids of another
// ambiguous by publishing them too. An issuer no source is bound to gets the
// keys of the sources without Issuer only. The issuer "" is the merged view of
// every source's keys, whatever their issuer: a transitional lookup for
// callers that do not know the issuer yet, which must then compare
// [Key.Issuer] with the token's iss themselves.
//
// On a hit it answers from memory, with no I/O and no allocation, and
// returns the same *Key for the same key until the set changes. A kid that
// is not among issuer's keys triggers at most one refetch of each source that
// could serve them (bound to issuer, or without Issuer), shared by all
// concurrent lookups (each waits for it at most until its own ctx is done),
// and rate limited per source by [UnknownKIDConfig]; while the limit is
// closed the lookup fails at once with [ErrKeyNotFound].
//
// A token without kid (kid == "") gets a key only when exactly one of
// issuer's keys fits alg; with several it gets [ErrAmbiguousKey]. A kid that
// two of issuer's sources publish is resolved by alg the same way.
//
// Errors: [ErrKeyNotFound], [ErrAlgMismatch], [ErrAmbiguousKey], an
// [*UnavailableError] (errors.Is [ErrUnavailable]) when a source the key
// might come from has no usable set, [ErrClosed], or ctx's error.
//
// If [Set.Start] was not called, the first call that misses starts the
// background work and waits for the first fetch.
func (s *Set) Key(ctx context.Context, issuer, kid, alg string) (*Key, error) {
	ix := s.snap.Load().index(issuer)
	if kid != "" {
		if k := ix.byKid[kid]; k != nil {
			if k.fits.Has(jwa.Parse(alg)) {
				return k, nil
			}
			return nil, ErrAlgMismatch
		}
	} else if k := ix.noKid[jwa.Parse(alg)]; k != nil {
		return k, nil
	}
	return s.keySlow(ctx, issuer, kid, alg)
}

// keySlow handles every lookup the hot path could not answer.
func (s *Set) keySlow(ctx context.Context, issuer, kid, alg string) (*Key, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	a := jwa.Parse(alg)
	if a == 0 {
		return nil, ErrAlgMismatch
	}
	if len(kid) > maxKIDLen {
		return nil, ErrKeyNotFound
	}
	// Lazily started background work must not hold on to a request's
	// context values for the Set's lifetime.
	s.ensureStarted(context.Background())
	snap := s.snap.Load()
	if k, err := snap.index(issuer).lookup(kid, a); err != ErrKeyNotFound {
		return k, err
	}
	now := s.cfg.clock.Now()
	// An unknown kid may trigger a refetch, unless it was just looked for.
	mayRefetch := kid != "" && !s.neg.has(issuer, kid, snap.gen, now)
	var buf [4]*flight
	waits := buf[:0]
	triggered := false
	for _, src := range s.sources {
		if !src.remote || !src.serves(issuer) {
			continue
		}
		f, trig := s.joinOrTrigger(src, now, mayRefetch)
		if f != nil {
			waits = append(waits, f)
		}
		triggered = triggered || trig
	}
	if triggered {
		s.unknownRefetches.Add(1)
	}
	for _, f := range waits {
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("jwks: waiting for key set: %w", ctx.Err())
		case <-s.done:
			return nil, ErrClosed
		}
	}
	snap = s.snap.Load()
	k, err := snap.index(issuer).lookup(kid, a)
	if err != ErrKeyNotFound {
		return k, err
	}
	now = s.cfg.clock.Now()
	if ue := s.unavailable(now, issuer); ue != nil {
		return nil, ue
	}
	// Remember the kid only when a fetch ended after it was asked for: a kid
	// refused by the rate limit may still arrive with the next refetch.
	if kid != "" && len(waits) > 0 {
		s.neg.add(issuer, kid, snap.gen, now)
	}
	if kid != "" && len(waits) == 0 {
		s.unknownFastFails.Add(1)
	}
	return nil, ErrKeyNotFound
}

// joinOrTrigger returns the fetch of src in flight, or starts one for an
// unknown kid when src has a usable set and its rate limit is open.
func (s *Set) joinOrTrigger(src *source, now time.Time, mayRefetch bool) (f *flight, triggered bool) {
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.inflight != nil {
		return src.inflight, false
	}
	// A source without a usable set is retried by its loop with backoff;
	// lookups do not add to that.
	if !mayRefetch || !src.usableAt(now, s.cfg.maxStale) || now.Before(src.nextUnknown) {
		return nil, false
	}
	src.nextUnknown = now.Add(s.cfg.unknown.Window)
	f = src.startFlightLocked()
	return f, true
}

// Start begins the background work, if not yet begun, and waits until the
// first fetch of every remote source has ended or ctx is done. It returns
// the fetch errors of sources that have no usable set (joined with
// [errors.Join]); the set is usable anyway and keeps retrying with backoff.
// Calling Start again waits for fetches in flight and reports the current
// state. Background fetches use a context that carries ctx's values but not
// its cancellation (a Set started lazily by [Set.Key] uses
// context.Background()); [Set.Close] cancels them.
func (s *Set) Start(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.ensureStarted(ctx)
	for _, src := range s.sources {
		src.mu.Lock()
		f := src.inflight
		src.mu.Unlock()
		if f == nil {
			continue
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return fmt.Errorf("jwks: start: %w", ctx.Err())
		case <-s.done:
			return ErrClosed
		}
	}
	now := s.cfg.clock.Now()
	var errs []error
	for _, src := range s.sources {
		src.mu.Lock()
		if !src.usableAt(now, s.cfg.maxStale) {
			err := src.lastErr
			if err == nil {
				err = &UnavailableError{RetryAfter: time.Second}
			}
			errs = append(errs, err)
		}
		src.mu.Unlock()
	}
	return errors.Join(errs...)
}

// ensureStarted starts one refresh loop per remote source, each beginning
// with a fetch that lookups can wait for.
func (s *Set) ensureStarted(ctx context.Context) {
	if s.started.Load() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started.Load() || s.closed.Load() {
		return
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, src := range s.sources {
		if !src.remote {
			continue
		}
		src.mu.Lock()
		src.startFlightLocked()
		src.mu.Unlock()
		s.wg.Add(1)
		go s.run(src)
	}
	s.started.Store(true)
}

// Ready reports whether every source has a usable set: fetched successfully
// and younger than [Config.MaxStale] (static sources always are). It returns
// nil when ready, an [*UnavailableError] otherwise, [ErrClosed] after Close.
func (s *Set) Ready() error {
	if s.closed.Load() {
		return ErrClosed
	}
	if ue := s.unavailable(s.cfg.clock.Now(), ""); ue != nil {
		return ue
	}
	return nil
}

// unavailable returns an error for the first source that could serve
// issuer's keys (every source for "") without a usable set, nil when all of
// them have one.
func (s *Set) unavailable(now time.Time, issuer string) *UnavailableError {
	for _, src := range s.sources {
		if !src.serves(issuer) {
			continue
		}
		src.mu.Lock()
		ok := src.usableAt(now, s.cfg.maxStale)
		var ue *UnavailableError
		if !ok {
			retry := time.Second
			if src.inflight == nil && src.nextAttempt.After(now) {
				retry = max(retry, src.nextAttempt.Sub(now).Round(time.Second))
			}
			err := src.lastErr
			if err == nil && src.hasSet {
				err = fmt.Errorf("jwks: %s: key set older than %v", src.name, s.cfg.maxStale)
			}
			ue = &UnavailableError{RetryAfter: retry, Err: err}
		}
		src.mu.Unlock()
		if ue != nil {
			return ue
		}
	}
	return nil
}

// Close stops every goroutine the Set started and waits for them. Lookups
// after Close fail with [ErrClosed]. Close is idempotent and returns nil.
func (s *Set) Close() error {
	s.mu.Lock()
	if !s.closed.Load() {
		s.closed.Store(true)
		close(s.done)
		if s.cancel != nil {
			s.cancel()
		}
		s.snap.Store(emptySnapshot(s.snap.Load().gen + 1))
	}
	s.mu.Unlock()
	s.wg.Wait()
	if s.cfg.ownClient {
		s.cfg.client.CloseIdleConnections()
	}
	return nil
}

// rebuild stores a new snapshot from the sources' current state.
func (s *Set) rebuild() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return
	}
	s.snap.Store(s.build(s.snap.Load().gen + 1))
}

// Stats is a snapshot of a Set's counters and state.
type Stats struct {
	// Keys is the number of usable keys in the set.
	Keys int
	// Fetches and FetchFailures count fetch attempts of every source (a
	// discovery plus a JWK set request count as one attempt).
	Fetches, FetchFailures uint64
	// UnknownKIDRefetches counts refetches triggered by unknown kids.
	UnknownKIDRefetches uint64
	// UnknownKIDFastFails counts lookups of unknown kids answered at once,
	// without a fetch, because the rate limit was closed or the kid was in
	// the negative cache.
	UnknownKIDFastFails uint64
	// LastSuccess is the time of the latest successful fetch of any source.
	LastSuccess time.Time
	// Sources has one entry per configured source, in order.
	Sources []SourceStats
}

// SourceStats is the state of one source.
type SourceStats struct {
	// Name is the source's URL, issuer, or "static#<index>".
	Name string
	// Issuer is the issuer recorded on the source's keys.
	Issuer string
	// Usable reports whether the source has a set younger than MaxStale.
	Usable bool
	// Keys and DroppedKeys count the keys kept and dropped by key hygiene
	// in the source's current set.
	Keys, DroppedKeys int
	// Fetches and FetchFailures count this source's fetch attempts.
	Fetches, FetchFailures uint64
	// LastSuccess, LastAttempt and NextAttempt are zero when not applicable.
	LastSuccess, LastAttempt, NextAttempt time.Time
	// LastError is the error of the latest failed fetch since the latest
	// success, nil when that fetch succeeded.
	LastError error
}

// Stats returns a snapshot of the Set's counters and state.
func (s *Set) Stats() Stats {
	now := s.cfg.clock.Now()
	st := Stats{
		Keys:                s.snap.Load().keys,
		UnknownKIDRefetches: s.unknownRefetches.Load(),
		UnknownKIDFastFails: s.unknownFastFails.Load(),
	}
	for _, src := range s.sources {
		src.mu.Lock()
		ss := SourceStats{
			Name: src.name, Issuer: src.cfg.Issuer, Usable: src.usableAt(now, s.cfg.maxStale),
			Keys: len(src.keys), DroppedKeys: src.dropped,
			Fetches: src.fetches, FetchFailures: src.fetchFailures,
			LastSuccess: src.lastSuccess, LastAttempt: src.lastAttempt, NextAttempt: src.nextAttempt,
			LastError: src.lastErr,
		}
		src.mu.Unlock()
		if !src.remote {
			ss.NextAttempt = time.Time{}
		}
		st.Fetches += ss.Fetches
		st.FetchFailures += ss.FetchFailures
		if ss.LastSuccess.After(st.LastSuccess) {
			st.LastSuccess = ss.LastSuccess
		}
		st.Sources = append(st.Sources, ss)
	}
	return st
}

// negCache remembers recently seen unknown kids, per issuer of the lookup:
// bounded, entries valid for one snapshot generation and at most ttl.
type negCache struct {
	mu  sync.Mutex
	max int
	ttl time.Duration
	m   map[negKey]negEntry
}

type negKey struct{ issuer, kid string }

type negEntry struct {
	gen uint64
	at  time.Time
}

func (c *negCache) has(issuer, kid string, gen uint64, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := negKey{issuer, kid}
	e, ok := c.m[key]
	if !ok {
		return false
	}
	if e.gen != gen || now.Sub(e.at) >= c.ttl {
		delete(c.m, key)
		return false
	}
	return true
}

func (c *negCache) add(issuer, kid string, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[negKey]negEntry)
	}
	key := negKey{issuer, kid}
	if _, ok := c.m[key]; !ok && len(c.m) >= c.max {
		for k := range c.m { // evict an arbitrary entry
			delete(c.m, k)
			break
		}
	}
	c.m[negKey{strings.Clone(issuer), strings.Clone(kid)}] = negEntry{gen: gen, at: now}
}

func (c *negCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// logger returns the Set's logger.
func (s *Set) logger() *slog.Logger { return s.cfg.logger }
