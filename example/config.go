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

	"github.com/sessiongate/sessiongate/jwks"
)

// Defaults of the flags.
const (
	defaultAddr = "127.0.0.1:8080"
	// defaultClaimsNamespace is the prefix of the Verdocs custom claims.
	defaultClaimsNamespace = "https://verdocs.com/"
)

// config is the example's configuration, from flags with environment
// fallbacks (see newFlagSet).
type config struct {
	// Addr is the TCP address to listen on.
	Addr string
	// JWKSURL is the identity provider's JWK set URL; "" selects
	// development mode.
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
	// for RFC 9068 access tokens (middleware.TokenRules.Typ).
	Typ string
	// InsecureAllowHTTPJWKS permits an http:// JWKS URL for a host that is
	// not loopback.
	InsecureAllowHTTPJWKS bool

	// tuneKeys, when set (by tests only), adjusts the key set's
	// configuration before it is built, e.g. shorter refresh intervals for
	// the soak test.
	tuneKeys func(*jwks.Config)
}

// dev reports whether cfg selects development mode.
func (c config) dev() bool { return c.JWKSURL == "" }

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
var envNames = []string{"ADDR", "JWKS_URL", "ISSUER", "AUDIENCE", "CLAIMS_NAMESPACE", "TYP", "INSECURE_ALLOW_HTTP_JWKS"}

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

	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.Addr, "addr", env("ADDR", defaultAddr),
		"TCP address to listen on [ADDR]")
	fs.StringVar(&cfg.JWKSURL, "jwks-url", env("JWKS_URL", ""),
		"identity provider's JWK set URL; https, or http for loopback hosts only; empty: development mode with a built-in issuer [JWKS_URL]")
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
	if err := cfg.validate(); err != nil {
		return config{}, err
	}
	return cfg, nil
}

func (c *config) validate() error {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return usagef("-addr %q: %v", c.Addr, err)
	}
	if c.ClaimsNamespace == "" {
		return usagef("-claims-namespace must not be empty")
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
	u, err := url.Parse(c.JWKSURL)
	if err != nil || u.Host == "" {
		return usagef("-jwks-url %q is not an absolute URL", c.JWKSURL)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !c.InsecureAllowHTTPJWKS && !isLoopback(u.Hostname()) {
			return usagef("-jwks-url %q: http:// is accepted for loopback hosts only (use https, or -insecure-allow-http-jwks on a closed test network)", c.JWKSURL)
		}
	default:
		return usagef("-jwks-url %q: scheme must be https", c.JWKSURL)
	}
	if c.Issuer == "" {
		return usagef("-issuer (or ISSUER) is required with -jwks-url")
	}
	if c.Audience == "" {
		return usagef("-audience (or AUDIENCE) is required with -jwks-url")
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
