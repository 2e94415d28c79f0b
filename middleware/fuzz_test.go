package middleware_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/middleware"
	"github.com/sessiongate/sessiongate/session"
)

// FuzzExtract feeds arbitrary Authorization and Cookie headers to the
// extractors. Invariants: no panic; a token is returned only without error;
// every error is a 400 (ErrInvalidRequest); a returned header token is what
// followed "Bearer " and the spaces after it.
func FuzzExtract(f *testing.F) {
	for _, s := range []struct{ auth, cookie string }{
		{"Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", ""},
		{"bearer    a.b.c", "token=a.b.c"},
		{"Basic dXNlcjpwYXNz", ""},
		{"Bearer", "token=x; token=y"},
		{"Bearer\ta.b.c", "other=1; token="},
		{"Bearertoken", "token=\"quoted\""},
		{"Bearer a b", "token=a.b.c; Path=/"},
		{"", "token=" + strings.Repeat("A", 100)},
	} {
		f.Add(s.auth, s.cookie)
	}
	cookie := middleware.FromCookie("token")
	f.Fuzz(func(t *testing.T, auth, cookieHeader string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{auth}
		r.Header["Cookie"] = []string{cookieHeader}
		for name, x := range map[string]middleware.Extractor{"header": middleware.FromAuthorizationHeader, "cookie": cookie} {
			tok, err := x(r)
			if err != nil {
				if tok != "" {
					t.Fatalf("%s: token %q returned with error %v", name, tok, err)
				}
				if !errors.Is(err, middleware.ErrInvalidRequest) {
					t.Fatalf("%s: error %v is not an invalid request", name, err)
				}
				var e *middleware.Error
				if !errors.As(err, &e) || e.Status() != http.StatusBadRequest {
					t.Fatalf("%s: error %v is not a 400", name, err)
				}
				continue
			}
			if name == "header" && tok != "" {
				if len(auth) < 7 || !strings.EqualFold(auth[:6], "bearer") || strings.TrimLeft(auth[6:], " ") != tok {
					t.Fatalf("header %q gave token %q", auth, tok)
				}
			}
		}
	})
}

// FuzzQuery feeds arbitrary raw queries to FromQuery. Invariant: the
// extractor sees exactly the parameter net/url gives a handler
// (r.URL.Query()), also under a percent-encoded name: one value is the
// token, none is no token, several are a 400.
func FuzzQuery(f *testing.F) {
	for _, q := range []string{
		"token=a.b.c", "%74oken=a.b.c", "%74%6F%6B%65%6E=a.b.c", "token=a&%74oken=b", "x=1&token=",
		"token=a%2Eb.c", "tok%65n=a;b", "token=%zz", "token+=a", "+token=a", "token=a+b", "", "&&=&",
	} {
		f.Add(q)
	}
	extract := middleware.FromQuery("token")
	f.Fuzz(func(t *testing.T, rawQuery string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = rawQuery
		want := r.URL.Query()["token"]
		tok, err := extract(r)
		switch {
		case len(want) > 1:
			if !errors.Is(err, middleware.ErrInvalidRequest) || tok != "" {
				t.Fatalf("%q: %d parameters gave %q, %v", rawQuery, len(want), tok, err)
			}
		case err != nil:
			t.Fatalf("%q: error %v", rawQuery, err)
		case len(want) == 1 && tok != want[0], len(want) == 0 && tok != "":
			t.Fatalf("%q: token %q, net/url sees %q", rawQuery, tok, want)
		}
	})
}

// fuzzIssuer is the fixed key set of FuzzAuthenticate: one issuer with an
// ES256 (the signer), an RS256, an EdDSA and an Ed25519 key, served
// statically.
type fuzzIssuer struct {
	idp  *jwkstest.Issuer
	kids map[string]string // kid → alg
	auth *middleware.Authenticator
}

func newFuzzIssuer(tb testing.TB) *fuzzIssuer {
	idp := jwkstest.New("https://auth.example.test/")
	tb.Cleanup(idp.Close)
	fi := &fuzzIssuer{idp: idp, kids: map[string]string{idp.KID(): "ES256"}}
	for _, alg := range []string{"RS256", "EdDSA", "Ed25519"} {
		fi.kids[idp.AddKey(alg)] = alg
	}
	keys, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.StaticSource(idp.JWKS())}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(keys.Close)
	fi.auth, err = middleware.New(middleware.Config{Issuers: []middleware.Issuer{{Issuer: idp.URL(), Keys: keys, Audiences: []string{jwkstest.DefaultAudience}}}})
	if err != nil {
		tb.Fatal(err)
	}
	return fi
}

