package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/middleware"
)

// writeFile writes content to a file in a temporary directory and returns
// its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "issuers.json")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// twoIssuers is a good file: an exact issuer found by discovery and a
// template issuer with its own JWK set URL, audiences and claim layout.
const twoIssuers = `{
  "issuers": [
    {
      "issuer": "https://auth.example.com/",
      "discovery": true,
      "audiences": ["https://api.example.com"]
    },
    {
      "issuer": "https://login.example.net/{tenantid}/v2.0",
      "jwks_url": "https://login.example.net/common/discovery/v2.0/keys",
      "audiences": ["api://documents", "api://documents-beta"],
      "algorithms": ["RS256", "ES256"],
      "typ": "at+jwt",
      "tenants": ["tenant-a", "tenant-b"],
      "namespaced_only": true,
      "required_scopes": ["documents:read"],
      "claims_namespace": "https://ns.example.net/",
      "roles_claim": "roles",
      "permissions_claim": "permissions",
      "plans_claim": "plans",
      "allow_signing_sessions": true,
      "insecure_allow_http_jwks": false,
      "jwks_refresh": "10m"
    }
  ]
}`

func TestReadConfigFile(t *testing.T) {
	got, err := readConfigFile(writeFile(t, twoIssuers))
	require.NoError(t, err)
	want := []issuerConfig{
		{Issuer: "https://auth.example.com/", Discovery: true, Audiences: []string{"https://api.example.com"}},
		{
			Issuer:           "https://login.example.net/{tenantid}/v2.0",
			JWKSURL:          "https://login.example.net/common/discovery/v2.0/keys",
			Audiences:        []string{"api://documents", "api://documents-beta"},
			Algorithms:       []string{"RS256", "ES256"},
			Typ:              "at+jwt",
			Tenants:          []string{"tenant-a", "tenant-b"},
			NamespacedOnly:   true,
			RequiredScopes:   []string{"documents:read"},
			ClaimsNamespace:  "https://ns.example.net/",
			RolesClaim:       "roles",
			PermissionsClaim: "permissions",
			PlansClaim:       "plans",

			AllowSigningSessions: true,
			JWKSRefresh:          jwksRefresh(10 * time.Minute),
		},
	}
	assert.Equal(t, want, got)

	// Each entry is one policy, with the fields where the middleware wants
	// them, and one key source bound to the issuer as written.
	p := got[1].policy(noKeys{})
	assert.Equal(t, "https://login.example.net/{tenantid}/v2.0", p.Issuer)
	assert.Equal(t, want[1].Audiences, p.Audiences)
	assert.Equal(t, want[1].Algorithms, p.Algorithms)
	assert.Equal(t, "at+jwt", p.Typ)
	assert.Equal(t, want[1].Tenants, p.Tenants)
	assert.Equal(t, middleware.ClaimMap{Namespace: "https://ns.example.net/", NamespacedOnly: true, Roles: "roles", Permissions: "permissions", Plans: "plans"}, p.Claims)
	assert.True(t, p.AllowSigningSessions)
	assert.Len(t, p.Require, 1, "required_scopes is one rule")
	src := got[1].source()
	wantSrc := jwks.URLSource(want[1].JWKSURL)
	wantSrc.Issuer = want[1].Issuer
	assert.Equal(t, wantSrc, src, "the template's keys come from jwks_url, bound to the template")
	assert.Equal(t, "https://auth.example.com/", got[0].source().Issuer)
	assert.Empty(t, got[0].policy(noKeys{}).Require)

	// Through the flags: -config is production mode, and the flags'
	// one-issuer defaults do not leak into it.
	cfg, err := parseConfig([]string{"-config", writeFile(t, twoIssuers), "-addr", "0.0.0.0:9000"}, envFunc(nil))
	require.NoError(t, err)
	assert.False(t, cfg.dev())
	assert.Equal(t, "0.0.0.0:9000", cfg.Addr)
	assert.Equal(t, want, cfg.Issuers)
	assert.Equal(t, want, cfg.issuers("http://unused"))
	assert.Empty(t, cfg.ClaimsNamespace)

	cfg, err = parseConfig(nil, envFunc(map[string]string{"CONFIG": writeFile(t, twoIssuers)}))
	require.NoError(t, err, "CONFIG is -config's variable")
	assert.Equal(t, want, cfg.Issuers)

	// A template found by discovery, and http:// for a remote host when
	// the entry allows it.
	got, err = readConfigFile(writeFile(t, `{"issuers":[
		{"issuer":"https://login.example.net/{tenantid}/v2.0","discovery":true,"audiences":["a"],"tenants":["t"]},
		{"issuer":"http://idp.internal/","discovery":true,"audiences":["b"],"insecure_allow_http_jwks":true},
		{"issuer":"https://c.example/","jwks_url":"http://c.internal/jwks","audiences":["c"],"insecure_allow_http_jwks":true}]}`))
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, jwks.OIDCSource("https://login.example.net/{tenantid}/v2.0"), got[0].source())
	assert.True(t, got[1].InsecureAllowHTTPJWKS)
}

