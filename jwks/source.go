package jwks

import (
	"context"
	"crypto"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// source is the fetch state of one configured Source.
type source struct {
	cfg    Source
	name   string
	remote bool
	wake   chan struct{} // asks the refresh loop to look again; buffered, 1

	// Guarded by mu.
	mu            sync.Mutex
	jwksURL       string // configured, or discovered (kindOIDC; "" to discover)
	keys          []*Key
	dropped       int
	logged        map[uint64]struct{} // rejected keys already logged
	moduli        moduliVerdicts      // RSA modulus verdicts of the last parse
	hasSet        bool
	stale         bool
	lastSuccess   time.Time
	lastAttempt   time.Time
	nextAttempt   time.Time
	failures      int // consecutive
	lastErr       error
	nextUnknown   time.Time // when the unknown-kid rate limit opens
	inflight      *flight
	fetches       uint64
	fetchFailures uint64
}

// flight is one fetch of a source. Whoever starts it runs it: the source's
// refresh loop (loop) in a started Set, the lookup that needed it in a Set
// not started; lookups and Start that need its result wait on done.
type flight struct {
	done    chan struct{} // closed when the fetch has ended and its result is in the snapshot
	at      time.Time     // when it started
	unknown bool          // started by an unknown kid: closes the rate limit when it ends
	loop    bool          // run by the refresh loop, not by the lookup that started it

	// Guarded by the source's mu.
	cancel  context.CancelFunc // of the fetch once it runs; Close calls it
	aborted bool               // ended without a result (the Set closed, or its runner's ctx ended); set before done is closed
}

// startFlightLocked registers a new fetch. src.mu held, no fetch in flight.
func (src *source) startFlightLocked(now time.Time, unknown, loop bool) *flight {
	src.inflight = &flight{done: make(chan struct{}), at: now, unknown: unknown, loop: loop}
	return src.inflight
}

// poke wakes the source's refresh loop, if any, to look at its state again.
func (src *source) poke() {
	select {
	case src.wake <- struct{}{}:
	default:
	}
}

// serves reports whether the source's keys may verify tokens of issuer: it
// has no issuer, or exactly that one; every source serves the lookups with
// issuer "" (see [Set.Key]).
func (src *source) serves(issuer string) bool {
	return issuer == "" || src.cfg.Issuer == "" || src.cfg.Issuer == issuer
}

// usableAt reports whether the source has a set younger than maxStale.
// src.mu held.
func (src *source) usableAt(now time.Time, maxStale time.Duration) bool {
	if !src.remote {
		return true
	}
	return src.hasSet && !src.stale && now.Sub(src.lastSuccess) < maxStale
}

// run is the refresh loop of a remote source in a started Set: it runs the
// fetches that are due and those lookups ask it for, marks the set stale past
// MaxStale, and sleeps in between. Background fetches run on ctx (bounded by
// Fetch.Timeout). It returns when the Set is closed.
func (s *Set) run(ctx context.Context, src *source) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for s.state.Load() != stateClosed {
		now := time.Now()
		s.expire(src, now)
		var f *flight
		wait := time.Duration(-1) // no timer: a lookup's fetch is in flight, its end wakes the loop
		src.mu.Lock()
		switch {
		case src.inflight != nil:
			if src.inflight.loop {
				f = src.inflight // asked for by a lookup or Start
			}
		case !now.Before(src.nextAttempt):
			f = src.startFlightLocked(now, false, true)
		default:
			wait = src.nextAttempt.Sub(now)
			if src.hasSet && !src.stale {
				wait = max(0, min(wait, src.lastSuccess.Add(s.cfg.maxStale).Sub(now)))
			}
		}
		src.mu.Unlock()
		if f != nil {
			s.fetch(ctx, src, f)
			continue
		}
		if wait >= 0 {
			timer.Reset(wait)
		}
		select {
		case <-src.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
	// A fetch a lookup asked for after the loop's last look ends unrun.
	src.mu.Lock()
	f := src.inflight
	src.mu.Unlock()
	if f != nil && f.loop {
		s.endFlight(src, f, true)
	}
}

// expire marks src's set stale once it is older than MaxStale, and stores a
// snapshot without its keys.
func (s *Set) expire(src *source, now time.Time) {
	src.mu.Lock()
	expired := src.hasSet && !src.stale && now.Sub(src.lastSuccess) >= s.cfg.maxStale
	if expired {
		src.stale = true
	}
	src.mu.Unlock()
	if expired {
		s.logger().Error("jwks: key set is older than the maximum staleness; lookups answer ErrUnavailable until a fetch succeeds",
			"source", src.name, "max_stale", s.cfg.maxStale)
		s.rebuild()
	}
}

// fetch runs the flight f of src on ctx, bounded by Fetch.Timeout, updates
// src's state and the snapshot, and ends the flight. A fetch that ends
// because the Set closed or ctx ended records nothing: it is aborted, and a
// lookup waiting for it may start another.
func (s *Set) fetch(ctx context.Context, src *source, f *flight) {
	fctx, cancel := context.WithTimeout(ctx, s.cfg.fetch.Timeout)
	defer cancel()
	src.mu.Lock()
	f.cancel = cancel
	closed := s.state.Load() == stateClosed
	jwksURL := src.jwksURL
	src.mu.Unlock()
	var (
		ps      *parsedSet
		hdr     http.Header
		usedURL string
		err     error
	)
	if !closed {
		ps, hdr, usedURL, err = s.download(fctx, src, jwksURL)
	}
	if closed || ctx.Err() != nil || s.state.Load() == stateClosed {
		s.endFlight(src, f, true)
		return
	}

	now := time.Now()
	var fresh []rejectedKey
	src.mu.Lock()
	src.fetches++
	src.lastAttempt = now
	if f.unknown {
		src.nextUnknown = f.at.Add(s.cfg.unknown.Window)
	}
	recovered := err == nil && src.failures > 0
	if ps != nil {
		fresh = src.noteRejected(ps.rejected)
		src.moduli = ps.moduli
	}
	if err == nil {
		src.keys = reuseKeys(src.keys, ps.keys)
		src.dropped = len(ps.rejected)
		src.hasSet, src.stale = true, false
		src.lastSuccess = now
		src.failures, src.lastErr = 0, nil
		src.jwksURL = usedURL
		src.nextAttempt = now.Add(refreshInterval(hdr, now, s.cfg.refresh, s.cfg.maxStale, s.rnd))
	} else {
		src.fetchFailures++
		src.failures++
		src.lastErr = err
		if src.cfg.kind == kindOIDC {
			src.jwksURL = "" // discover again next time
		}
		src.nextAttempt = now.Add(backoff(src.failures, s.cfg.refresh.MaxBackoff, s.rnd))
	}
	failures, next, nkeys, hasSet := src.failures, src.nextAttempt, len(src.keys), src.hasSet
	src.mu.Unlock()

	logRejected(s.logger(), src.name, fresh)
	switch {
	case err != nil:
		msg := "jwks: fetch failed; the previous key set stays in force"
		if !hasSet {
			msg = "jwks: fetch failed; no key set loaded yet, lookups answer ErrUnavailable"
		}
		s.logger().Warn(msg, "source", src.name, "error", err, "consecutive_failures", failures, "retry_at", next)
	case recovered:
		s.logger().Info("jwks: fetch recovered", "source", src.name, "keys", nkeys, "next_refresh", next)
	default:
		s.logger().Debug("jwks: fetched key set", "source", src.name, "keys", nkeys, "next_refresh", next)
	}
	// A Set not started also rebuilds after a failure: its snapshot carries
	// the time of the next attempt (see snapshot.refreshAt).
	if err == nil || s.state.Load() == stateNew {
		s.rebuild()
	}
	s.endFlight(src, f, false)
}

// endFlight ends f, a flight of src, and wakes the loop.
func (s *Set) endFlight(src *source, f *flight, aborted bool) {
	src.mu.Lock()
	f.aborted = aborted
	if src.inflight == f {
		src.inflight = nil
	}
	src.mu.Unlock()
	close(f.done)
	src.poke()
}

// download fetches (and for kindOIDC discovers) a source's JWK set and
// applies key hygiene. It returns the parsed set (also on ErrInvalidKeySet,
// for logging), the response headers and the JWK set URL used.
func (s *Set) download(ctx context.Context, src *source, jwksURL string) (*parsedSet, map[string][]string, string, error) {
	var err error
	if jwksURL == "" {
		jwksURL, err = discover(ctx, s.cfg.client, src.cfg.Issuer, s.cfg.fetch.MaxBodyBytes, s.cfg.insecureAny)
		if err != nil {
			return nil, nil, "", err
		}
	}
	body, hdr, err := get(ctx, s.cfg.client, jwksURL, s.cfg.fetch.MaxBodyBytes, "application/jwk-set+json, application/json")
	if err != nil {
		return nil, nil, "", err
	}
	src.mu.Lock()
	prev := src.moduli
	src.mu.Unlock()
	ps, err := parseKeySet(body, src.cfg.Issuer, prev)
	if err != nil {
		return ps, nil, "", &FetchError{URL: jwksURL, Err: err}
	}
	return ps, hdr, jwksURL, nil
}

// reuseKeys returns next with every key that equals one in prev (same kid,
// alg and public key) replaced by prev's pointer, so unchanged keys keep
// their identity across refreshes.
func reuseKeys(prev, next []*Key) []*Key {
	for i, k := range next {
		for _, p := range prev {
			if p.ID == k.ID && p.Alg == k.Alg && p.fits == k.fits && samePublic(p, k) {
				next[i] = p
				break
			}
		}
	}
	return next
}

func samePublic(a, b *Key) bool {
	pa, ok := a.Public.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pa.Equal(b.Public)
}

// noteRejected returns the rejected keys not logged after the previous
// fetch and remembers the current ones. src.mu held.
func (src *source) noteRejected(rejected []rejectedKey) []rejectedKey {
	var fresh []rejectedKey
	now := make(map[uint64]struct{}, len(rejected))
	for _, r := range rejected {
		now[r.sum] = struct{}{}
		if _, seen := src.logged[r.sum]; !seen {
			fresh = append(fresh, r)
		}
	}
	src.logged = now
	return fresh
}

// logRejected logs every rejected key of a static source once.
func (src *source) logRejected(l *slog.Logger, rejected []rejectedKey) {
	logRejected(l, src.name, src.noteRejected(rejected))
}

func logRejected(l *slog.Logger, name string, rejected []rejectedKey) {
	for _, r := range rejected {
		l.Warn("jwks: dropped key", "source", name, "index", r.index, "kid", r.kid, "kty", r.kty, "reason", r.reason)
	}
}
