package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/middleware"
	"github.com/sessiongate/sessiongate/session"
)

// maxConfigFileSize bounds the -config file.
const maxConfigFileSize = 1 << 20

// tenantSegment marks a template issuer (see middleware.Issuer.Issuer).
const tenantSegment = "{tenantid}"

// issuerConfig is one trusted issuer: an entry of the -config file's
// "issuers" (the JSON names are the file's), or the one issuer of the flags.
// It becomes one middleware.Issuer with a key set of its own.
type issuerConfig struct {
	// Issuer is the accepted iss, compared exactly; it may hold the path
	// segment {tenantid} (a template issuer, which then needs Tenants).
	Issuer string `json:"issuer"`
	// JWKSURL is where the issuer's JWK set is fetched. Exactly one of
	// JWKSURL and Discovery.
	JWKSURL string `json:"jwks_url"`
	// Discovery finds the JWK set through the issuer's OpenID Connect
	// discovery document (jwks.OIDCSource).
	Discovery bool `json:"discovery"`
	// Audiences are the accepted audiences; required.
	Audiences []string `json:"audiences"`
	// Algorithms are the accepted algorithms; omitted: the middleware's
	// defaults.
	Algorithms []string `json:"algorithms"`
	// Typ, when set, is the required typ header.
	Typ string `json:"typ"`
	// Tenants are the tenants a template issuer accepts.
	Tenants []string `json:"tenants"`
	// NamespacedOnly reads custom claims only under the namespace.
	NamespacedOnly bool `json:"namespaced_only"`
	// RequiredScopes must all be in the token's scope (or scp) claim, or
	// the token is refused at authentication (401).
	RequiredScopes []string `json:"required_scopes"`
	// ClaimsNamespace is the custom-claim prefix; omitted:
	// https://verdocs.com/.
	ClaimsNamespace string `json:"claims_namespace"`
	// RolesClaim, PermissionsClaim and PlansClaim say where roles,
	// permissions and plans come from (middleware.ClaimMap); omitted:
	// the Verdocs claims.
	RolesClaim       string `json:"roles_claim"`
	PermissionsClaim string `json:"permissions_claim"`
	PlansClaim       string `json:"plans_claim"`
	// AllowSigningSessions accepts document-signing tokens.
	AllowSigningSessions bool `json:"allow_signing_sessions"`
	// InsecureAllowHTTPJWKS permits http:// for the JWK set (or the
	// discovery) of a host that is not loopback, for this issuer only.
	InsecureAllowHTTPJWKS bool `json:"insecure_allow_http_jwks"`
	// JWKSRefresh, when given ("5m", within the bounds of checkRefresh), is
	// how often the key set is refetched (±10 % jitter), whatever the
	// provider's Cache-Control says, as Envoy's cache_duration does.
	// Omitted: the defaults of jwks.RefreshConfig. Failed fetches are
	// retried with jwks's backoff either way.
	JWKSRefresh jwksRefresh `json:"jwks_refresh"`
}

// jwksRefresh is the "jwks_refresh" duration, written in JSON as Go
// writes durations ("90s", "5m").
type jwksRefresh time.Duration

// UnmarshalJSON reads a duration string.
func (d *jwksRefresh) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf(`"jwks_refresh": %s where a duration string such as "5m" is expected`, b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf(`"jwks_refresh": %q is not a duration such as "5m"`, s)
	}
	*d = jwksRefresh(v)
	return nil
}

// keys is the configuration of the issuer's key set.
func (ic *issuerConfig) keys(logger *slog.Logger) jwks.Config {
	c := jwks.Config{
		Sources:                     []jwks.Source{ic.source()},
		Logger:                      logger.With("issuer", ic.Issuer),
		InsecureAllowHTTPForAnyHost: ic.InsecureAllowHTTPJWKS,
	}
	if d := time.Duration(ic.JWKSRefresh); d != 0 {
		c.Refresh = jwks.RefreshConfig{Interval: d, Min: d, Max: d}
	}
	return c
}

// fileFields and issuerFields are the names the file may use, exactly.
var (
	fileFields   = []string{"issuers"}
	issuerFields = []string{
		"issuer", "jwks_url", "discovery", "audiences", "algorithms", "typ", "tenants",
		"namespaced_only", "required_scopes", "claims_namespace", "roles_claim",
		"permissions_claim", "plans_claim", "allow_signing_sessions", "insecure_allow_http_jwks",
		"jwks_refresh",
	}
)

