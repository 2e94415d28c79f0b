package middleware

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessiongate/sessiongate/internal/jws"
	"github.com/sessiongate/sessiongate/jwks"
)

// wycheproofFile is the shape shared by the Wycheproof JSON Web Crypto files.
type wycheproofFile struct {
	NumberOfTests int `json:"numberOfTests"`
	TestGroups    []struct {
		Comment string          `json:"comment"`
		Private json.RawMessage `json:"private"`
		Public  json.RawMessage `json:"public"`
		Tests   []struct {
			TcID    int             `json:"tcId"`
			Comment string          `json:"comment"`
			JWS     json.RawMessage `json:"jws"`
			JWE     json.RawMessage `json:"jwe"`
			Result  string          `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

func loadWycheproof(t *testing.T, name string) wycheproofFile {
	t.Helper()
	b, err := os.ReadFile("testdata/wycheproof/" + name)
	require.NoError(t, err)
	var f wycheproofFile
	require.NoError(t, json.Unmarshal(b, &f))
	return f
}

// publicSet turns a group's key (a JWK or a JWK set, public or private) into
// a JWK set of public keys: private members are stripped, as an identity
// provider publishes them. Symmetric (oct) keys stay, and key hygiene drops
// them.
func publicSet(t *testing.T, public, private json.RawMessage) []byte {
	t.Helper()
	raw := public
	if len(raw) == 0 {
		raw = private
	}
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	var keys []any
	if ks, ok := doc["keys"].([]any); ok {
		keys = ks
	} else {
		keys = []any{doc}
	}
	for _, k := range keys {
		m := k.(map[string]any)
		if m["kty"] != "oct" {
			for _, member := range []string{"d", "p", "q", "dp", "dq", "qi", "oth"} {
				delete(m, member)
			}
		}
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	require.NoError(t, err)
	return b
}

// policyRejects lists the vectors marked "valid" that our policy rejects on
// purpose, by file and tcId, with the reason. The test fails if one of them is
// accepted (the list must stay true) or if any other valid vector is
// rejected.
var policyRejects = map[string]map[int]string{
	"json_web_signature_test.json": {
		1:   hsReason,
		259: emptyPayloadReason, 264: emptyPayloadReason, 268: emptyPayloadReason,
		272: emptyPayloadReason, 320: emptyPayloadReason, 325: emptyPayloadReason,
		346: "RFC 7520 Figure 20: the JWK's alg is PS256, the token's PS384 — a key verifies only its own alg",
		350: "RFC 7520 Figure 20 (key_ops): the JWK's alg is PS256, the token's PS384 — a key verifies only its own alg",
		347: "RFC 7520 Figure 27: the JWK's alg is \"ES521\" (no such JWA alg; the token says ES512), so key hygiene drops the key",
		351: "RFC 7520 Figure 27 (key_ops): the JWK's alg is \"ES521\" (no such JWA alg), so key hygiene drops the key",
		348: hsReason, 352: hsReason,
		357: hsReason, 358: hsReason, 359: hsReason,
		372: hsReason + " (and the character inserted in the header breaks our strict base64url form)",
		373: hsReason + " (and the character inserted in the payload breaks our strict base64url form)",
		376: hsReason, 377: hsReason,
	},
	"json_web_crypto_test.json": {
		1:  hsReason,
		48: hsReason,
	},
}

const (
	hsReason           = "HS256 with an oct key: a JWK set never supplies symmetric keys and sessiongate has no static-secret mode"
	emptyPayloadReason = "empty payload segment: a token must have three non-empty segments (an empty payload is no JWT claims set)"
)

func TestWycheproofJWS(t *testing.T) {
	for _, file := range []string{"json_web_signature_test.json", "json_web_crypto_test.json"} {
		t.Run(file, func(t *testing.T) {
			runWycheproofJWS(t, file)
		})
	}
}

func runWycheproofJWS(t *testing.T, file string) {
	vectors := loadWycheproof(t, file)
	ctx := context.Background()
	cases, wrong, jwe := 0, 0, 0
	var rejectedOnPurpose []string
	for _, g := range vectors.TestGroups {
		setJSON := publicSet(t, g.Public, g.Private)
		keys, keyErr := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.StaticSource(setJSON)}})
		for _, tc := range g.Tests {
			cases++
			var token string
			switch {
			case len(tc.JWE) > 0:
				jwe++
				token = compactOrJSON(tc.JWE)
			default:
				token = compactOrJSON(tc.JWS)
			}
			var err error
			if keys == nil {
				err = fmt.Errorf("no usable key in the group's set: %w", keyErr)
			} else {
				err = verifySignature(ctx, keys, token)
			}
			accepted := err == nil
			name := fmt.Sprintf("%s tcId %d (%s: %s)", g.Comment, tc.TcID, tc.Result, tc.Comment)
			reason, onPurpose := policyRejects[file][tc.TcID]
			switch {
			case tc.Result == "invalid" && accepted:
				wrong++
				t.Errorf("%s: accepted", name)
			case (tc.Result == "invalid" || len(tc.JWE) > 0) && !accepted:
				// Rejected as it should be.
			case tc.Result == "valid" && onPurpose && accepted:
				wrong++
				t.Errorf("%s: listed as rejected on purpose (%s) but accepted", name, reason)
			case tc.Result == "valid" && onPurpose:
				rejectedOnPurpose = append(rejectedOnPurpose, fmt.Sprintf("tcId %d: %s", tc.TcID, reason))
			case tc.Result == "valid" && !accepted:
				wrong++
				t.Errorf("%s: rejected: %v", name, err)
			}
			if keyErr == nil && err != nil && strings.Contains(err.Error(), "panic") {
				t.Errorf("%s: %v", name, err)
			}
		}
		if keys != nil {
			keys.Close()
		}
	}
	require.Equal(t, vectors.NumberOfTests, cases, "every vector ran")
	sort.Strings(rejectedOnPurpose)
	fmt.Printf("wycheproof %s: %d cases (%d JWE), %d wrong, %d valid ones rejected by policy\n",
		file, cases, jwe, wrong, len(rejectedOnPurpose))
	for _, r := range rejectedOnPurpose {
		t.Logf("rejected on purpose: %s", r)
	}
}

// verifySignature is the verifier's signature layer alone, with the same
// calls in the same order (form and header, key, signature) and no claims:
// the Wycheproof JWS payloads are not JWT claims, so they have no iss to
// choose a policy by.
func verifySignature(ctx context.Context, keys KeySource, token string) error {
	var p jws.Parsed
	if err := (&jws.Policy{}).ParseInto(token, &p); err != nil {
		return jwsError(err)
	}
	key, err := keys.Key(ctx, "", p.KID, p.Alg)
	if err != nil {
		return keyError(err)
	}
	if !key.Fits(p.Alg) {
		return refuse(ErrAlgorithm, nil)
	}
	if err := jws.Verify(p.Alg, key.Public, p.SigningInput, p.Signature); err != nil {
		return jwsError(err)
	}
	return nil
}

// compactOrJSON returns a compact token as is, and a JSON-serialized one as
// its JSON text (which the verifier must reject).
func compactOrJSON(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// TestWycheproofJWERejected runs every JWE vector through the verification
// path: a JWS verifier must reject each one (five segments, or JSON).
func TestWycheproofJWERejected(t *testing.T) {
	vectors := loadWycheproof(t, "json_web_encryption_test.json")
	keys, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.StaticSource(publicSet(t, nil, wycheproofECKey))}})
	require.NoError(t, err)
	defer func() { keys.Close() }()
	n := 0
	for _, g := range vectors.TestGroups {
		for _, tc := range g.Tests {
			n++
			if err := verifySignature(context.Background(), keys, compactOrJSON(tc.JWE)); err == nil {
				t.Errorf("%s tcId %d: JWE accepted", g.Comment, tc.TcID)
			}
		}
	}
	require.Equal(t, vectors.NumberOfTests, n)
	fmt.Printf("wycheproof json_web_encryption_test.json: %d JWE cases, all rejected\n", n)
}

// wycheproofECKey is the public P-256 key of the es256 group, used as a
// key set the JWE vectors cannot match anyway.
var wycheproofECKey = json.RawMessage(`{"kty":"EC","crv":"P-256","alg":"ES256","kid":"none",
	"x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`)
