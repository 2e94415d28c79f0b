// Command report turns the raw output of the interleaved benchmark runs
// (BenchmarkAuth), the benchstat summary, the load and storm figures and the
// machine description into bench/RESULTS.md and the chart bench/chart.svg.
// run.sh calls it; it has no dependency beyond the standard library and the
// bench package.
//
//	go run ./cmd/report -bench raw.txt -benchstat benchstat.txt -machine machine.md \
//		-load load.md -load-json load.json -storm storm.md -storm-json storm.json \
//		-out RESULTS.md -svg chart.svg
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/sessiongate/sessiongate/bench"
)

type flags struct {
	bench, benchstat, machine, load, loadJSON, storm, stormJSON, out, svg, command string
}

func main() {
	var f flags
	flag.StringVar(&f.bench, "bench", "", "raw go test -bench output (required)")
	flag.StringVar(&f.benchstat, "benchstat", "", "benchstat output to include")
	flag.StringVar(&f.machine, "machine", "", "Markdown describing the machine and the run")
	flag.StringVar(&f.load, "load", "", "cmd/load Markdown output")
	flag.StringVar(&f.loadJSON, "load-json", "", "cmd/load JSON output")
	flag.StringVar(&f.storm, "storm", "", "cmd/storm Markdown output")
	flag.StringVar(&f.stormJSON, "storm-json", "", "cmd/storm JSON output")
	flag.StringVar(&f.out, "out", "RESULTS.md", "Markdown file to write")
	flag.StringVar(&f.svg, "svg", "chart.svg", "SVG chart to write")
	flag.StringVar(&f.command, "command", "bench/run.sh", "the command that regenerates the results")
	flag.Parse()
	if err := run(f); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// stat is the summary of one (alg, case) over the runs. Samples are in run
// order: the k-th sample of every case comes from the k-th round.
type stat struct {
	runs              int
	ns, bytes, allocs float64 // medians
	nsSamples         []float64
	bSamples          []float64
	allocSamples      []float64
}

type key struct{ alg, cas string }

func parseBench(r io.Reader) (map[key]*stat, error) {
	out := map[key]*stat{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "BenchmarkAuth/") {
			continue
		}
		name := fields[0]
		var k key
		for _, part := range strings.Split(name, "/")[1:] {
			v, ok := strings.CutPrefix(part, "alg=")
			if ok {
				k.alg = v
				continue
			}
			if v, ok := strings.CutPrefix(part, "case="); ok {
				// A -cpu suffix ("-2") is only ever numeric.
				if i := strings.LastIndexByte(v, '-'); i > 0 {
					if _, err := strconv.Atoi(v[i+1:]); err == nil {
						v = v[:i]
					}
				}
				k.cas = v
			}
		}
		if k.alg == "" || k.cas == "" {
			continue
		}
		s := out[k]
		if s == nil {
			s = &stat{}
			out[k] = s
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %w", name, fields[i], err)
			}
			switch fields[i+1] {
			case "ns/op":
				s.nsSamples = append(s.nsSamples, v)
			case "B/op":
				s.bSamples = append(s.bSamples, v)
			case "allocs/op":
				s.allocSamples = append(s.allocSamples, v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no BenchmarkAuth results in the input")
	}
	for _, s := range out {
		s.runs = len(s.nsSamples)
		s.ns, s.bytes, s.allocs = median(s.nsSamples), median(s.bSamples), median(s.allocSamples)
	}
	return out, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// loadReport mirrors the fields of cmd/load's JSON that the report reads.
type loadReport struct {
	Ratio float64 `json:"ratio_me_healthz"`
}

func readJSON(path string, v any) (bool, error) {
	if path == "" {
		return false, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(b, v)
}

func readText(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}

func run(f flags) error {
	if f.bench == "" {
		return errors.New("-bench is required")
	}
	in, err := os.Open(f.bench)
	if err != nil {
		return err
	}
	stats, err := parseBench(in)
	_ = in.Close()
	if err != nil {
		return err
	}
	var algs []string
	for _, a := range bench.Algs() {
		for _, c := range bench.CaseNames() {
			if stats[key{a.Name, c}] != nil {
				algs = append(algs, a.Name)
				break
			}
		}
	}
	machine, err := readText(f.machine)
	if err != nil {
		return err
	}
	benchstat, err := readText(f.benchstat)
	if err != nil {
		return err
	}
	loadMD, err := readText(f.load)
	if err != nil {
		return err
	}
	stormMD, err := readText(f.storm)
	if err != nil {
		return err
	}
	var load loadReport
	hasLoad, err := readJSON(f.loadJSON, &load)
	if err != nil {
		return err
	}
	var storms []bench.StormResult
	hasStorm, err := readJSON(f.stormJSON, &storms)
	if err != nil {
		return err
	}

	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# sessiongate performance\n\n")
	w("Generated by `%s`; do not edit by hand. Every figure below comes from one run of that script.\n\n", f.command)
	if machine != "" {
		w("## Machine and run\n\n%s\n\n", machine)
	}
	w("## Per request, against the floor and the peers\n\n")
	w("One request (`GET /me` with a realistic Verdocs access token, about 1.3 KB of claims) through each case's middleware, the same chi router and the same handler, which reads the same facts (sub, organization id, number of permissions) from the request context (checked by `TestCases`). `floor` is the signature verification alone. time/op, B/op and allocs/op: median of %s interleaved rounds (`-cpu 1`); ±: half the interquartile range of time/op. ×floor and ×cold: median over the rounds of the case's time over the floor's (over sessiongate cold's) in the same round, which cancels most of the noise of a shared machine; the targets below use these paired ratios.\n\n", runsText(stats))
	w("![time per request relative to the floor](chart.svg)\n\n")
	descs := bench.CaseDescriptions()
	for _, alg := range algs {
		w("### %s\n\n", alg)
		w("| case | time/op | ± | B/op | allocs/op | ×floor | ×cold |\n|---|---:|---:|---:|---:|---:|---:|\n")
		floor, cold := stats[key{alg, bench.CaseFloor}], stats[key{alg, bench.CaseSessiongateCold}]
		for _, c := range bench.CaseNames() {
			s := stats[key{alg, c}]
			if s == nil {
				w("| %s | not run | | | | | |\n", c)
				continue
			}
			name := c
			if strings.HasPrefix(c, "sessiongate") {
				name = "**" + c + "**"
			}
			w("| %s | %s | %s | %.0f | %.0f | %s | %s |\n", name, fmtNS(s.ns), spread(s), s.bytes, s.allocs,
				ratio(s, floor), ratio(s, cold))
		}
		w("\n")
	}
	w("Cases:\n\n")
	for _, c := range bench.CaseNames() {
		w("- `%s`: %s.\n", c, descs[c])
	}
	w("\n")

	w("## Targets\n\n| target | figure | met |\n|---|---|---|\n")
	target := func(name, figure string, ok bool) {
		m := "yes"
		if !ok {
			m = "**no**"
		}
		w("| %s | %s | %s |\n", name, figure, m)
	}
	for _, t := range []struct {
		alg string
		max float64
	}{{"RS256-2048", 1.25}, {"ES256", 1.2}, {"EdDSA", 1.2}} {
		floor, cold := stats[key{t.alg, bench.CaseFloor}], stats[key{t.alg, bench.CaseSessiongateCold}]
		if floor == nil || cold == nil {
			continue
		}
		r := pairedRatio(cold, floor)
		target(fmt.Sprintf("cold ≤ %.2f× floor, %s", t.max, t.alg), fmt.Sprintf("%.2f×", r), r <= t.max)
	}
	peers := []string{bench.CaseAuth0, bench.CaseAuth0JWKS, bench.CaseJWTAuth, bench.CaseKeyfunc, bench.CaseJWX}
	for _, alg := range algs {
		cold := stats[key{alg, bench.CaseSessiongateCold}]
		if cold == nil {
			continue
		}
		best, bestName := math.Inf(1), ""
		for _, p := range peers {
			if r := pairedRatio(stats[key{alg, p}], cold); r < best {
				best, bestName = r, p
			}
		}
		if bestName == "" {
			continue
		}
		target(fmt.Sprintf("cold faster than every peer, %s", alg),
			fmt.Sprintf("fastest peer %s at %.2f× cold (%s vs %s)", bestName, best,
				fmtNS(stats[key{alg, bestName}].ns), fmtNS(cold.ns)),
			best > 1)
	}
	for _, alg := range algs {
		warm, noauth := stats[key{alg, bench.CaseSessiongateWarm}], stats[key{alg, bench.CaseNoAuth}]
		if warm == nil || noauth == nil {
			continue
		}
		r := pairedRatio(warm, noauth)
		target(fmt.Sprintf("warm ≤ 2× no-auth, %s", alg),
			fmt.Sprintf("%.2f× (%s vs %s)", r, fmtNS(warm.ns), fmtNS(noauth.ns)), r <= 2)
	}
	for _, alg := range algs {
		if warm := stats[key{alg, bench.CaseSessiongateWarm}]; warm != nil {
			target(fmt.Sprintf("warm ≤ 5 allocs/op, %s", alg), fmt.Sprintf("%.0f allocs/op, %.0f B/op", warm.allocs, warm.bytes),
				warm.allocs <= 5)
		}
	}
	if hasLoad {
		target("`/me` ≥ 0.5× `/healthz` requests/s (token cache on)", fmt.Sprintf("%.2f×", load.Ratio), load.Ratio >= 0.5)
	}
	if hasStorm {
		for _, s := range storms {
			target(fmt.Sprintf("JWKS storm: %s (%d requests)", s.Scenario, s.Requests),
				fmt.Sprintf("%d fetch(es), target ≤ %d", s.Fetches, s.Limit), s.Met())
		}
	}
	w("\n")
	if loadMD != "" {
		w("## HTTP over loopback (`cmd/load`)\n\n")
		w("An in-process server like the example's: chi, `GET /healthz` (no authentication, body `ok`) and `GET /me` (sessiongate, token cache on, answers `json.Marshal` of the session); N keep-alive clients, each route in turn for a fixed time.\n\n%s\n\n", loadMD)
	}
	if stormMD != "" {
		w("## JWKS under storm (`cmd/storm`)\n\n")
		w("Concurrent requests through the middleware (token cache on) against a key set that fetches the kit identity provider's JWK set over loopback; fetches counted by the identity provider.\n\n%s\n\n", stormMD)
	}
	if benchstat != "" {
		w("## benchstat\n\n<details><summary>benchstat of the raw runs</summary>\n\n```\n%s\n```\n\n</details>\n", benchstat)
	}
	if err := os.WriteFile(f.out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(f.svg, []byte(chart(stats, algs, machineLine(machine))), 0o644)
}

func runsText(stats map[key]*stat) string {
	lo, hi := math.MaxInt, 0
	for _, s := range stats {
		lo, hi = min(lo, s.runs), max(hi, s.runs)
	}
	if lo == hi {
		return strconv.Itoa(lo)
	}
	return fmt.Sprintf("%d–%d", lo, hi)
}

func fmtNS(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e4:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

// spread is half the interquartile range of the times, relative to the
// median.
func spread(s *stat) string {
	if s.runs < 4 || s.ns == 0 {
		return ""
	}
	v := slices.Clone(s.nsSamples)
	slices.Sort(v)
	q := func(f float64) float64 { return v[int(math.Round(f*float64(len(v)-1)))] }
	return fmt.Sprintf("%.0f%%", 100*(q(0.75)-q(0.25))/2/s.ns)
}

// pairedRatio is the median over rounds of s's time over base's time in the
// same round: a round runs every case of an algorithm within seconds, so a
// busy minute on a shared machine weighs on both sides of each ratio.
func pairedRatio(s, base *stat) float64 {
	if s == nil || base == nil {
		return math.NaN()
	}
	n := min(len(s.nsSamples), len(base.nsSamples))
	r := make([]float64, 0, n)
	for k := range n {
		if base.nsSamples[k] > 0 {
			r = append(r, s.nsSamples[k]/base.nsSamples[k])
		}
	}
	return median(r)
}

func ratio(s, base *stat) string {
	r := pairedRatio(s, base)
	switch {
	case math.IsNaN(r):
		return ""
	case r < 0.1:
		return fmt.Sprintf("%.3f", r)
	}
	return fmt.Sprintf("%.2f", r)
}

// machineLine picks the CPU line of the machine description for the chart.
func machineLine(machine string) string {
	var parts []string
	for _, l := range strings.Split(machine, "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "-"))
		if v, ok := strings.CutPrefix(l, "CPU:"); ok {
			parts = append(parts, strings.TrimSpace(v))
		}
		if v, ok := strings.CutPrefix(l, "Cores:"); ok {
			n, _, _ := strings.Cut(strings.TrimSpace(v), " ")
			parts = append(parts, n+" cores")
		}
		if v, ok := strings.CutPrefix(l, "Go:"); ok {
			parts = append(parts, strings.TrimSpace(v))
		}
	}
	return strings.Join(parts, ", ")
}

// chart draws, per algorithm, one horizontal bar per case: its median time
// over the floor's. The floor is the dashed line at 1×.
func chart(stats map[key]*stat, algs []string, sub string) string {
	cases := []string{bench.CaseSessiongateCold, bench.CaseSessiongateWarm, bench.CaseAuth0, bench.CaseAuth0JWKS,
		bench.CaseJWTAuth, bench.CaseKeyfunc, bench.CaseJWX, bench.CaseNoAuth}
	colors := map[string]string{
		bench.CaseSessiongateCold: "#1b7f3b", bench.CaseSessiongateWarm: "#5cc27a",
		bench.CaseAuth0: "#8a8fa0", bench.CaseAuth0JWKS: "#a3a8b8", bench.CaseJWTAuth: "#6f86b7",
		bench.CaseKeyfunc: "#c48a3a", bench.CaseJWX: "#9c6fb0", bench.CaseNoAuth: "#d0d0d0",
	}
	maxR := 1.0
	for _, alg := range algs {
		floor := stats[key{alg, bench.CaseFloor}]
		for _, c := range cases {
			if s := stats[key{alg, c}]; s != nil && floor != nil {
				maxR = math.Max(maxR, pairedRatio(s, floor))
			}
		}
	}
	maxR = math.Ceil(maxR*2) / 2
	const (
		left, right, top = 150.0, 90.0, 70.0
		barH, gap        = 14.0, 4.0
		groupGap         = 26.0
		width            = 820.0
	)
	plotW := width - left - right
	x := func(r float64) float64 { return left + plotW*r/maxR }
	h := top + float64(len(algs))*(float64(len(cases))*(barH+gap)+groupGap) + 30
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="Helvetica, Arial, sans-serif" font-size="11">`+"\n", width, h, width, h)
	p(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	p(`<text x="%.0f" y="22" font-size="15" font-weight="bold">Time per authenticated request ÷ signature verification alone (lower is better)</text>`+"\n", 10.0)
	p(`<text x="%.0f" y="40" fill="#555">%s</text>`+"\n", 10.0, html.EscapeString("GET /me through chi; median of per-round ratios over interleaved rounds, -cpu 1. "+sub))
	// Grid.
	for r := 0.0; r <= maxR+1e-9; r += 0.5 {
		stroke, dash := "#eeeeee", ""
		if r == 1 {
			stroke, dash = "#333333", ` stroke-dasharray="4 3"`
		}
		p(`<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="%s"%s/>`+"\n", x(r), top-8, x(r), h-24, stroke, dash)
		p(`<text x="%.1f" y="%.0f" text-anchor="middle" fill="#555">%g×</text>`+"\n", x(r), h-10, r)
	}
	p(`<text x="%.1f" y="%.0f" fill="#333">floor</text>`+"\n", x(1)+3, top-12)
	y := top
	for _, alg := range algs {
		floor := stats[key{alg, bench.CaseFloor}]
		p(`<text x="10" y="%.0f" font-weight="bold">%s</text>`+"\n", y+4, html.EscapeString(alg))
		if floor != nil {
			p(`<text x="%.0f" y="%.0f" fill="#555" text-anchor="end">floor %s</text>`+"\n", width-10, y+4, html.EscapeString(fmtNS(floor.ns)))
		}
		y += 10
		for _, c := range cases {
			s := stats[key{alg, c}]
			p(`<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y+barH-3, html.EscapeString(c))
			if s == nil || floor == nil {
				p(`<text x="%.0f" y="%.1f" fill="#999">not run</text>`+"\n", left+4, y+barH-3)
				y += barH + gap
				continue
			}
			r := pairedRatio(s, floor)
			wBar := math.Max(1, x(r)-left)
			p(`<rect x="%.0f" y="%.1f" width="%.1f" height="%.0f" fill="%s"/>`+"\n", left, y, wBar, barH, colors[c])
			label := fmt.Sprintf("%.2f×", r)
			if r < 0.1 {
				label = fmt.Sprintf("%.3f×", r)
			}
			p(`<text x="%.1f" y="%.1f" fill="#222" stroke="#fff" stroke-width="3" paint-order="stroke">%s  %s</text>`+"\n", left+wBar+4, y+barH-3, label, html.EscapeString(fmtNS(s.ns)))
			y += barH + gap
		}
		y += groupGap - 10
	}
	p("</svg>\n")
	return b.String()
}