// readConfigFile reads and checks the -config file: at most 1 MiB of
// {"issuers":[…]}, every entry an issuerConfig with its JSON names spelt
// exactly, and the issuers together a configuration the middleware
// accepts. Errors wrap errUsage and name the file, the entry and the field.
func readConfigFile(path string) ([]issuerConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("-config: %v", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigFileSize+1))
	if err != nil {
		return nil, usagef("-config %s: %v", path, err)
	}
	if len(b) > maxConfigFileSize {
		return nil, usagef("-config %s: larger than 1 MiB", path)
	}
	issuers, err := parseIssuers(b)
	if err != nil {
		return nil, usagef("-config %s: %v", path, err)
	}
	return issuers, nil
}

// parseIssuers decodes and checks the file's content.
func parseIssuers(b []byte) ([]issuerConfig, error) {
	// Syntax first, for an exact position (json.Unmarshal's offset counts
	// the offending byte; a Decoder's does not).
	var se *json.SyntaxError
	if err := json.Unmarshal(b, new(json.RawMessage)); errors.As(err, &se) {
		line, col := position(b, se.Offset-1)
		return nil, fmt.Errorf("invalid JSON at line %d, column %d: %v", line, col, se)
	} else if err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	var file struct {
		Issuers []json.RawMessage `json:"issuers"`
	}
	if err := decodeStrict(b, &file, fileFields); err != nil {
		return nil, err
	}
	if len(file.Issuers) == 0 {
		return nil, errors.New(`"issuers" is required and must not be empty`)
	}
	issuers := make([]issuerConfig, len(file.Issuers))
	for i, raw := range file.Issuers {
		ic := &issuers[i]
		err := decodeStrict(raw, ic, issuerFields)
		if err == nil {
			err = ic.check()
		}
		if err != nil {
			name := "issuers[" + strconv.Itoa(i) + "]"
			var fields map[string]json.RawMessage
			var iss string
			if json.Unmarshal(raw, &fields) == nil && json.Unmarshal(fields["issuer"], &iss) == nil && iss != "" {
				name += " " + strconv.Quote(iss)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	// What the middleware refuses (two entries for one issuer, an
	// unsupported algorithm, a tenant that is not a path segment …) is a
	// usage error too, reported before the server listens.
	policies := make([]middleware.Issuer, len(issuers))
	for i := range issuers {
		policies[i] = issuers[i].policy(noKeys{})
	}
	if _, err := middleware.NewVerifier(middleware.Config{Issuers: policies}); err != nil {
		return nil, err
	}
	return issuers, nil
}

// decodeStrict decodes the JSON object b (valid JSON) into v, refusing a
// name that is not in names exactly (encoding/json alone would match
// "Issuer" to "issuer") and a name given twice.
func decodeStrict(b []byte, v any, names []string) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if t, err := d.Token(); err != nil {
		return err
	} else if t != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	seen := map[string]bool{}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return err
		}
		name, _ := t.(string)
		switch {
		case !slices.Contains(names, name):
			return fmt.Errorf("unknown field %q", name)
		case seen[name]:
			return fmt.Errorf("field %q given twice", name)
		}
		seen[name] = true
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return err
		}
	}
	if _, err := d.Token(); err != nil { // the closing brace
		return err
	}
	d = json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%q: a JSON %s where %s is expected", te.Field, te.Value, jsonKind(te.Type.String()))
		}
		return err
	}
	return nil
}

// jsonKind names a Go type of issuerConfig as JSON does.
func jsonKind(goType string) string {
	switch goType {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "[]string":
		return "an array of strings"
	case "[]json.RawMessage":
		return "an array"
	}
	return goType
}

// position returns the line and column (from 1, in bytes) of the byte at
// offset off in b.
func position(b []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(b)))
	before := b[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	return line, len(before) - bytes.LastIndexByte(before, '\n')
}

