package middleware_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/middleware"
	"github.com/sessiongate/sessiongate/session"
)

// Benchmarks of a full request through Authenticator.Handler, per algorithm,
// beside the floor (SHA-256 and the public-key verification of the same
// token with crypto/*) and a handler without authentication. Compare them in
// one run:
//
//	go test -run='^$' -bench='Floor|Cold|Warm|NoAuth' -benchmem -count=10 ./middleware

// benchAlgs are the algorithms the issue asks figures for.
var benchAlgs = []string{"RS256", "ES256", "EdDSA"}

// benchSession is a realistic Verdocs session: roles, 10 permissions, plans,
// a profile with its organization (about 1.3 KB of claims).
func benchSession() session.ActiveSession {
	s := fullSession()
	s.Permissions = nil
	for _, p := range []string{session.PermOrgView, session.PermMemberView, session.PermOrgUpdate, session.PermMemberAdd,
		session.PermMemberRemove, session.PermTemplateCreatorCreatePersonal, session.PermTemplateMemberRead,
		session.PermTemplateMemberWrite, session.PermRFormAccess, session.PermRCommonAccess} {
		s.Permissions = append(s.Permissions, session.Permission{ID: p, Name: p})
	}
	phone, tz := "+44 20 7946 0000", "Europe/London"
	s.Profile.LastName, s.Profile.Email, s.Profile.UserID, s.Profile.Current = "Lovelace", s.Email, s.Sub, true
	s.Profile.Organization.Phone, s.Profile.Organization.Timezone = &phone, &tz
	return s
}

type benchFixture struct {
	token   string
	pub     crypto.PublicKey
	alg     string
	cold    http.Handler
	warm    http.Handler
	noAuth  http.Handler
	request *http.Request
}

// sink is the handler behind every case, as small as a real one gets: it
// reads the session, if any, and writes a short JSON answer.
var sink = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if s, ok := session.FromContext(r.Context()); ok && s.Sub == "" {
		w.WriteHeader(500)
		return
	}
	w.Header()["Content-Type"] = jsonContentType
	_, _ = w.Write(okBody)
})

var (
	jsonContentType = []string{"application/json"}
	okBody          = []byte(`{"ok":true}` + "\n")
)

// router puts h behind a chi router, as in the example server: every case
// runs the same routing and handler.
func router(mw func(http.Handler) http.Handler) http.Handler {
	r := chi.NewRouter()
	if mw != nil {
		r.Use(mw)
	}
	r.Get("/me", sink)
	return r
}

// discard is a ResponseWriter that keeps nothing, so the benchmarks measure
// the middleware rather than a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header       { return d.h }
func (*discard) Write(b []byte) (int, error) { return len(b), nil }
func (*discard) WriteHeader(int)             {}

func newBenchFixture(b *testing.B, alg string) *benchFixture {
	b.Helper()
	idp := jwkstest.New("https://auth.example.test/")
	b.Cleanup(idp.Close)
	kid := idp.Rotate(alg)
	keys, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.StaticSource(idp.JWKS())}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(keys.Close)
	mk := func(cache bool) http.Handler {
		a, err := middleware.New(middleware.Config{Issuers: []middleware.Issuer{{Issuer: idp.URL(), Keys: keys, Audiences: []string{jwkstest.DefaultAudience}}}, Cache: middleware.CacheConfig{Disabled: !cache}})
		if err != nil {
			b.Fatal(err)
		}
		return router(a.Handler)
	}
	f := &benchFixture{token: idp.Token(benchSession()), pub: idp.Key(kid).Public(), alg: alg,
		cold: mk(false), warm: mk(true), noAuth: router(nil)}
	f.request = httptest.NewRequest("GET", "/me", nil)
	f.request.Header.Set("Authorization", "Bearer "+f.token)
	// Check once that the token passes, so no case measures a rejection.
	rec := httptest.NewRecorder()
	f.cold.ServeHTTP(rec, f.request)
	if rec.Code != 200 {
		b.Fatalf("token rejected: %d %s", rec.Code, rec.Body)
	}
	return f
}

func (f *benchFixture) serve(b *testing.B, h http.Handler) {
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, f.request)
	}
}

// BenchmarkFloor is the physical floor: hash the signing input and verify
// the signature with crypto/*, nothing else (the signature is decoded
// beforehand).
func BenchmarkFloor(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			f := newBenchFixture(b, alg)
			i := strings.LastIndexByte(f.token, '.')
			input, sig := f.token[:i], mustB64(b, f.token[i+1:])
			verify := floorVerifier(b, alg, f.pub, sig)
			if !verify(input) {
				b.Fatal("floor verification failed")
			}
			b.ReportAllocs()
			for b.Loop() {
				if !verify(input) {
					b.Fatal("verification failed")
				}
			}
		})
	}
}