// The flags are the one-issuer shorthand of the same structure.
// Each issuer's key set: its source, its own logger attribute, the
// insecure switch for that issuer only, and a fixed refresh interval only
// when jwks_refresh is given (else jwks's defaults, which follow the
// provider's Cache-Control).
func TestIssuerKeysConfig(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	ic := issuerConfig{Issuer: "https://a.example/", JWKSURL: "http://a.internal/jwks", InsecureAllowHTTPJWKS: true}
	c := ic.keys(logger)
	assert.Equal(t, []jwks.Source{ic.source()}, c.Sources)
	assert.True(t, c.InsecureAllowHTTPForAnyHost)
	assert.Equal(t, jwks.RefreshConfig{}, c.Refresh, "no jwks_refresh: the defaults")
	set, err := jwks.New(c)
	require.NoError(t, err)
	set.Close()

	ic.JWKSRefresh = jwksRefresh(90 * time.Second)
	c = ic.keys(logger)
	assert.Equal(t, jwks.RefreshConfig{Interval: 90 * time.Second, Min: 90 * time.Second, Max: 90 * time.Second}, c.Refresh)
	set, err = jwks.New(c)
	require.NoError(t, err, "a fixed interval is a valid key-set configuration")
	set.Close()
}

func TestFlagsAsOneIssuer(t *testing.T) {
	cfg, err := parseConfig([]string{"-jwks-url", "http://idp.internal/jwks", "-issuer", "https://idp.internal/", "-audience", "a",
		"-typ", "at+jwt", "-claims-namespace", "urn:ns:", "-insecure-allow-http-jwks", "-jwks-refresh", "2m"}, envFunc(nil))
	require.NoError(t, err)
	assert.Equal(t, []issuerConfig{{
		Issuer: "https://idp.internal/", JWKSURL: "http://idp.internal/jwks", Audiences: []string{"a"}, Typ: "at+jwt",
		ClaimsNamespace: "urn:ns:", InsecureAllowHTTPJWKS: true, JWKSRefresh: jwksRefresh(2 * time.Minute),
	}}, cfg.issuers("http://unused"))

	cfg, err = parseConfig(nil, envFunc(nil))
	require.NoError(t, err)
	assert.Equal(t, []issuerConfig{{
		Issuer: "http://127.0.0.1:8080", Discovery: true, Audiences: []string{devDefaultAudience}, ClaimsNamespace: defaultClaimsNamespace,
	}}, cfg.issuers("http://127.0.0.1:8080"), "development mode discovers its own issuer")
}

