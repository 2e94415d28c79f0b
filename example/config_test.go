package main

import (
	"errors"
	"flag"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessiongate/sessiongate/jwks/jwkstest"
)

func envFunc(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseConfig(t *testing.T) {
	devDefaults := config{Addr: defaultAddr, Audience: devDefaultAudience, ClaimsNamespace: defaultClaimsNamespace}
	prod := func(c config) config {
		c.JWKSURL = "https://idp.example.com/.well-known/jwks.json"
		c.Issuer = "https://idp.example.com/"
		c.Audience = "https://api.example.com"
		if c.Addr == "" {
			c.Addr = defaultAddr
		}
		if c.ClaimsNamespace == "" {
			c.ClaimsNamespace = defaultClaimsNamespace
		}
		return c
	}
	prodArgs := []string{"-jwks-url", "https://idp.example.com/.well-known/jwks.json", "-issuer", "https://idp.example.com/", "-audience", "https://api.example.com"}

	tests := []struct {
		name string
		args []string
		env  map[string]string
		want config
	}{
		{name: "defaults: development mode", want: devDefaults},
		{
			name: "flags",
			args: []string{"-addr", "127.0.0.1:0", "-audience", "aud-1", "-claims-namespace", "https://ns.example/"},
			want: config{Addr: "127.0.0.1:0", Audience: "aud-1", ClaimsNamespace: "https://ns.example/"},
		},
		{
			name: "environment",
			env:  map[string]string{"ADDR": "[::1]:9000", "AUDIENCE": "aud-env", "CLAIMS_NAMESPACE": "urn:ns:"},
			want: config{Addr: "[::1]:9000", Audience: "aud-env", ClaimsNamespace: "urn:ns:"},
		},
		{
			name: "typ flag",
			args: []string{"-typ", "at+jwt"},
			want: config{Addr: defaultAddr, Audience: devDefaultAudience, ClaimsNamespace: defaultClaimsNamespace, Typ: "at+jwt"},
		},
		{
			name: "typ environment, flag beats it",
			args: []string{"-typ", "at+jwt"},
			env:  map[string]string{"TYP": "JWT"},
			want: config{Addr: defaultAddr, Audience: devDefaultAudience, ClaimsNamespace: defaultClaimsNamespace, Typ: "at+jwt"},
		},
		{
			name: "typ environment",
			args: prodArgs,
			env:  map[string]string{"TYP": "application/at+jwt"},
			want: prod(config{Typ: "application/at+jwt"}),
		},
		{
			name: "flag beats environment",
			args: []string{"-addr", "127.0.0.1:1", "-audience", "aud-flag"},
			env:  map[string]string{"ADDR": "127.0.0.1:2", "AUDIENCE": "aud-env"},
			want: config{Addr: "127.0.0.1:1", Audience: "aud-flag", ClaimsNamespace: defaultClaimsNamespace},
		},
		{
			name: "empty environment variable is unset",
			env:  map[string]string{"ADDR": "", "CLAIMS_NAMESPACE": ""},
			want: devDefaults,
		},
		{
			name: "development mode on all interfaces",
			args: []string{"-addr", ":8081"},
			want: config{Addr: ":8081", Audience: devDefaultAudience, ClaimsNamespace: defaultClaimsNamespace},
		},
		{
			name: "development mode on localhost",
			args: []string{"-addr", "localhost:0"},
			want: config{Addr: "localhost:0", Audience: devDefaultAudience, ClaimsNamespace: defaultClaimsNamespace},
		},
		{name: "production flags", args: prodArgs, want: prod(config{})},
		{
			name: "production environment",
			env: map[string]string{
				"JWKS_URL": "https://idp.example.com/.well-known/jwks.json",
				"ISSUER":   "https://idp.example.com/", "AUDIENCE": "https://api.example.com",
				"ADDR": "0.0.0.0:8080",
			},
			want: prod(config{Addr: "0.0.0.0:8080"}),
		},
		{
			name: "production: flag beats environment",
			args: prodArgs,
			env:  map[string]string{"JWKS_URL": "https://other.example/jwks", "ISSUER": "https://other.example/", "AUDIENCE": "other"},
			want: prod(config{}),
		},
		{
			name: "production: http for loopback",
			args: []string{"-jwks-url", "http://127.0.0.1:9999/jwks", "-issuer", "i", "-audience", "a"},
			want: config{Addr: defaultAddr, JWKSURL: "http://127.0.0.1:9999/jwks", Issuer: "i", Audience: "a", ClaimsNamespace: defaultClaimsNamespace},
		},
		{
			name: "production: http for localhost",
			args: []string{"-jwks-url", "http://localhost:9999/jwks", "-issuer", "i", "-audience", "a"},
			want: config{Addr: defaultAddr, JWKSURL: "http://localhost:9999/jwks", Issuer: "i", Audience: "a", ClaimsNamespace: defaultClaimsNamespace},
		},
		{
			name: "production: http for any host with the insecure flag",
			args: []string{"-jwks-url", "http://idp.internal/jwks", "-issuer", "i", "-audience", "a", "-insecure-allow-http-jwks"},
			want: config{Addr: defaultAddr, JWKSURL: "http://idp.internal/jwks", Issuer: "i", Audience: "a", ClaimsNamespace: defaultClaimsNamespace, InsecureAllowHTTPJWKS: true},
		},
		{
			name: "production: http for any host with the insecure variable",
			args: []string{"-jwks-url", "http://idp.internal/jwks", "-issuer", "i", "-audience", "a"},
			env:  map[string]string{"INSECURE_ALLOW_HTTP_JWKS": "true"},
			want: config{Addr: defaultAddr, JWKSURL: "http://idp.internal/jwks", Issuer: "i", Audience: "a", ClaimsNamespace: defaultClaimsNamespace, InsecureAllowHTTPJWKS: true},
		},
		{name: "jwks refresh flag", args: append(prodArgs, "-jwks-refresh", "90s"), want: prod(config{JWKSRefresh: 90 * time.Second})},
		{name: "jwks refresh variable", args: prodArgs, env: map[string]string{"JWKS_REFRESH": "1s"}, want: prod(config{JWKSRefresh: time.Second})},
		{name: "jwks refresh flag beats variable", args: append(prodArgs, "-jwks-refresh", "12h"), env: map[string]string{"JWKS_REFRESH": "1s"}, want: prod(config{JWKSRefresh: 12 * time.Hour})},
		{name: "jwks refresh 0: as the provider says", args: append(prodArgs, "-jwks-refresh", "0"), want: prod(config{})},
		{
			name: "jwks refresh in development mode",
			args: []string{"-jwks-refresh", "5m"},
			want: config{Addr: defaultAddr, Audience: devDefaultAudience, ClaimsNamespace: defaultClaimsNamespace, JWKSRefresh: 5 * time.Minute},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(tt.args, envFunc(tt.env))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.want.JWKSURL == "", got.dev())
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	prod := []string{"-jwks-url", "https://idp.example.com/jwks", "-issuer", "https://idp.example.com/", "-audience", "a"}
	without := func(flagName string) []string {
		var out []string
		for i := 0; i < len(prod); i += 2 {
			if prod[i] != flagName {
				out = append(out, prod[i], prod[i+1])
			}
		}
		return out
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantMsg string
	}{
		{name: "unknown flag", args: []string{"-port", "1"}, wantMsg: "flag provided but not defined: -port"},
		{name: "positional argument", args: []string{"serve"}, wantMsg: `unexpected argument "serve"`},
		{name: "bad addr", args: []string{"-addr", "8080"}, wantMsg: `-addr "8080"`},
		{name: "empty namespace", args: []string{"-claims-namespace", ""}, wantMsg: "-claims-namespace must not be empty"},
		{name: "issuer without jwks url", args: []string{"-issuer", "https://idp.example.com/"}, wantMsg: "-issuer needs -jwks-url"},
		{name: "issuer from env without jwks url", env: map[string]string{"ISSUER": "x"}, wantMsg: "-issuer needs -jwks-url"},
		{name: "insecure without jwks url", args: []string{"-insecure-allow-http-jwks"}, wantMsg: "-insecure-allow-http-jwks needs -jwks-url"},
		{name: "development mode on a public address", args: []string{"-addr", "192.0.2.1:8080"}, wantMsg: "development mode listens on a loopback address"},
		{name: "development mode on a host name", args: []string{"-addr", "example.com:8080"}, wantMsg: "development mode listens on a loopback address"},
		{name: "production without issuer", args: without("-issuer"), wantMsg: "-issuer (or ISSUER) is required"},
		{name: "production without audience", args: without("-audience"), wantMsg: "-audience (or AUDIENCE) is required"},
		{name: "relative jwks url", args: append(without("-jwks-url"), "-jwks-url", "/jwks"), wantMsg: "is not an absolute URL"},
		{name: "ftp jwks url", args: append(without("-jwks-url"), "-jwks-url", "ftp://idp.example.com/jwks"), wantMsg: "scheme must be https"},
		{name: "http jwks url for a remote host", args: append(without("-jwks-url"), "-jwks-url", "http://idp.example.com/jwks"), wantMsg: "http:// is accepted for loopback hosts only"},
		{name: "http jwks url, insecure variable false", args: append(without("-jwks-url"), "-jwks-url", "http://idp.example.com/jwks"), env: map[string]string{"INSECURE_ALLOW_HTTP_JWKS": "0"}, wantMsg: "http:// is accepted for loopback hosts only"},
		{name: "invalid boolean in env", env: map[string]string{"INSECURE_ALLOW_HTTP_JWKS": "yes please"}, wantMsg: `INSECURE_ALLOW_HTTP_JWKS="yes please" is not a boolean`},
		{name: "jwks refresh not a duration", args: append(prod, "-jwks-refresh", "5"), wantMsg: `invalid value "5" for flag -jwks-refresh`},
		{name: "jwks refresh variable not a duration", env: map[string]string{"JWKS_REFRESH": "often"}, wantMsg: `JWKS_REFRESH="often" is not a duration such as 5m`},
		{name: "jwks refresh under a second", args: append(prod, "-jwks-refresh", "300ms"), wantMsg: "-jwks-refresh 300ms: must be between 1s and 12h0m0s"},
		{name: "jwks refresh over 12 hours", args: append(prod, "-jwks-refresh", "13h"), wantMsg: "-jwks-refresh 13h0m0s: must be between 1s and 12h0m0s"},
		{name: "jwks refresh negative", args: append(prod, "-jwks-refresh", "-1m"), wantMsg: "-jwks-refresh -1m0s: must be between"},
		{name: "jwks refresh negative in development mode", args: []string{"-jwks-refresh", "-1m"}, wantMsg: "-jwks-refresh -1m0s: must be between"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.args, envFunc(tt.env))
			require.Error(t, err)
			assert.ErrorIs(t, err, errUsage)
			assert.Contains(t, err.Error(), tt.wantMsg)
		})
	}
}