func floorVerifier(b *testing.B, alg string, pub crypto.PublicKey, sig []byte) func(string) bool {
	switch alg {
	case "RS256":
		return func(input string) bool {
			h := sha256.Sum256([]byte(input))
			return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, h[:], sig) == nil
		}
	case "ES256":
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		return func(input string) bool {
			h := sha256.Sum256([]byte(input))
			return ecdsa.Verify(pub.(*ecdsa.PublicKey), h[:], r, s)
		}
	case "EdDSA":
		return func(input string) bool { return ed25519.Verify(pub.(ed25519.PublicKey), []byte(input), sig) }
	}
	b.Fatalf("no floor for %s", alg)
	return nil
}

func mustB64(b *testing.B, s string) []byte {
	out, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkCold is a full request through Handler with the token cache off:
// every request parses, verifies and decodes.
func BenchmarkCold(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			f := newBenchFixture(b, alg)
			f.serve(b, f.cold)
		})
	}
}

// BenchmarkWarm is a full request through Handler with the token cache on
// (the token was seen before).
func BenchmarkWarm(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			f := newBenchFixture(b, alg)
			f.serve(b, f.warm)
		})
	}
}

// BenchmarkNoAuth is the same request through the same router and handler
// without authentication: the baseline for the warm path.
func BenchmarkNoAuth(b *testing.B) {
	f := newBenchFixture(b, "RS256")
	f.serve(b, f.noAuth)
}

// BenchmarkIssuers compares one issuer with ten issuers and with a template
// issuer allowing 1,000 tenants, cold and warm, RS256: choosing the policy
// must cost the same whatever their number.
//
//	go test -run='^$' -bench=Issuers -benchmem -count=10 ./middleware
func BenchmarkIssuers(b *testing.B) {
	idp := jwkstest.New("https://auth.example.test/")
	b.Cleanup(idp.Close)
	idp.Rotate("RS256")
	setFor := func(issuer string) *jwks.Set {
		src := jwks.StaticSource(idp.JWKS())
		src.Issuer = issuer
		keys, err := jwks.New(jwks.Config{Sources: []jwks.Source{src}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(keys.Close)
		return keys
	}
	const template = "https://login.example.test/{tenantid}/v2.0"
	tenants := make([]string, 1000)
	for i := range tenants {
		tenants[i] = "tenant-" + formatInt(int64(i+1))
	}
	cases := []struct {
		name    string
		issuers func() []middleware.Issuer
		token   string
	}{
		{"one", func() []middleware.Issuer {
			return []middleware.Issuer{{Issuer: idp.URL(), Keys: setFor(idp.URL()), Audiences: []string{jwkstest.DefaultAudience}}}
		}, idp.Token(benchSession())},
		{"ten", func() []middleware.Issuer {
			var out []middleware.Issuer
			for i := range 9 {
				iss := "https://other-" + formatInt(int64(i+1)) + ".example.test/"
				out = append(out, middleware.Issuer{Issuer: iss, Keys: setFor(iss), Audiences: []string{jwkstest.DefaultAudience}})
			}
			return append(out, middleware.Issuer{Issuer: idp.URL(), Keys: setFor(idp.URL()), Audiences: []string{jwkstest.DefaultAudience}})
		}, idp.Token(benchSession())},
		{"template1000", func() []middleware.Issuer {
			return []middleware.Issuer{{Issuer: template, Keys: setFor(template), Audiences: []string{jwkstest.DefaultAudience}, Tenants: tenants}}
		}, idp.Token(benchSession(), jwkstest.WithClaim("iss", "https://login.example.test/tenant-1000/v2.0"), jwkstest.WithClaim("tid", "tenant-1000"))},
	}
	for _, tc := range cases {
		for _, mode := range []string{"cold", "warm"} {
			b.Run(tc.name+"/"+mode, func(b *testing.B) {
				a, err := middleware.New(middleware.Config{Issuers: tc.issuers(), Cache: middleware.CacheConfig{Disabled: mode == "cold"}})
				if err != nil {
					b.Fatal(err)
				}
				h := router(a.Handler)
				f := &benchFixture{request: httptest.NewRequest("GET", "/me", nil)}
				f.request.Header.Set("Authorization", "Bearer "+tc.token)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, f.request)
				if rec.Code != 200 {
					b.Fatalf("token rejected: %d %s", rec.Code, rec.Body)
				}
				f.serve(b, h)
			})
		}
	}
}