func TestReadConfigFileErrors(t *testing.T) {
	// issuer is one entry around fields.
	issuer := func(fields string) string { return `{"issuers":[` + fields + `]}` }
	const (
		exact    = `{"issuer":"https://a.example/","jwks_url":"https://a.example/jwks","audiences":["x"]}`
		template = `"issuer":"https://b.example/{tenantid}/v2.0","jwks_url":"https://b.example/keys","audiences":["y"]`
	)
	tests := []struct {
		name    string
		file    string
		wantMsg string
	}{
		{"bad JSON", `{"issuers":[{"issuer":"https://a.example/",}]}`, "invalid JSON at line 1, column 44"},
		{"bad JSON on a later line", "{\n  \"issuers\": [\n    {\"issuer\" \"x\"}\n  ]\n}", "invalid JSON at line 3, column 15"},
		{"truncated", `{"issuers":[`, "unexpected end of JSON input"},
		{"not an object", `[]`, "not a JSON object"},
		{"empty file", ``, "unexpected end of JSON input"},
		{"trailing data", `{"issuers":[` + exact + `]} {}`, "invalid JSON at line 1, column 101: invalid character '{' after top-level value"},
		{"unknown top-level field", `{"issuers":[` + exact + `],"version":2}`, `unknown field "version"`},
		{"top-level field in another case", `{"Issuers":[` + exact + `]}`, `unknown field "Issuers"`},
		{"no issuers", `{}`, `"issuers" is required and must not be empty`},
		{"empty issuers", `{"issuers":[]}`, `"issuers" is required and must not be empty`},
		{"issuers not an array", `{"issuers":{}}`, `"issuers": a JSON object where an array is expected`},
		{"entry not an object", issuer(`"https://a.example/"`), "issuers[0]: not a JSON object"},
		{"unknown field", issuer(exact + `,{` + template + `,"tenants":["t"],"jwks_uri":"https://b.example/keys"}`), `issuers[1] "https://b.example/{tenantid}/v2.0": unknown field "jwks_uri"`},
		{"field in another case", issuer(`{"Issuer":"https://a.example/","jwks_url":"https://a.example/jwks","audiences":["x"]}`), `issuers[0]: unknown field "Issuer"`},
		{"field given twice", issuer(`{"issuer":"https://a.example/","jwks_url":"https://a.example/jwks","audiences":["x"],"audiences":["y"]}`), `issuers[0] "https://a.example/": field "audiences" given twice`},
		{"wrong type", issuer(`{"issuer":"https://a.example/","discovery":"yes","audiences":["x"]}`), `issuers[0] "https://a.example/": "discovery": a JSON string where a boolean is expected`},
		{"audiences a string", issuer(`{"issuer":"https://a.example/","discovery":true,"audiences":"x"}`), `"audiences": a JSON string where an array of strings is expected`},
		{"no issuer", issuer(`{"jwks_url":"https://a.example/jwks","audiences":["x"]}`), `issuers[0]: "issuer" is required`},
		{"both jwks_url and discovery", issuer(exact + `,{"issuer":"https://c.example/","jwks_url":"https://c.example/jwks","discovery":true,"audiences":["x"]}`), `issuers[1] "https://c.example/": "jwks_url" and "discovery" exclude each other`},
		{"neither jwks_url nor discovery", issuer(`{"issuer":"https://a.example/","audiences":["x"]}`), `issuers[0] "https://a.example/": one of "jwks_url" or "discovery": true is required`},
		{"discovery false", issuer(`{"issuer":"https://a.example/","discovery":false,"audiences":["x"]}`), `one of "jwks_url" or "discovery": true is required`},
		{"relative jwks_url", issuer(`{"issuer":"https://a.example/","jwks_url":"/jwks","audiences":["x"]}`), `"jwks_url" "/jwks" is not an absolute URL`},
		{"http jwks_url for a remote host", issuer(`{"issuer":"https://a.example/","jwks_url":"http://a.example/jwks","audiences":["x"]}`), `http:// is accepted for loopback hosts only (use https, or "insecure_allow_http_jwks": true`},
		{"discovery of an http issuer", issuer(`{"issuer":"http://a.example/","discovery":true,"audiences":["x"]}`), `"issuer" (discovered) "http://a.example/": http:// is accepted for loopback hosts only`},
		{"discovery of a name", issuer(`{"issuer":"a-name","discovery":true,"audiences":["x"]}`), `"issuer" (discovered) "a-name" is not an absolute URL`},
		{"template without tenants", issuer(`{` + template + `}`), `issuers[0] "https://b.example/{tenantid}/v2.0": "tenants" is required for an issuer with {tenantid}`},
		{"template with empty tenants", issuer(`{` + template + `,"tenants":[]}`), `"tenants" is required for an issuer with {tenantid}`},
		{"tenants without a template", issuer(`{"issuer":"https://a.example/","discovery":true,"audiences":["x"],"tenants":["t"]}`), `"tenants" needs an issuer with {tenantid}`},
		{"empty tenant", issuer(`{` + template + `,"tenants":["t",""]}`), `"tenants"[1] is empty`},
		{"tenant not a path segment", issuer(`{` + template + `,"tenants":["a/b"]}`), `tenant "a/b" is not a path segment`},
		{"no audiences", issuer(`{"issuer":"https://a.example/","discovery":true}`), `issuers[0] "https://a.example/": "audiences" is required and must not be empty`},
		{"empty audiences", issuer(`{"issuer":"https://a.example/","discovery":true,"audiences":[]}`), `issuers[0] "https://a.example/": "audiences" is required and must not be empty`},
		{"null audiences", issuer(`{"issuer":"https://a.example/","discovery":true,"audiences":null}`), `"audiences" is required`},
		{"empty audience", issuer(`{"issuer":"https://a.example/","discovery":true,"audiences":[""]}`), `"audiences"[0] is empty`},
		{"empty algorithms", issuer(`{"issuer":"https://a.example/","discovery":true,"audiences":["x"],"algorithms":[]}`), `"algorithms" is empty (list at least one, or omit it)`},
		{"unsupported algorithm", issuer(`{"issuer":"https://a.example/","discovery":true,"audiences":["x"],"algorithms":["HS256"]}`), `issuer[0] "https://a.example/"`},
		{"empty required_scopes", issuer(`{"issuer":"https://a.example/","discovery":true,"audiences":["x"],"required_scopes":[]}`), `"required_scopes" is empty`},
		{"scope with a space", issuer(`{"issuer":"https://a.example/","discovery":true,"audiences":["x"],"required_scopes":["a b"]}`), `"required_scopes"[0] "a b" is not an OAuth scope`},
		{"two entries for one issuer", issuer(exact + `,` + exact), `a second policy for this issuer`},
		{"jwks_refresh not a string", issuer(`{"issuer":"https://a.example/","discovery":true,"audiences":["x"],"jwks_refresh":600}`), `issuers[0] "https://a.example/": "jwks_refresh": 600 where a duration string such as "5m" is expected`},
		{"jwks_refresh not a duration", issuer(`{"issuer":"https://a.example/","discovery":true,"audiences":["x"],"jwks_refresh":"10"}`), `"jwks_refresh": "10" is not a duration such as "5m"`},
		{"jwks_refresh too short", issuer(`{"issuer":"https://a.example/","discovery":true,"audiences":["x"],"jwks_refresh":"10ms"}`), `"jwks_refresh" 10ms: must be between 1s and 12h0m0s`},
		{"jwks_refresh too long", issuer(`{"issuer":"https://a.example/","discovery":true,"audiences":["x"],"jwks_refresh":"13h"}`), `"jwks_refresh" 13h0m0s: must be between 1s and 12h0m0s`},
		{"template in the middle of a segment", issuer(`{"issuer":"https://b.example/t{tenantid}/v2.0","jwks_url":"https://b.example/keys","audiences":["y"],"tenants":["t"]}`), `{tenantid} must appear once, as a whole path segment`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.file)
			_, err := readConfigFile(path)
			require.Error(t, err)
			assert.ErrorIs(t, err, errUsage)
			assert.Contains(t, err.Error(), tt.wantMsg)
			assert.True(t, strings.HasPrefix(err.Error(), "-config "+path+": "), "the file is named: %v", err)
		})
	}

	t.Run("file too big", func(t *testing.T) {
		big := `{"issuers":[` + exact + `]}` + strings.Repeat(" ", maxConfigFileSize)
		_, err := readConfigFile(writeFile(t, big))
		assert.ErrorIs(t, err, errUsage)
		assert.ErrorContains(t, err, "larger than 1 MiB")

		// Exactly 1 MiB is fine.
		fits := `{"issuers":[` + exact + `]}`
		fits += strings.Repeat(" ", maxConfigFileSize-len(fits))
		_, err = readConfigFile(writeFile(t, fits))
		assert.NoError(t, err)
	})
	t.Run("no such file", func(t *testing.T) {
		_, err := readConfigFile(filepath.Join(t.TempDir(), "missing.json"))
		assert.ErrorIs(t, err, errUsage)
		assert.ErrorContains(t, err, "no such file")
	})
}

