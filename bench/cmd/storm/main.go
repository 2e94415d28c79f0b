// Command storm measures how many JWK set fetches a storm of requests
// through the sessiongate middleware causes: 10,000 concurrent requests
// carrying a newly rotated kid (target: 1 fetch), and 10,000 requests with
// random unknown kids, at once (target: ≤ 1 fetch per rate-limit window)
// and spread over several short windows. Everything runs in-process against
// a kit identity provider on loopback.
//
//	go run ./cmd/storm [-n 10000] [-json storm.json]
//
// It prints a Markdown table and exits 1 when a target is missed.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sessiongate/sessiongate/bench"
)

func main() {
	n := flag.Int("n", 10_000, "requests per storm")
	jsonOut := flag.String("json", "", "also write the results as JSON to this file")
	flag.Parse()
	if err := run(*n, *jsonOut); err != nil {
		fmt.Fprintln(os.Stderr, "storm:", err)
		os.Exit(1)
	}
}

func run(n int, jsonOut string) error {
	ctx := context.Background()
	var results []bench.StormResult
	r, err := bench.StormRotatedKID(ctx, n)
	if err != nil {
		return err
	}
	results = append(results, r)
	if r, err = bench.StormUnknownKIDs(ctx, n, 1, 0, 0); err != nil {
		return err
	}
	results = append(results, r)
	if r, err = bench.StormUnknownKIDs(ctx, n, 10, 50*time.Millisecond, 200*time.Millisecond); err != nil {
		return err
	}
	results = append(results, r)

	fmt.Println("| storm | requests | answers | JWKS fetches | target | met | wall time |")
	fmt.Println("|---|---:|---|---:|---|---|---:|")
	missed := false
	for _, r := range results {
		met := "yes"
		if !r.Met() {
			met, missed = "**no**", true
		}
		fmt.Printf("| %s | %d | %s | %d | ≤ %d (%s) | %s | %s |\n", r.Scenario, r.Requests, statusText(r.Status),
			r.Fetches, r.Limit, r.Note, met, r.Elapsed.Round(time.Millisecond))
	}
	if jsonOut != "" {
		b, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if missed {
		return fmt.Errorf("a target was missed")
	}
	return nil
}

func statusText(m map[int]int) string {
	s := ""
	for _, code := range []int{200, 401, 400, 500, 503} {
		if m[code] > 0 {
			if s != "" {
				s += ", "
			}
			s += fmt.Sprintf("%d × %d", m[code], code)
		}
	}
	for code, c := range m {
		switch code {
		case 200, 401, 400, 500, 503:
		default:
			s += fmt.Sprintf(", %d × %d", c, code)
		}
	}
	return s
}
