package jwks

import (
	"net/http"
	"testing"
	"time"
)

func TestRefreshIntervalClamp(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rc := RefreshConfig{Interval: defaultRefreshInterval, Min: defaultMinRefresh, Max: defaultMaxRefresh}
	date := now.Format(http.TimeFormat)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"none", http.Header{}, 15 * time.Minute},
		{"max-age 600", http.Header{"Cache-Control": {"public, max-age=600"}}, 10 * time.Minute},
		{"MAX-AGE upper case", http.Header{"Cache-Control": {"MAX-AGE=600"}}, 10 * time.Minute},
		{"quoted", http.Header{"Cache-Control": {`max-age="600"`}}, 10 * time.Minute},
		{"max-age 0", http.Header{"Cache-Control": {"max-age=0"}}, time.Minute},
		{"max-age 1", http.Header{"Cache-Control": {"max-age=1"}}, time.Minute},
		{"no-cache", http.Header{"Cache-Control": {"no-cache"}}, time.Minute},
		{"no-store", http.Header{"Cache-Control": {"private, no-store"}}, time.Minute},
		{"huge", http.Header{"Cache-Control": {"max-age=31536000"}}, 24 * time.Hour},
		{"overflow", http.Header{"Cache-Control": {"max-age=99999999999999999999999"}}, 24 * time.Hour},
		{"garbage", http.Header{"Cache-Control": {"max-age=tomorrow"}}, 15 * time.Minute},
		{"negative", http.Header{"Cache-Control": {"max-age=-5"}}, 15 * time.Minute},
		{"empty value", http.Header{"Cache-Control": {"max-age="}}, 15 * time.Minute},
		{"other directives only", http.Header{"Cache-Control": {"public, must-revalidate"}}, 15 * time.Minute},
		{"Expires in 1 h", http.Header{"Date": {date}, "Expires": {now.Add(time.Hour).Format(http.TimeFormat)}}, time.Hour},
		{"Expires without Date", http.Header{"Expires": {now.Add(time.Hour).Format(http.TimeFormat)}}, time.Hour},
		{"Expires in the past", http.Header{"Date": {date}, "Expires": {now.Add(-time.Hour).Format(http.TimeFormat)}}, time.Minute},
		{"Expires garbage", http.Header{"Expires": {"0"}}, time.Minute},
		{"max-age wins over Expires", http.Header{"Cache-Control": {"max-age=300"}, "Expires": {"0"}}, 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mid := func() float64 { return 0.5 }
			if got := refreshInterval(tt.header, now, rc, 100*time.Hour, mid); got != tt.want {
				t.Fatalf("interval %v, want %v", got, tt.want)
			}
			lo := refreshInterval(tt.header, now, rc, 100*time.Hour, func() float64 { return 0 })
			hi := refreshInterval(tt.header, now, rc, 100*time.Hour, func() float64 { return 0.999999 })
			if lo != tt.want*9/10 || hi < tt.want*109/100 || hi > tt.want*11/10 {
				t.Fatalf("jitter range [%v, %v] for %v, want ±10%%", lo, hi, tt.want)
			}
		})
	}
	custom := RefreshConfig{Interval: time.Hour, Min: 5 * time.Minute, Max: 2 * time.Hour}
	if got := refreshInterval(http.Header{"Cache-Control": {"max-age=60"}}, now, custom, 100*time.Hour, func() float64 { return 0.5 }); got != 5*time.Minute {
		t.Errorf("custom Min: %v", got)
	}
	if got := refreshInterval(http.Header{"Cache-Control": {"max-age=86400"}}, now, rc, defaultMaxStale, func() float64 { return 0.5 }); got != 12*time.Hour {
		t.Errorf("MaxStale/2 cap: %v", got)
	}
}

func TestBackoffBounds(t *testing.T) {
	for n := 1; n < 40; n++ {
		base := min(firstBackoff<<min(n-1, 30), defaultMaxBackoff)
		for range 50 {
			d := backoff(n, defaultMaxBackoff, defaultRand)
			if d < base/2 || d > base {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, base/2, base)
			}
		}
	}
}

func TestJitterSpreads(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 100 {
		d := jitter(time.Hour, defaultRand)
		if d < 54*time.Minute || d > 66*time.Minute {
			t.Fatalf("jitter %v out of ±10%%", d)
		}
		seen[d] = true
	}
	if len(seen) < 50 {
		t.Fatalf("jitter is not random: %d distinct values", len(seen))
	}
}
