package bench

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func checkStorm(t *testing.T, r StormResult, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d requests, %d fetches (≤ %d), status %v, %s", r.Scenario, r.Requests, r.Fetches, r.Limit, r.Status, r.Elapsed)
	if r.Status[r.Want] != r.Requests {
		t.Errorf("status %v, want %d × %d", r.Status, r.Requests, r.Want)
	}
	if r.Fetches > r.Limit {
		t.Errorf("%d JWK set fetches, want ≤ %d", r.Fetches, r.Limit)
	}
}

func TestStormRotatedKID(t *testing.T) {
	r, err := StormRotatedKID(context.Background(), stormRequests)
	checkStorm(t, r, err)
	if r.Fetches != 1 {
		t.Errorf("%d fetches, want exactly 1 (the new kid must be fetched once)", r.Fetches)
	}
	if !r.Met() {
		t.Error("target missed")
	}
}

func TestStormUnknownKIDs(t *testing.T) {
	r, err := StormUnknownKIDs(context.Background(), stormRequests, 1, 0, 0)
	checkStorm(t, r, err)
	if r.Limit != 1 {
		t.Fatalf("storm took %s, longer than the default window", r.Elapsed)
	}
}

// TestStormUnknownKIDsWindows spreads the storm over several short windows:
// the refetches must follow the rate limit, not the requests.
func TestStormUnknownKIDsWindows(t *testing.T) {
	r, err := StormUnknownKIDs(context.Background(), stormRequests, 10, 50*time.Millisecond, 200*time.Millisecond)
	checkStorm(t, r, err)
	if r.Fetches < 2 {
		t.Errorf("%d fetches over %s: the window should have reopened", r.Fetches, r.Elapsed)
	}
	if r.Status[http.StatusUnauthorized] != r.Requests {
		t.Errorf("status %v", r.Status)
	}
}
