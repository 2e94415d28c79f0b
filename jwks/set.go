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
// It is safe for concurrent use. Create it with [New], start its background
// refresh with [Set.Start], stop it with [Set.Close].
type Set struct {
	cfg     settings
	sources []*source
	issuers []string // the distinct non-empty Source.Issuer values, in order
	snap    atomic.Pointer[snapshot]
	rnd     func() float64

	// The lifecycle: state goes from stateNew to stateRunning (Start) and
	// to stateClosed (Close), changing only with mu held; mu also orders
	// snapshot stores with Close's. wg counts the refresh loops.
	mu    sync.Mutex
	state atomic.Int32
	wg    sync.WaitGroup

	neg negCache

	unknownRefetches atomic.Uint64
	unknownFastFails atomic.Uint64
}

// The states of a Set.
const (
	// stateNew: after New, no goroutine; lookups fetch themselves (see
	// [Set.Key]).
	stateNew int32 = iota
	// stateRunning: after Start, one refresh loop per remote source.
	stateRunning
	// stateClosed: after Close, no goroutine, no fetch, no key.
	stateClosed
)

// New validates cfg and returns a Set. It does no network I/O and starts no
// goroutine: fetching starts with [Set.Start], or with the first [Set.Key]
// call. Static sources are parsed here; one that leaves no usable key is an
// error.
func New(cfg Config) (*Set, error) {
	st, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	s := &Set{
		cfg: st,
		rnd: defaultRand,
		neg: negCache{max: st.unknown.NegativeCacheSize, ttl: st.unknown.NegativeCacheTTL},
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
// In a Set that was not started (see [Set.Start]) lookups do the fetching,
// on their own goroutine and ctx, and no goroutine runs in between: the
// lookup that finds a source's first fetch, retry or refresh due performs
// it, once for all concurrent lookups, which wait for it only when they
// need it (no usable set yet, or an unknown kid). A fetch whose lookup gives
// up is abandoned, and another waiting lookup starts it again. Refresh
// intervals, backoff, MaxStale and the unknown-kid rate limit apply as in a
// started Set; such a Set only refreshes while it is used.
func (s *Set) Key(ctx context.Context, issuer, kid, alg string) (*Key, error) {
	snap := s.snap.Load()
	if snap.refreshAt.IsZero() || time.Until(snap.refreshAt) > 0 {
		ix := snap.index(issuer)
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
	}
	return s.keySlow(ctx, issuer, kid, alg)
}

// keySlow handles every lookup the hot path could not answer.
func (s *Set) keySlow(ctx context.Context, issuer, kid, alg string) (*Key, error) {
	if s.state.Load() == stateClosed {
		return nil, ErrClosed
	}
	a := jwa.Parse(alg)
	if a == 0 {
		return nil, ErrAlgMismatch
	}
	if len(kid) > maxKIDLen {
		return nil, ErrKeyNotFound
	}
	now := time.Now()
	if s.state.Load() == stateNew {
		// No loop marks sets stale: the lookups do.
		for _, src := range s.sources {
			if src.remote {
				s.expire(src, now)
			}
		}
	}
	snap := s.snap.Load()
	_, err := snap.index(issuer).lookup(kid, a)
	miss := err == ErrKeyNotFound
	// An unknown kid may trigger a refetch, unless it was just looked for.
	mayRefetch := miss && kid != "" && !s.neg.has(issuer, kid, snap.gen, now)
	waited, triggered := false, false
	for _, src := range s.sources {
		if !src.remote || !src.serves(issuer) {
			continue
		}
		w, trig, err := s.await(ctx, src, now, miss, mayRefetch)
		if err != nil {
			return nil, err
		}
		waited, triggered = waited || w, triggered || trig
	}
	if triggered {
		s.unknownRefetches.Add(1)
	}
	snap = s.snap.Load()
	k, err := snap.index(issuer).lookup(kid, a)
	if err != ErrKeyNotFound {
		return k, err
	}
	now = time.Now()
	if ue := s.unavailable(now, issuer); ue != nil {
		return nil, ue
	}
	// Remember the kid only when a fetch ended after it was asked for: a kid
	// refused by the rate limit may still arrive with the next refetch.
	if kid != "" && waited {
		s.neg.add(issuer, kid, snap.gen, now)
	}
	if kid != "" && !waited {
		s.unknownFastFails.Add(1)
	}
	return nil, ErrKeyNotFound
}

// await lets a lookup see the result of src's fetch in flight, or of one it
// starts, when it needs it: for a key it did not find (miss), or while src
// has no usable set. It returns whether it waited for a fetch that ended,
// and whether it started an unknown-kid refetch.
func (s *Set) await(ctx context.Context, src *source, now time.Time, miss, mayRefetch bool) (waited, triggered bool, err error) {
	for {
		if err := ctx.Err(); err != nil {
			return waited, triggered, fmt.Errorf("jwks: waiting for key set: %w", err)
		}
		f, started, wait := s.flightFor(src, now, miss, mayRefetch)
		if f == nil {
			return waited, triggered, nil
		}
		triggered = triggered || started && f.unknown
		if started && !f.loop {
			s.fetch(ctx, src, f)
		}
		if !wait {
			return waited, triggered, nil
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return waited, triggered, fmt.Errorf("jwks: waiting for key set: %w", ctx.Err())
		}
		if s.state.Load() == stateClosed {
			return waited, triggered, ErrClosed
		}
		if !f.aborted {
			return true, triggered, nil
		}
		// The lookup running the fetch gave up before it ended: look again.
		now = time.Now()
	}
}

// flightFor returns src's fetch in flight, or one it starts (started) with
// the lookup's reason: a due fetch in a Set not started (which the lookup
// runs), or an unknown kid (miss and mayRefetch) while src has a usable set
// and its rate limit is open. wait says whether the lookup needs the result.
func (s *Set) flightFor(src *source, now time.Time, miss, mayRefetch bool) (f *flight, started, wait bool) {
	src.mu.Lock()
	defer src.mu.Unlock()
	usable := src.usableAt(now, s.cfg.maxStale)
	if f := src.inflight; f != nil {
		// Without a miss, a usable set answers while it refreshes.
		return f, false, miss || !usable
	}
	switch state := s.state.Load(); {
	case state == stateClosed:
		return nil, false, false
	case state == stateNew && !now.Before(src.nextAttempt):
		f = src.startFlightLocked(now, false, false)
	// A source without a usable set is retried with backoff; lookups of
	// unknown kids do not add to that.
	case mayRefetch && usable && !now.Before(src.nextUnknown):
		f = src.startFlightLocked(now, true, state == stateRunning)
		if f.loop {
			src.poke()
		}
	default:
		return nil, false, false
	}
	return f, true, true
}

// Start starts the background refresh, if not yet started, and waits until
// the fetch of every remote source that is due (the first one, after New)
// has ended or ctx is done. It returns the fetch errors of sources that have
// no usable set (joined with [errors.Join]); the set is usable anyway and
// keeps retrying with backoff. Calling Start again waits for fetches in
// flight and reports the current state.
//
// The refresh runs one goroutine per remote source until [Set.Close], which
// stops and waits for them; ctx's cancellation does not stop it. Background
// fetches use a context that carries ctx's values but not its cancellation,
// each bounded by [FetchConfig.Timeout]. Start after Close returns
// [ErrClosed].
func (s *Set) Start(ctx context.Context) error {
	s.mu.Lock()
	switch s.state.Load() {
	case stateClosed:
		s.mu.Unlock()
		return ErrClosed
	case stateNew:
		s.state.Store(stateRunning)
		// The snapshot of a started Set has no refreshAt: its loops refresh.
		if !s.snap.Load().refreshAt.IsZero() {
			s.snap.Store(s.build(s.snap.Load().gen + 1))
		}
		bg := context.WithoutCancel(ctx)
		for _, src := range s.sources {
			if src.remote {
				s.wg.Go(func() { s.run(bg, src) })
			}
		}
	}
	s.mu.Unlock()
	for _, src := range s.sources {
		if !src.remote {
			continue
		}
		if err := s.awaitStart(ctx, src); err != nil {
			return err
		}
	}
	now := time.Now()
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

// awaitStart asks src's loop for a fetch if one is due, and waits for the
// fetch in flight, if any.
func (s *Set) awaitStart(ctx context.Context, src *source) error {
	for {
		now := time.Now()
		src.mu.Lock()
		f := src.inflight
		if f == nil && !now.Before(src.nextAttempt) && s.state.Load() == stateRunning {
			f = src.startFlightLocked(now, false, true)
			src.poke()
		}
		src.mu.Unlock()
		if f == nil {
			return nil
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return fmt.Errorf("jwks: start: %w", ctx.Err())
		}
		if s.state.Load() == stateClosed {
			return ErrClosed
		}
		if !f.aborted {
			return nil
		}
		// A lookup of the Set before Start ran that fetch and gave up.
	}
}

// Ready reports whether every source has a usable set: fetched successfully
// and younger than [Config.MaxStale] (static sources always are). It returns
// nil when ready, an [*UnavailableError] otherwise, [ErrClosed] after Close.
func (s *Set) Ready() error {
	if s.state.Load() == stateClosed {
		return ErrClosed
	}
	if ue := s.unavailable(time.Now(), ""); ue != nil {
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

// Close stops the Set: it ends every fetch in flight, stops the refresh
// goroutines and waits for them, and releases the idle connections of the
// default HTTP client. Lookups waiting for a fetch and every call after
// Close fail with [ErrClosed]. Close is idempotent and safe to call
// concurrently, also on a Set never started; it fits defer and t.Cleanup.
func (s *Set) Close() {
	s.mu.Lock()
	first := s.state.Load() != stateClosed
	if first {
		s.state.Store(stateClosed)
		s.snap.Store(emptySnapshot(s.snap.Load().gen + 1))
	}
	s.mu.Unlock()
	if first {
		for _, src := range s.sources {
			src.mu.Lock()
			if f := src.inflight; f != nil && f.cancel != nil {
				f.cancel()
			}
			src.mu.Unlock()
			src.poke()
		}
	}
	s.wg.Wait()
	if s.cfg.ownClient {
		s.cfg.client.CloseIdleConnections()
	}
}

// rebuild stores a new snapshot from the sources' current state.
func (s *Set) rebuild() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.Load() == stateClosed {
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
	now := time.Now()
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

// logger returns the Set's logger.
func (s *Set) logger() *slog.Logger { return s.cfg.logger }
