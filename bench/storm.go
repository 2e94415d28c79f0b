package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/middleware"
)

// StormResult is what one storm did to the identity provider.
type StormResult struct {
	Scenario string        `json:"scenario"`
	Requests int           `json:"requests"`
	Fetches  int64         `json:"jwks_fetches"`   // JWK set requests the storm caused
	Limit    int64         `json:"target_max"`     // most fetches the target allows
	Status   map[int]int   `json:"status"`         // answers by status code
	Want     int           `json:"want_status"`    // the status every request should get
	Elapsed  time.Duration `json:"elapsed_ns"`     // wall time of the storm
	Window   time.Duration `json:"window_ns"`      // the unknown-kid rate-limit window
	Waves    int           `json:"waves"`          // bursts the requests came in
	Note     string        `json:"note,omitempty"` // how the target is derived
}

// Met reports whether the storm met its target: every request answered as
// expected and no more fetches than allowed.
func (r StormResult) Met() bool {
	return r.Status[r.Want] == r.Requests && r.Fetches <= r.Limit
}

type stormEnv struct {
	idp  *jwkstest.Issuer
	set  *jwks.Set
	auth http.Handler
}

func newStormEnv(ctx context.Context, window time.Duration) (*stormEnv, error) {
	idp := jwkstest.NewServer()
	set, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.URLSource(idp.JWKSURL())},
		UnknownKID: jwks.UnknownKIDConfig{Window: window}})
	if err != nil {
		idp.Close()
		return nil, err
	}
	env := &stormEnv{idp: idp, set: set}
	start, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := set.Start(start); err != nil {
		env.close()
		return nil, err
	}
	a, err := middleware.New(middleware.Config{
		Issuers: []middleware.Issuer{{Issuer: idp.URL(), Keys: set, Audiences: []string{jwkstest.DefaultAudience}}}})
	if err != nil {
		env.close()
		return nil, err
	}
	env.auth = a.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := sessiongateFacts(r); !ok {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	return env, nil
}

func (e *stormEnv) close() {
	e.set.Close()
	e.idp.Close()
}

// burst sends one request per token at once (all goroutines released
// together) and adds the answers to status.
func (e *stormEnv) burst(tokens []string, status map[int]int) {
	codes := make([]int, len(tokens))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, tok := range tokens {
		req := httptest.NewRequest(http.MethodGet, "/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		wg.Go(func() {
			<-start
			rec := httptest.NewRecorder()
			e.auth.ServeHTTP(rec, req)
			codes[i] = rec.Code
		})
	}
	close(start)
	wg.Wait()
	for _, c := range codes {
		status[c]++
	}
}

// defaultUnknownKIDWindow is the key set's default unknown-kid window
// (jwks.UnknownKIDConfig.Window).
const defaultUnknownKIDWindow = 30 * time.Second

// StormRotatedKID rotates the identity provider's signing key and then sends
// n concurrent requests with a token of the new key, unknown to the key set
// until it refetches. Target: one JWK set fetch, every request 200.
func StormRotatedKID(ctx context.Context, n int) (StormResult, error) {
	env, err := newStormEnv(ctx, 0)
	if err != nil {
		return StormResult{}, err
	}
	defer env.close()
	env.idp.Rotate("RS256")
	tok := env.idp.Token(NewSession())
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = tok
	}
	res := StormResult{Scenario: "rotated kid", Requests: n, Limit: 1, Want: http.StatusOK, Status: map[int]int{},
		Window: defaultUnknownKIDWindow, Waves: 1, Note: "one shared refetch for the new kid"}
	before := int64(env.idp.JWKSRequests())
	t0 := time.Now()
	env.burst(tokens, res.Status)
	res.Elapsed = time.Since(t0)
	res.Fetches = int64(env.idp.JWKSRequests()) - before
	return res, nil
}

// StormUnknownKIDs sends n requests, each with a token whose kid is random
// (the token is otherwise well-formed), in waves bursts spaced by gap, with
// the key set's unknown-kid window set to window (0: the default, 30 s).
// Target: at most one JWK set fetch per window begun during the storm,
// every request 401.
func StormUnknownKIDs(ctx context.Context, n, waves int, gap, window time.Duration) (StormResult, error) {
	if window == 0 {
		window = defaultUnknownKIDWindow
	}
	env, err := newStormEnv(ctx, window)
	if err != nil {
		return StormResult{}, err
	}
	defer env.close()
	base := env.idp.Token(NewSession())
	_, rest, _ := strings.Cut(base, ".")
	enc := base64.RawURLEncoding
	tokens := make([]string, n)
	for i := range tokens {
		var kid [16]byte
		_, _ = rand.Read(kid[:])
		h := fmt.Sprintf(`{"alg":"RS256","kid":"%s","typ":"JWT"}`, hex.EncodeToString(kid[:]))
		tokens[i] = enc.EncodeToString([]byte(h)) + "." + rest
	}
	res := StormResult{Scenario: fmt.Sprintf("random unknown kids, %d wave(s)", waves), Requests: n,
		Want: http.StatusUnauthorized, Status: map[int]int{}, Window: window, Waves: waves}
	before := int64(env.idp.JWKSRequests())
	t0 := time.Now()
	per := (n + waves - 1) / waves
	for w := 0; w < waves && w*per < n; w++ {
		if w > 0 {
			time.Sleep(gap)
		}
		env.burst(tokens[w*per:min(n, (w+1)*per)], res.Status)
	}
	res.Elapsed = time.Since(t0)
	res.Fetches = int64(env.idp.JWKSRequests()) - before
	// A window opens with each refetch, so a storm of length T may start at
	// most floor(T/window)+1 of them.
	res.Limit = int64(res.Elapsed/window) + 1
	res.Note = fmt.Sprintf("≤ 1 per %s window: ⌊%s / %s⌋ + 1 = %d", window, res.Elapsed.Round(time.Millisecond), window, res.Limit)
	return res, nil
}