// -config replaces the one-issuer flags and their variables: giving both
// is a usage error, whichever the order.
func TestConfigWithOneIssuerFlags(t *testing.T) {
	path := writeFile(t, twoIssuers)
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantMsg string
	}{
		{"-issuer", []string{"-config", path, "-issuer", "https://idp.example.com/"}, nil, "-config and -issuer cannot be combined"},
		{"-issuer first", []string{"-issuer", "https://idp.example.com/", "-config", path}, nil, "-config and -issuer cannot be combined"},
		{"-jwks-url", []string{"-config", path, "-jwks-url", "https://idp.example.com/jwks"}, nil, "-config and -jwks-url cannot be combined"},
		{"-audience", []string{"-config", path, "-audience", "a"}, nil, "-config and -audience cannot be combined"},
		{"-claims-namespace", []string{"-config", path, "-claims-namespace", defaultClaimsNamespace}, nil, "-config and -claims-namespace cannot be combined"},
		{"-typ", []string{"-config", path, "-typ", "at+jwt"}, nil, "-config and -typ cannot be combined"},
		{"-insecure-allow-http-jwks", []string{"-config", path, "-insecure-allow-http-jwks=false"}, nil, "-config and -insecure-allow-http-jwks cannot be combined"},
		{"-jwks-refresh", []string{"-config", path, "-jwks-refresh", "1m"}, nil, "-config and -jwks-refresh cannot be combined"},
		{"JWKS_REFRESH", []string{"-config", path}, map[string]string{"JWKS_REFRESH": "1m"}, "-config and JWKS_REFRESH (environment) cannot be combined"},
		{"ISSUER", []string{"-config", path}, map[string]string{"ISSUER": "x"}, "-config and ISSUER (environment) cannot be combined"},
		{"CONFIG and -audience", []string{"-audience", "a"}, map[string]string{"CONFIG": path}, "-config and -audience cannot be combined"},
		{"flags checked before the file is read", []string{"-config", "/nonexistent", "-issuer", "x"}, nil, "-config and -issuer cannot be combined"},
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
