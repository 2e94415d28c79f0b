package jwks

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	jwxjwa "github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sessiongate/sessiongate/internal/jwa"
)

// TestWycheproofJSONWebKey runs every JWK set of the Wycheproof JsonWebKey
// vectors through key hygiene and checks the verdict our policy promises for
// each token: a token is accepted only if the set yields a key for its kid
// and alg and the signature verifies with that key.
//
// Where our verdict differs from the vector's "result", or the vector is
// flagged Ambiguous, the case is listed in policy below with the reason.
// The vectors have no "acceptable" results.
func TestWycheproofJSONWebKey(t *testing.T) {
	raw, err := os.ReadFile("testdata/json_web_key_test.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		NumberOfTests int
		TestGroups    []struct {
			Comment string
			Private json.RawMessage
			Public  json.RawMessage
			Tests   []struct {
				TcID    int
				Comment string
				JWS     string
				Result  string
				Flags   []string
			}
		}
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	// policy lists the cases where our verdict is not simply the vector's.
	policy := map[int]string{
		1:  "Ambiguous (MixedKeySet): invalid as expected; the oct key is dropped, the EC key kept (only the set's bad keys are dropped, not the set)",
		2:  "valid HS256 against an oct set: rejected, a JWK set never yields symmetric keys (HS* needs a configured shared secret, not a JWKS)",
		4:  "Ambiguous (DuplicateKid): rejected, every key with a duplicate kid is dropped",
		13: "valid HS256 with a long key: rejected, oct keys are always dropped",
		14: "valid HS384 with a long key: rejected, oct keys are always dropped",
		15: "valid HS512 with a long key: rejected, oct keys are always dropped",
	}
	// dropped names, per case, the key-hygiene reason that must have dropped
	// the token's key (a substring of the reason).
	dropped := map[int]string{
		1: "symmetric", 2: "symmetric", 3: "symmetric", 4: "symmetric",
		6: `use "enc"`, 7: "ROCA", 8: "1024 bits is below 2048", 9: "exponent 1 ",
		10: "symmetric", 11: "symmetric", 12: "symmetric", 13: "symmetric", 14: "symmetric", 15: "symmetric",
		16: "symmetric", 17: "symmetric", 18: "symmetric",
		19: `alg "ES521" is not a supported`, 20: `alg "ES224" is not a supported`, 21: `use "enc"`,
		22: "not on the curve", 23: "not on the curve", 24: "malformed RSA key",
		25: "symmetric", 26: "symmetric",
	}
	count := 0
	for _, g := range file.TestGroups {
		// What an identity provider publishes is the public set; when the
		// vector only has a private one (symmetric keys), that is what a
		// misconfigured provider would serve.
		set := g.Public
		if len(set) == 0 {
			set = g.Private
		}
		ps, perr := parseKeySet(set, "", nil)
		if perr != nil && !errors.Is(perr, ErrInvalidKeySet) {
			t.Fatalf("%s: unexpected error %v", g.Comment, perr)
		}
		// A private set is never accepted as a JWKS: every key carries
		// private members (or is symmetric).
		if len(g.Public) > 0 {
			if pp, err := parseKeySet(g.Private, "", nil); !errors.Is(err, ErrInvalidKeySet) || len(pp.keys) != 0 {
				t.Errorf("%s: private set accepted: %v", g.Comment, err)
			}
		}
		for _, tc := range g.Tests {
			count++
			t.Run(strings.Join([]string{g.Comment, tc.Comment}, "/"), func(t *testing.T) {
				hdr := jwsHeader(t, tc.JWS)
				got := "invalid"
				why := ""
				if perr != nil {
					why = perr.Error()
				} else if k, err := (&keyIndex{byKid: index(ps.keys)}).lookup(hdr.Kid, jwa.Parse(hdr.Alg)); err == nil {
					if _, err := jws.Verify([]byte(tc.JWS), jws.WithKey(jwxjwa.SignatureAlgorithm(hdr.Alg), k.Public)); err == nil {
						got, why = "valid", "key served, signature verifies"
					} else {
						why = "signature does not verify"
					}
				} else {
					why = err.Error()
				}
				var reasons []string
				for _, r := range ps.rejected {
					if r.kid == hdr.Kid {
						reasons = append(reasons, r.reason)
					}
				}
				why += "; dropped: " + strings.Join(reasons, ", ")
				if want, ok := dropped[tc.TcID]; ok && (len(reasons) == 0 || !strings.Contains(reasons[0], want)) {
					t.Errorf("tc %d: dropped for %q, want %q", tc.TcID, reasons, want)
				} else if !ok && len(reasons) != 0 {
					t.Errorf("tc %d: key dropped: %q", tc.TcID, reasons)
				}
				if tc.TcID == 1 && (len(ps.keys) != 1 || ps.keys[0].ID != "kid-ec-sign") {
					t.Errorf("tc 1: the EC key of the mixed set was not kept")
				}
				want := tc.Result
				if reason, ok := policy[tc.TcID]; ok {
					want = "invalid"
					t.Logf("tc %d %v: policy: %s", tc.TcID, tc.Flags, reason)
				}
				if got != want {
					t.Fatalf("tc %d: verdict %s, want %s (vector: %s) — %s", tc.TcID, got, want, tc.Result, why)
				}
				t.Logf("tc %d: %s (%s)", tc.TcID, got, why)
			})
		}
	}
	if count != file.NumberOfTests || count != 26 {
		t.Fatalf("ran %d tests, file has %d", count, file.NumberOfTests)
	}
	if !t.Failed() {
		fmt.Printf("wycheproof json_web_key_test.json: %d cases, 0 wrong, %d decided by our policy (reasons with -v)\n", count, len(policy))
	}
}

type testJWSHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

func jwsHeader(t *testing.T, compact string) testJWSHeader {
	t.Helper()
	h, _, _ := strings.Cut(compact, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var hdr testJWSHeader
	if err := json.Unmarshal(b, &hdr); err != nil {
		t.Fatal(err)
	}
	return hdr
}

func index(keys []*Key) map[string]*Key {
	m := map[string]*Key{}
	for _, k := range keys {
		m[k.ID] = k
	}
	return m
}