// FuzzAuthenticate drives the full request path with a fixed key set.
// Invariants: no panic; every answer is 200, 400 or 401 (never 5xx: the set
// is static); a 200 carries a token that re-validates, whose signature
// segment verifies under a key of the set, and which is one of the tokens
// the issuer minted (the fuzzer cannot forge a signature); every refusal
// has the RFC 6750 challenge and a JSON body.
//
// It runs on wall time: a fuzz input cannot run in a synctest bubble of its
// own, since the key set and the seeds outlive each input. Hence every seed
// the issuer signed counts as minted (the nbf seed, refused at first,
// becomes valid a second later), and an accepted token may have expired by
// the time it is verified again.
func FuzzAuthenticate(f *testing.F) {
	fi := newFuzzIssuer(f)
	now := time.Now()
	s := fullSession()
	minted := map[string]bool{}
	mint := func(tok string) string { minted[tok] = true; return tok }
	good := mint(fi.idp.Token(s))
	f.Add(good)
	for kid, alg := range fi.kids {
		f.Add(mint(fi.idp.Token(s, jwkstest.WithKey(kid))))
		// The other name of Ed25519 verifies too.
		switch alg {
		case "EdDSA":
			f.Add(mint(fi.idp.Token(s, jwkstest.WithKey(kid), jwkstest.WithHeader("alg", "Ed25519"))))
		case "Ed25519":
			f.Add(mint(fi.idp.Token(s, jwkstest.WithKey(kid), jwkstest.WithHeader("alg", "EdDSA"))))
		}
	}
	f.Add(mint(fi.idp.Token(s, jwkstest.WithHeader("alg", "Ed448"))))
	parts := strings.Split(good, ".")
	for _, tok := range []string{
		good + ".", "." + good, good + ".x.y", parts[0] + "." + parts[1] + ".",
		"eyJhbGciOiJub25lIn0." + parts[1] + ".",
	} {
		f.Add(tok)
	}
	for _, tok := range []string{
		fi.idp.Token(s, jwkstest.WithHeader("alg", "HS256")), fi.idp.Token(s, jwkstest.WithHeader("jku", "https://x")),
		fi.idp.Token(s, jwkstest.WithHeader("crit", []string{"b64"})), fi.idp.Token(s, jwkstest.WithClaim("exp", time.Now().Add(-time.Hour))),
		fi.idp.Token(s, jwkstest.WithClaim("aud", "other")), fi.idp.Token(s, jwkstest.WithClaim("exp", "1")),
		fi.idp.Token(s, jwkstest.WithHeader("kid", "../../etc/passwd")), `{"payload":"x","signatures":[]}`,
		fi.idp.Token(s, jwkstest.WithHeader("kid", "")), fi.idp.Token(s, jwkstest.WithClaim("cnf", map[string]any{"jkt": "x"})),
		fi.idp.Token(s, jwkstest.WithClaim("https://verdocs.com/session_type", "signing")),
		fi.idp.Token(s, jwkstest.WithClaim("envelope_id", "env-1")), fi.idp.Token(s, jwkstest.WithClaim("document_id", json.RawMessage("null"))),
		fi.idp.Token(s, jwkstest.WithClaim("SUB", "admin")), fi.idp.Token(s, jwkstest.WithClaim("nbf", float64(now.Unix())+30.9)),
	} {
		f.Add(mint(tok))
	}
	for _, tok := range []string{strings.Repeat("A", 20000), "a.b.c", "...", ""} {
		f.Add(tok)
	}
	h := fi.auth.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := session.TokenFromContext(r.Context()); ok {
			w.Header().Set("X-Authenticated", "1")
		}
	}))
	f.Fuzz(func(t *testing.T, token string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{"Bearer " + token}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		switch rec.Code {
		case http.StatusOK:
			tok := strings.TrimLeft(token, " ")
			if tok != "" && rec.Header().Get("X-Authenticated") != "1" {
				t.Fatalf("token %q passed without a session", token)
			}
			if tok == "" {
				return
			}
			if !minted[tok] {
				t.Fatalf("accepted a token the issuer never minted: %q", tok)
			}
			if _, err := fi.auth.Verify(context.Background(), tok); err != nil && !errors.Is(err, middleware.ErrExpired) {
				t.Fatalf("accepted token does not re-validate: %v", err)
			}
		case http.StatusBadRequest, http.StatusUnauthorized:
			if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("%d without a Bearer challenge", rec.Code)
			}
			if !strings.HasPrefix(rec.Body.String(), `{"error":`) {
				t.Fatalf("%d body %q", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("status %d for %q", rec.Code, token)
		}
	})
}
