package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Run the comparison with bench/run.sh; by hand:
//
//	go test -run='^$' -bench=Auth -benchmem -cpu=1 -count=10 .

func newFixture(tb testing.TB, alg Alg) (*Fixture, []Case) {
	tb.Helper()
	f, err := NewFixture(alg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(f.Close)
	cases, err := Cases(context.Background(), f)
	if err != nil {
		tb.Fatal(err)
	}
	return f, cases
}

// TestCases checks, for every algorithm, that every case hands the handler
// the same facts for the fixture's token (twice, so cached paths are
// covered), refuses the token with a broken signature, and that the floor
// verifies the token.
func TestCases(t *testing.T) {
	want := WantFacts()
	for _, alg := range Algs() {
		t.Run(alg.Name, func(t *testing.T) {
			f, cases := newFixture(t, alg)
			if _, err := NewFloor(f); err != nil {
				t.Fatalf("floor: %v", err)
			}
			names := []string{CaseFloor}
			for _, c := range cases {
				names = append(names, c.Name)
			}
			if got, wantNames := strings.Join(names, ","), strings.Join(CaseNames(), ","); got != wantNames {
				t.Fatalf("cases %s, want %s", got, wantNames)
			}
			// The last signature character flipped: same header and claims.
			last := f.Token[len(f.Token)-1]
			flip := byte('A')
			if last == 'A' {
				flip = 'B'
			}
			// Flipping a middle character changes the signature's bits for
			// sure (the last one may only carry padding bits).
			mid := len(f.Token) - 10
			broken := f.Token[:mid] + string(flip) + f.Token[mid+1:]
			if f.Token[mid] == flip {
				broken = f.Token[:mid] + "C" + f.Token[mid+1:]
			}
			for _, c := range cases {
				t.Run(c.Name, func(t *testing.T) {
					var got []Facts
					h := c.Router(func(fs Facts) { got = append(got, fs) })
					for i := range 2 {
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, f.Request())
						if rec.Code != http.StatusOK {
							t.Fatalf("request %d: status %d: %s", i, rec.Code, rec.Body)
						}
					}
					if c.Facts == nil {
						if len(got) != 0 {
							t.Fatalf("no-auth case observed facts %v", got)
						}
						return
					}
					if len(got) != 2 || got[0] != want || got[1] != want {
						t.Fatalf("facts %+v, want 2 × %+v", got, want)
					}
					r := f.Request()
					r.Header.Set("Authorization", "Bearer "+broken)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, r)
					if rec.Code != http.StatusUnauthorized {
						t.Fatalf("broken signature: status %d, want 401", rec.Code)
					}
					r.Header.Del("Authorization")
					rec = httptest.NewRecorder()
					h.ServeHTTP(rec, r)
					// auth0/go-jwt-middleware answers 400 to a request without a
					// token, the others 401: any refusal will do here.
					if rec.Code < 400 || rec.Code > 499 {
						t.Fatalf("no token: status %d, want 4xx", rec.Code)
					}
				})
			}
		})
	}
}

// discard is a ResponseWriter that keeps only the first non-200 status, so
// the benchmarks measure the middleware rather than a recorder, and still
// notice a rejection.
type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header       { return d.h }
func (*discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(code int) {
	if code != http.StatusOK && d.status == 0 {
		d.status = code
	}
}

// BenchmarkAuth runs every case for every algorithm: one request (GET /me
// with the fixture's token) through the case's middleware, a chi router and
// the shared handler, per iteration; floor is the verification alone.
func BenchmarkAuth(b *testing.B) {
	for _, alg := range Algs() {
		b.Run("alg="+alg.Name, func(b *testing.B) {
			f, cases := newFixture(b, alg)
			floor, err := NewFloor(f)
			if err != nil {
				b.Fatal(err)
			}
			b.Run("case="+CaseFloor, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if !floor() {
						b.Fatal("floor verification failed")
					}
				}
			})
			for _, c := range cases {
				b.Run("case="+c.Name, func(b *testing.B) {
					h, req := c.Router(nil), f.Request()
					w := &discard{h: http.Header{}}
					h.ServeHTTP(w, req) // warms the caches of the cached cases
					b.ReportAllocs()
					for b.Loop() {
						h.ServeHTTP(w, req)
					}
					if w.status != 0 {
						b.Fatalf("status %d", w.status)
					}
				})
			}
		})
	}
}
