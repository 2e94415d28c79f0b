package jwkstest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sessiongate/sessiongate/jwks/jwkstest"
)

func fired(ch <-chan time.Time) (time.Time, bool) {
	select {
	case v := <-ch:
		return v, true
	default:
		return time.Time{}, false
	}
}

func TestClock(t *testing.T) {
	c := jwkstest.NewClock(t0)
	if !c.Now().Equal(t0) {
		t.Fatalf("Now = %v", c.Now())
	}
	a := c.After(time.Minute)
	b := c.After(2 * time.Minute)
	z := c.After(0)
	if v, ok := fired(z); !ok || !v.Equal(t0) {
		t.Errorf("After(0) did not fire at once")
	}
	if neg := c.After(-time.Second); len(neg) != 1 {
		t.Errorf("After(<0) did not fire at once")
	}
	if c.Waiters() != 2 {
		t.Errorf("Waiters = %d, want 2", c.Waiters())
	}

	if got := c.Advance(59 * time.Second); !got.Equal(t0.Add(59 * time.Second)) {
		t.Errorf("Advance returned %v", got)
	}
	if _, ok := fired(a); ok {
		t.Fatal("fired before its deadline")
	}
	c.Advance(time.Second)
	if v, ok := fired(a); !ok || !v.Equal(t0.Add(time.Minute)) {
		t.Errorf("After(1m) at +1m: %v %v", v, ok)
	}
	if _, ok := fired(b); ok {
		t.Error("After(2m) fired at +1m")
	}
	if c.Since(t0) != time.Minute {
		t.Errorf("Since = %v", c.Since(t0))
	}

	// Moving back fires nothing; deadlines are absolute.
	c.Set(t0)
	if _, ok := fired(b); ok {
		t.Error("fired when moved back")
	}
	c.Set(t0.Add(time.Hour))
	if v, ok := fired(b); !ok || !v.Equal(t0.Add(time.Hour)) {
		t.Errorf("Set past the deadline: %v %v", v, ok)
	}
	if c.Waiters() != 0 {
		t.Errorf("Waiters = %d", c.Waiters())
	}

	// One Advance fires several channels, whatever their order of creation.
	late, early := c.After(3*time.Second), c.After(time.Second)
	c.Advance(10 * time.Second)
	if _, ok := fired(late); !ok {
		t.Error("late not fired")
	}
	if _, ok := fired(early); !ok {
		t.Error("early not fired")
	}

	// The zero Clock works too.
	var zero jwkstest.Clock
	ch := zero.After(time.Nanosecond)
	zero.Advance(time.Nanosecond)
	if _, ok := fired(ch); !ok {
		t.Error("zero Clock did not fire")
	}
}

// The Clock fits the jwks package's Clock interface and func() time.Time
// fields.
var (
	_ interface {
		Now() time.Time
		After(time.Duration) <-chan time.Time
	} = (*jwkstest.Clock)(nil)
	_ func() time.Time = (*jwkstest.Clock)(nil).Now
)

func TestClockWaitForWaiters(t *testing.T) {
	noGoroutineLeak(t)
	c := jwkstest.NewClock(t0)
	woke := make(chan time.Time)
	go func() { woke <- <-c.After(time.Minute) }() // a goroutine sleeping on the clock
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitForWaiters(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if v := <-woke; !v.Equal(t0.Add(time.Minute)) {
		t.Errorf("woke at %v", v)
	}

	short, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := c.WaitForWaiters(short, 1); err != context.Canceled {
		t.Errorf("WaitForWaiters with a done context = %v", err)
	}
}

func TestClockConcurrent(t *testing.T) {
	c := jwkstest.NewClock(t0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				ch := c.After(time.Second)
				c.Advance(time.Second)
				<-ch // fired by this Advance or another one
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got := c.Since(t0); got != 400*time.Second {
		t.Errorf("Since = %v", got)
	}
}

func TestIssuerUsesClock(t *testing.T) {
	iss := jwkstest.New("https://idp.example.test")
	defer iss.Close()
	if d := time.Since(iss.Now()); d < 0 || d > time.Minute {
		t.Errorf("system Now off by %v", d)
	}
	c := jwkstest.NewClock(t0)
	iss.SetClock(c)
	c.Advance(time.Hour)
	if !iss.Now().Equal(t0.Add(time.Hour)) {
		t.Errorf("Now = %v", iss.Now())
	}
	iss.SetClock(nil)
	if iss.Now().Equal(t0.Add(time.Hour)) {
		t.Error("SetClock(nil) kept the fake clock")
	}
}
