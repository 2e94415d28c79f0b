package jwkstest

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock is a fake clock for tests. Time stands still until [Clock.Advance]
// or [Clock.Set] moves it; channels from [Clock.After] fire when it passes
// their deadline. It satisfies the Clock interface of package jwks (Now and
// After), and its method value c.Now fits any func() time.Time field.
//
// A Clock is safe for concurrent use. Use [NewClock]; the zero Clock starts
// at the zero time.Time.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []clockWaiter
	added   chan struct{} // closed and replaced whenever a waiter is added
}

type clockWaiter struct {
	at time.Time
	ch chan time.Time
}

// NewClock returns a Clock that reads start until moved.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Since returns the time elapsed since t on the clock.
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Advance moves the clock forward by d (backward if d is negative), fires
// the After channels whose deadline it reached, and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(c.now.Add(d))
	return c.now
}

// Set moves the clock to t and fires the After channels whose deadline is
// not after t. Moving the clock back fires nothing.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(t)
}

func (c *Clock) setLocked(t time.Time) {
	c.now = t
	sort.SliceStable(c.waiters, func(i, j int) bool { return c.waiters[i].at.Before(c.waiters[j].at) })
	n := 0
	for _, w := range c.waiters {
		if w.at.After(t) {
			break
		}
		w.ch <- t // buffered, never blocks
		n++
	}
	c.waiters = append(c.waiters[:0], c.waiters[n:]...)
}

// After returns a channel that receives the clock's time once the clock has
// been moved d or more past the current time, like [time.After]. A d of zero
// or less fires at once. The channel has a buffer of one, so the clock never
// blocks on a reader that has gone away.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, clockWaiter{at: c.now.Add(d), ch: ch})
	if c.added != nil {
		close(c.added)
		c.added = nil
	}
	return ch
}

// Waiters returns the number of After channels that have not fired yet
// (including ones whose reader has gone away).
func (c *Clock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// WaitForWaiters blocks until at least n After channels are pending, so a
// test can let a goroutine reach its timer before advancing the clock
// without sleeping. It returns ctx.Err() if ctx ends first.
func (c *Clock) WaitForWaiters(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		if len(c.waiters) >= n {
			c.mu.Unlock()
			return nil
		}
		if c.added == nil {
			c.added = make(chan struct{})
		}
		added := c.added
		c.mu.Unlock()
		select {
		case <-added:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
