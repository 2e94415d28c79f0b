package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRun drives the in-process server briefly and checks that both routes
// answered and the report adds up.
func TestRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "load.json")
	o := options{clients: 2, duration: 200 * time.Millisecond, warmup: 50 * time.Millisecond, rounds: 1,
		users: 3, alg: "ES256", jsonOut: out}
	if err := run(o); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Result{rep.Healthz, rep.Me} {
		if r.Requests == 0 || r.Errors != 0 || r.PerSecond <= 0 || r.P50 <= 0 || r.P99 < r.P50 {
			t.Errorf("%s: %+v", r.Route, r)
		}
	}
	if rep.Ratio <= 0 || rep.Ratio != rep.Me.PerSecond/rep.Healthz.PerSecond {
		t.Errorf("ratio %v", rep.Ratio)
	}
	if err := run(options{clients: 0, duration: time.Second, rounds: 1, users: 1}); err == nil {
		t.Error("zero clients: want an error")
	}
}
