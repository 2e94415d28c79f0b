package main

import (
	"encoding/xml"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Two rounds: in the second, the machine was busy and every case took
// twice as long; the paired ratios must not move.
const rawBench = `goos: linux
BenchmarkAuth/alg=ES256/case=floor         	    3614	     60000 ns/op	     576 B/op	      10 allocs/op
BenchmarkAuth/alg=ES256/case=sessiongate-cold   	    3306	     66000 ns/op	    5072 B/op	      27 allocs/op
BenchmarkAuth/alg=ES256/case=sessiongate-warm   	  399844	       600.0 ns/op	     736 B/op	       4 allocs/op
BenchmarkAuth/alg=ES256/case=keyfunc            	    3085	     90000 ns/op	    9808 B/op	     114 allocs/op
BenchmarkAuth/alg=ES256/case=noauth-2           	  783595	       250.0 ns/op	     368 B/op	       2 allocs/op
PASS
BenchmarkAuth/alg=ES256/case=floor         	    3614	    120000 ns/op	     576 B/op	      10 allocs/op
BenchmarkAuth/alg=ES256/case=sessiongate-cold   	    3306	    132000 ns/op	    5072 B/op	      27 allocs/op
BenchmarkAuth/alg=ES256/case=sessiongate-warm   	  399844	      1200.0 ns/op	     736 B/op	       4 allocs/op
BenchmarkAuth/alg=ES256/case=keyfunc            	    3085	    180000 ns/op	    9808 B/op	     114 allocs/op
BenchmarkAuth/alg=ES256/case=noauth-2           	  783595	       500.0 ns/op	     368 B/op	       2 allocs/op
`

func TestParseAndRatios(t *testing.T) {
	stats, err := parseBench(strings.NewReader(rawBench))
	if err != nil {
		t.Fatal(err)
	}
	floor, cold := stats[key{"ES256", "floor"}], stats[key{"ES256", "sessiongate-cold"}]
	noauth := stats[key{"ES256", "noauth"}] // the -cpu suffix is dropped
	if floor == nil || cold == nil || noauth == nil {
		t.Fatalf("missing cases: %v", stats)
	}
	if floor.runs != 2 || floor.ns != 90000 || floor.bytes != 576 || floor.allocs != 10 {
		t.Errorf("floor %+v", *floor)
	}
	if r := pairedRatio(cold, floor); math.Abs(r-1.1) > 1e-9 {
		t.Errorf("cold/floor %v, want 1.1", r)
	}
	if r := pairedRatio(stats[key{"ES256", "sessiongate-warm"}], noauth); math.Abs(r-2.4) > 1e-9 {
		t.Errorf("warm/noauth %v, want 2.4", r)
	}
	if _, err := parseBench(strings.NewReader("PASS\n")); err == nil {
		t.Error("no results: want an error")
	}
}

func TestReport(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "bench.txt")
	if err := os.WriteFile(raw, []byte(rawBench), 0o644); err != nil {
		t.Fatal(err)
	}
	loadJSON := filepath.Join(dir, "load.json")
	if err := os.WriteFile(loadJSON, []byte(`{"ratio_me_healthz": 0.4}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, svg := filepath.Join(dir, "RESULTS.md"), filepath.Join(dir, "chart.svg")
	if err := run(flags{bench: raw, loadJSON: loadJSON, out: out, svg: svg, command: "run.sh"}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| cold ≤ 1.20× floor, ES256 | 1.10× | yes |",
		"| cold faster than every peer, ES256 | fastest peer keyfunc at 1.36× cold (135.0 µs vs 99.0 µs) | yes |",
		"| warm ≤ 2× no-auth, ES256 | 2.40× (900 ns vs 375 ns) | **no** |",
		"| warm ≤ 5 allocs/op, ES256 | 4 allocs/op, 736 B/op | yes |",
		"| `/me` ≥ 0.5× `/healthz` requests/s (token cache on) | 0.40× | **no** |",
		"| auth0 | not run |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("RESULTS.md lacks %q:\n%s", want, md)
		}
	}
	b, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(strings.NewReader(string(b)))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("chart.svg is not well-formed XML: %v", err)
			}
			break
		}
	}
	if !strings.Contains(string(b), "1.10×") {
		t.Error("chart lacks the cold ratio")
	}
}