// check checks what the middleware cannot: where the keys come from, and
// the fields' own forms, with the file's names in the errors.
func (ic *issuerConfig) check() error {
	if ic.Issuer == "" {
		return errors.New(`"issuer" is required`)
	}
	const insecure = `"insecure_allow_http_jwks": true`
	switch {
	case ic.JWKSURL != "" && ic.Discovery:
		return errors.New(`"jwks_url" and "discovery" exclude each other: give one`)
	case ic.JWKSURL != "":
		if err := checkKeysURL(ic.JWKSURL, ic.InsecureAllowHTTPJWKS, insecure); err != nil {
			return fmt.Errorf(`"jwks_url" %v`, err)
		}
	case ic.Discovery:
		if err := checkKeysURL(ic.Issuer, ic.InsecureAllowHTTPJWKS, insecure); err != nil {
			return fmt.Errorf(`"issuer" (discovered) %v`, err)
		}
	default:
		return errors.New(`one of "jwks_url" or "discovery": true is required`)
	}
	if err := checkRefresh(time.Duration(ic.JWKSRefresh)); err != nil {
		return fmt.Errorf(`"jwks_refresh" %v`, err)
	}
	template := strings.Contains(ic.Issuer, tenantSegment)
	switch {
	case template && len(ic.Tenants) == 0:
		return errors.New(`"tenants" is required for an issuer with ` + tenantSegment)
	case !template && ic.Tenants != nil:
		return errors.New(`"tenants" needs an issuer with ` + tenantSegment)
	}
	for _, l := range []struct {
		name     string
		list     []string
		required bool
	}{
		{"audiences", ic.Audiences, true},
		{"algorithms", ic.Algorithms, false},
		{"tenants", ic.Tenants, false},
		{"required_scopes", ic.RequiredScopes, false},
	} {
		switch {
		case len(l.list) == 0 && l.required:
			return fmt.Errorf("%q is required and must not be empty", l.name)
		case l.list != nil && len(l.list) == 0:
			return fmt.Errorf("%q is empty (list at least one, or omit it)", l.name)
		}
		for j, v := range l.list {
			if v == "" {
				return fmt.Errorf("%q[%d] is empty", l.name, j)
			}
		}
	}
	for j, s := range ic.RequiredScopes {
		if !validScope(s) {
			return fmt.Errorf(`"required_scopes"[%d] %q is not an OAuth scope`, j, s)
		}
	}
	return nil
}

// validScope reports whether s is an RFC 6749 scope-token: printable
// ASCII without space, double quote or backslash.
func validScope(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return s != ""
}

// source is where the issuer's keys come from, bound to the issuer as
// configured (a template issuer's keys to its template, as the middleware
// looks them up). Discovery of a template issuer is left to package jwks,
// which reads the provider's common document ({tenantid} replaced by
// "common").
func (ic *issuerConfig) source() jwks.Source {
	if ic.Discovery {
		return jwks.OIDCSource(ic.Issuer)
	}
	src := jwks.URLSource(ic.JWKSURL)
	src.Issuer = ic.Issuer
	return src
}

// policy is the issuer's middleware policy, with its keys from keys.
func (ic *issuerConfig) policy(keys middleware.KeySource) middleware.Issuer {
	p := middleware.Issuer{
		Issuer:     ic.Issuer,
		Keys:       keys,
		Audiences:  ic.Audiences,
		Algorithms: ic.Algorithms,
		Typ:        ic.Typ,
		Tenants:    ic.Tenants,
		Claims: middleware.ClaimMap{
			Namespace:      ic.ClaimsNamespace,
			NamespacedOnly: ic.NamespacedOnly,
			Roles:          ic.RolesClaim,
			Permissions:    ic.PermissionsClaim,
			Plans:          ic.PlansClaim,
		},
		AllowSigningSessions: ic.AllowSigningSessions,
	}
	if len(ic.RequiredScopes) > 0 {
		p.Require = []middleware.Rule{requireScopes(ic.RequiredScopes)}
	}
	return p
}

// requireScopes is the rule of required_scopes: the token's scope (or scp)
// claim, as the session decoder reads it, holds every one of scopes.
func requireScopes(scopes []string) middleware.Rule {
	scopes = slices.Clone(scopes)
	return middleware.Check("missing required scope", func(t *session.Token) bool {
		for _, s := range scopes {
			if !slices.Contains(t.Scopes, s) {
				return false
			}
		}
		return true
	})
}

// noKeys stands in for the key sets while the file is checked: the
// middleware validates its policies without looking a key up.
type noKeys struct{}

func (noKeys) Key(context.Context, string, string, string) (*jwks.Key, error) {
	return nil, jwks.ErrKeyNotFound
}