func TestParseConfigHelp(t *testing.T) {
	_, err := parseConfig([]string{"-h"}, envFunc(nil))
	assert.ErrorIs(t, err, flag.ErrHelp)

	var b strings.Builder
	printUsage(&b, envFunc(map[string]string{"ADDR": "127.0.0.1:9999"}))
	out := b.String()
	for _, name := range []string{"-addr", "-config", "-jwks-url", "-issuer", "-audience", "-claims-namespace", "-typ", "-insecure-allow-http-jwks"} {
		assert.Contains(t, out, name)
	}
	for _, env := range envNames {
		assert.Contains(t, out, "["+env+"]")
	}
	assert.Contains(t, out, `(default "127.0.0.1:9999")`, "the environment is the default")
	assert.False(t, errors.Is(err, errUsage))
}

// The -typ flag is what the middleware requires: with -typ at+jwt a token
// typed JWT (or with no typ) is refused, one typed at+jwt (any case, with or
// without "application/") passes, and the development token carries it.
func TestTypFlag(t *testing.T) {
	ts := startDev(t, devConfig(t, "-typ", "at+jwt"))
	s := devSession(time.Now())

	for _, typ := range []string{"at+jwt", "AT+JWT", "application/at+jwt"} {
		got := ts.do(t, "GET", "/me", bearer(ts.token(s, jwkstest.WithHeader("typ", typ))))
		assert.Equal(t, http.StatusOK, got.status, "typ %q: %s", typ, got.body)
	}
	for name, opt := range map[string]jwkstest.Option{"JWT": jwkstest.WithHeader("typ", "JWT"), "none": jwkstest.WithHeader("typ", nil)} {
		got := ts.do(t, "GET", "/me", bearer(ts.token(s, opt)))
		assert.Equal(t, http.StatusUnauthorized, got.status, "typ %s: %s", name, got.body)
	}
	got := ts.do(t, "GET", "/me", bearer(devToken(ts.issuer, s, ts.audience, defaultClaimsNamespace, "at+jwt")))
	assert.Equal(t, http.StatusOK, got.status, got.body)

	// Without the flag typ is not checked.
	ts = startDev(t, devConfig(t))
	got = ts.do(t, "GET", "/me", bearer(ts.token(s, jwkstest.WithHeader("typ", "JWT"))))
	assert.Equal(t, http.StatusOK, got.status, got.body)
}
