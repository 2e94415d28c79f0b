package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of the flags.
const (
	defaultAddr = "127.0.0.1:8080"
	// defaultClaimsNamespace is the prefix of the Verdocs custom claims.
	defaultClaimsNamespace = "https://verdocs.com/"
)

// config is the example's configuration, from flags with environment
// fallbacks (see newFlagSet) and, with -config, a JSON file of issuers (see
// readConfigFile).
type config struct {
	// Addr is the TCP address to listen on.
	Addr string
	// ConfigFile is the JSON file of issuers (-config). The one-issuer
	// flags below are then not allowed: the file says everything.
	ConfigFile string
	// Issuers are the issuers read from ConfigFile (nil without -config).
	Issuers []issuerConfig
	// JWKSURL is the identity provider's JWK set URL; "" (and no
	// ConfigFile) selects development mode.
	JWKSURL string
	// Issuer is the accepted "iss" (production mode only; in development
	// mode the issuer is the server's own URL).
	Issuer string
	// Audience is the accepted "aud". Required in production mode; in
	// development mode it defaults to jwkstest.DefaultAudience and is the
	// audience of the printed token.
	Audience string
	// ClaimsNamespace is the prefix of custom claim names.
	ClaimsNamespace string
	// Typ, when set, is the required "typ" header of tokens, e.g. "at+jwt"
	// for RFC 9068 access tokens (middleware.Issuer.Typ).
	Typ string
	// InsecureAllowHTTPJWKS permits an http:// JWKS URL for a host that is
	// not loopback.
	InsecureAllowHTTPJWKS bool
	// JWKSRefresh, when not zero, is how often the key set is refetched
	// (issuerConfig.JWKSRefresh).
	JWKSRefresh time.Duration
}

// dev reports whether cfg selects development mode.
func (c config) dev() bool { return c.JWKSURL == "" && c.ConfigFile == "" }

// issuers returns the trusted issuers: those of the -config file, or the
// one the flags describe; in development mode the built-in issuer at
// devURL, whose keys are discovered from the server itself.
func (c config) issuers(devURL string) []issuerConfig {
	switch {
	case c.ConfigFile != "":
		return c.Issuers
	case c.dev():
		return []issuerConfig{{
			Issuer: devURL, Discovery: true, Audiences: []string{c.Audience}, Typ: c.Typ,
			ClaimsNamespace: c.ClaimsNamespace, JWKSRefresh: jwksRefresh(c.JWKSRefresh),
		}}
	}
	return []issuerConfig{{
		Issuer: c.Issuer, JWKSURL: c.JWKSURL, Audiences: []string{c.Audience}, Typ: c.Typ,
		ClaimsNamespace: c.ClaimsNamespace, InsecureAllowHTTPJWKS: c.InsecureAllowHTTPJWKS,
		JWKSRefresh: jwksRefresh(c.JWKSRefresh),
	}}
}

// errUsage marks configuration errors (exit status 2).
var errUsage = errors.New("usage")

// usageError is a configuration error: its message is shown, and
// errors.Is(err, errUsage) is true.
type usageError struct{ msg string }

func (e *usageError) Error() string        { return e.msg }
func (e *usageError) Is(target error) bool { return target == errUsage }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// envNames are the environment variables read as flag defaults.
var envNames = []string{"ADDR", "CONFIG", "JWKS_URL", "ISSUER", "AUDIENCE", "CLAIMS_NAMESPACE", "TYP", "INSECURE_ALLOW_HTTP_JWKS", "JWKS_REFRESH"}

// newFlagSet returns the flag set that fills cfg. Each flag's default is its
// environment variable when that is set and not empty, else the built-in
// default; a flag on the command line beats both. It reports an invalid
// boolean in the environment as an error.
func newFlagSet(cfg *config, getenv func(string) string) (*flag.FlagSet, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	insecure := false
	if v := getenv("INSECURE_ALLOW_HTTP_JWKS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, usagef("INSECURE_ALLOW_HTTP_JWKS=%q is not a boolean", v)
		}
		insecure = b
	}
	var refresh time.Duration
	if v := getenv("JWKS_REFRESH"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, usagef("JWKS_REFRESH=%q is not a duration such as 5m", v)
		}
		refresh = d
	}

	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.Addr, "addr", env("ADDR", defaultAddr),
		"TCP address to listen on [ADDR]")
	fs.StringVar(&cfg.ConfigFile, "config", env("CONFIG", ""),
		"JSON file of the trusted issuers ({\"issuers\":[…]}, see the README); not with -jwks-url, -issuer, -audience, -claims-namespace, -typ, -insecure-allow-http-jwks or -jwks-refresh, which describe one issuer [CONFIG]")
	fs.StringVar(&cfg.JWKSURL, "jwks-url", env("JWKS_URL", ""),
		"identity provider's JWK set URL; https, or http for loopback hosts only; empty (and no -config): development mode with a built-in issuer [JWKS_URL]")
	fs.StringVar(&cfg.Issuer, "issuer", env("ISSUER", ""),
		"accepted token issuer (\"iss\"), compared exactly; required with -jwks-url [ISSUER]")
	fs.StringVar(&cfg.Audience, "audience", env("AUDIENCE", ""),
		"accepted token audience (\"aud\"); required with -jwks-url; development mode default: "+devDefaultAudience+" [AUDIENCE]")
	fs.StringVar(&cfg.ClaimsNamespace, "claims-namespace", env("CLAIMS_NAMESPACE", defaultClaimsNamespace),
		"prefix of custom claim names [CLAIMS_NAMESPACE]")
	fs.StringVar(&cfg.Typ, "typ", env("TYP", ""),
		"required token \"typ\" header, e.g. at+jwt (RFC 9068 access tokens); compared case-insensitively, \"application/\" optional; empty: not checked [TYP]")
	fs.BoolVar(&cfg.InsecureAllowHTTPJWKS, "insecure-allow-http-jwks", insecure,
		"INSECURE: accept an http:// -jwks-url for a host that is not loopback; anyone on the path can replace the keys [INSECURE_ALLOW_HTTP_JWKS]")
	fs.DurationVar(&cfg.JWKSRefresh, "jwks-refresh", refresh,
		"refetch the key set this often (1s to 12h, ±10% jitter), whatever the provider's Cache-Control says; 0: as Cache-Control says (the key set's defaults) [JWKS_REFRESH]")
	return fs, nil
}

