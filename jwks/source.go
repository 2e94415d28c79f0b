package jwks

import (
	"context"
	"crypto"
	"log/slog"
	"sync"
	"time"
)

// source is the fetch state of one configured Source.
type source struct {
	cfg    Source
	name   string
	remote bool
	wake   chan struct{} // asks the loop to fetch now; buffered, 1

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

// flight is one fetch of a source; done is closed when it has ended and
// its result is in the snapshot.
type flight struct {
	done chan struct{}
}

// startFlightLocked registers a new fetch and wakes the loop. src.mu held.
func (src *source) startFlightLocked() *flight {
	if src.inflight == nil {
		src.inflight = &flight{done: make(chan struct{})}
		select {
		case src.wake <- struct{}{}:
		default:
		}
	}
	return src.inflight
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

// run is the refresh loop of a remote source: it fetches when a fetch is
// requested or due, marks the set stale past MaxStale, and sleeps on the
// clock in between. It returns when the Set is closed.
func (s *Set) run(src *source) {
	defer s.wg.Done()
	for s.ctx.Err() == nil {
		now := s.cfg.clock.Now()
		src.mu.Lock()
		expired := src.hasSet && !src.stale && now.Sub(src.lastSuccess) >= s.cfg.maxStale
		if expired {
			src.stale = true
		}
		due := src.inflight != nil || !now.Before(src.nextAttempt)
		var wait time.Duration
		if !due {
			wait = src.nextAttempt.Sub(now)
			if src.hasSet && !src.stale {
				wait = min(wait, src.lastSuccess.Add(s.cfg.maxStale).Sub(now))
			}
		}
		src.mu.Unlock()
		if expired {
			s.logger().Error("jwks: key set is older than the maximum staleness; lookups answer ErrUnavailable until a fetch succeeds",
				"source", src.name, "max_stale", s.cfg.maxStale)
			s.rebuild()
		}
		if due {
			s.fetch(src)
			continue
		}
		timer := s.cfg.clock.After(wait)
		if s.testHookParked != nil {
			s.testHookParked()
		}
		select {
		case <-s.ctx.Done():
		case <-src.wake:
		case <-timer:
		}
	}
}

// fetch runs one fetch of src, updates its state and the snapshot, and ends
// the flight.
func (s *Set) fetch(src *source) {
	src.mu.Lock()
	f := src.startFlightLocked()
	// Drain the wake-up this flight caused, so the loop does not spin.
	select {
	case <-src.wake:
	default:
	}
	jwksURL := src.jwksURL
	src.mu.Unlock()

	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.fetch.Timeout)
	ps, hdr, usedURL, err := s.download(ctx, src, jwksURL)
	cancel()
	if s.ctx.Err() != nil {
		// Closed while fetching: not a failure worth recording or logging.
		src.mu.Lock()
		if src.inflight == f {
			src.inflight = nil
		}
		src.mu.Unlock()
		close(f.done)
		return
	}

	now := s.cfg.clock.Now()
	var fresh []rejectedKey
	src.mu.Lock()
	src.fetches++
	src.lastAttempt = now
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
		s.logger().Warn("jwks: fetch failed; previous key set stays in force", "source", src.name,
			"error", err, "consecutive_failures", failures, "retry_at", next, "has_set", hasSet)
	case recovered:
		s.logger().Info("jwks: fetch recovered", "source", src.name, "keys", nkeys, "next_refresh", next)
	default:
		s.logger().Debug("jwks: fetched key set", "source", src.name, "keys", nkeys, "next_refresh", next)
	}
	if err == nil {
		s.rebuild()
	}
	src.mu.Lock()
	if src.inflight == f {
		src.inflight = nil
	}
	src.mu.Unlock()
	close(f.done)
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