// parseConfig reads the configuration from args (without the program name)
// and the environment, and validates it. Errors wrap errUsage, or are
// flag.ErrHelp for -h.
func parseConfig(args []string, getenv func(string) string) (config, error) {
	var cfg config
	fs, err := newFlagSet(&cfg, getenv)
	if err != nil {
		return config{}, err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config{}, err
		}
		return config{}, usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return config{}, usagef("unexpected argument %q", fs.Arg(0))
	}
	if cfg.ConfigFile != "" {
		if err := oneIssuerFlagsUnset(fs, getenv); err != nil {
			return config{}, err
		}
		issuers, err := readConfigFile(cfg.ConfigFile)
		if err != nil {
			return config{}, err
		}
		cfg.Issuers = issuers
		cfg.ClaimsNamespace = "" // each issuer has its own
	}
	if err := cfg.validate(); err != nil {
		return config{}, err
	}
	return cfg, nil
}

// oneIssuerFlags are the flags (and their variables) that describe the one
// issuer of the command line, which -config replaces.
var oneIssuerFlags = []struct{ flag, env string }{
	{"jwks-url", "JWKS_URL"}, {"issuer", "ISSUER"}, {"audience", "AUDIENCE"},
	{"claims-namespace", "CLAIMS_NAMESPACE"}, {"typ", "TYP"}, {"insecure-allow-http-jwks", "INSECURE_ALLOW_HTTP_JWKS"},
	{"jwks-refresh", "JWKS_REFRESH"},
}

// oneIssuerFlagsUnset reports a one-issuer flag or variable given with
// -config: which of the two should win is not for the server to guess.
func oneIssuerFlagsUnset(fs *flag.FlagSet, getenv func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, f := range oneIssuerFlags {
		switch {
		case set[f.flag]:
			return usagef("-config and -%s cannot be combined: the file describes every issuer", f.flag)
		case getenv(f.env) != "":
			return usagef("-config and %s (environment) cannot be combined: the file describes every issuer", f.env)
		}
	}
	return nil
}

func (c *config) validate() error {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return usagef("-addr %q: %v", c.Addr, err)
	}
	if c.ConfigFile != "" {
		return nil // the issuers were checked by readConfigFile
	}
	if c.ClaimsNamespace == "" {
		return usagef("-claims-namespace must not be empty")
	}
	if err := checkRefresh(c.JWKSRefresh); err != nil {
		return usagef("-jwks-refresh %v", err)
	}
	if c.dev() {
		if c.Issuer != "" {
			return usagef("-issuer needs -jwks-url: in development mode the issuer is the server itself")
		}
		if c.InsecureAllowHTTPJWKS {
			return usagef("-insecure-allow-http-jwks needs -jwks-url")
		}
		if !devHostOK(host) {
			return usagef("-addr %q: development mode listens on a loopback address (or all interfaces), as it fetches its own keys over plain HTTP; give -jwks-url for production mode", c.Addr)
		}
		if c.Audience == "" {
			c.Audience = devDefaultAudience
		}
		return nil
	}
	if err := checkKeysURL(c.JWKSURL, c.InsecureAllowHTTPJWKS, "-insecure-allow-http-jwks"); err != nil {
		return usagef("-jwks-url %v", err)
	}
	if c.Issuer == "" {
		return usagef("-issuer (or ISSUER) is required with -jwks-url")
	}
	if c.Audience == "" {
		return usagef("-audience (or AUDIENCE) is required with -jwks-url")
	}
	return nil
}

// Bounds of a fixed refresh interval (-jwks-refresh, "jwks_refresh"): at
// least a second, so that a typo cannot turn the server into a flood of
// the provider, and at most 12 h, because the key set refreshes at least
// every half of its MaxStale (24 h) whatever it is told.
const (
	minFixedRefresh = time.Second
	maxFixedRefresh = 12 * time.Hour
)

// checkRefresh checks a fixed refresh interval; 0 means none.
func checkRefresh(d time.Duration) error {
	if d != 0 && (d < minFixedRefresh || d > maxFixedRefresh) {
		return fmt.Errorf("%v: must be between %v and %v (or 0: as the provider's Cache-Control says)", d, minFixedRefresh, maxFixedRefresh)
	}
	return nil
}

// checkKeysURL checks a URL keys are fetched from (a JWK set, or an issuer
// to discover): absolute, https, or http for loopback hosts unless
// insecure, whose switch is named in the error.
func checkKeysURL(raw string, insecure bool, insecureSwitch string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !insecure && !isLoopback(u.Hostname()) {
			return fmt.Errorf("%q: http:// is accepted for loopback hosts only (use https, or %s on a closed test network)", raw, insecureSwitch)
		}
	default:
		return fmt.Errorf("%q: scheme must be https", raw)
	}
	return nil
}

// isLoopback reports whether host is localhost or a loopback IP address
// (the rule package jwks applies to http:// URLs).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// devHostOK reports whether development mode may listen on host: loopback,
// or unspecified (all interfaces; the issuer then uses the loopback address).
func devHostOK(host string) bool {
	if host == "" || isLoopback(host) {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}
