package jwks

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The defaults of zero fields of [Config], each written on its field.
const (
	defaultMaxStale          = 24 * time.Hour
	defaultRefreshInterval   = 15 * time.Minute
	defaultMinRefresh        = time.Minute
	defaultMaxRefresh        = 24 * time.Hour
	defaultMaxBackoff        = 5 * time.Minute
	defaultUnknownKIDWindow  = 30 * time.Second
	defaultNegativeCacheSize = 1024
	defaultNegativeCacheTTL  = 5 * time.Minute
	defaultFetchTimeout      = 10 * time.Second
	defaultHeaderTimeout     = 5 * time.Second // of the default HTTP client
	defaultMaxBodyBytes      = 1 << 20
)

// Limits that are not configurable.
const (
	// maxKeysPerSet bounds the JWKs in one fetched set; a larger set fails
	// the fetch.
	maxKeysPerSet = 256
	// maxKIDLen bounds the kid of a lookup; a longer kid is not found and
	// triggers no refetch.
	maxKIDLen = 512
	// firstBackoff is the first retry delay after a failed fetch; it doubles
	// per consecutive failure up to RefreshConfig.MaxBackoff.
	firstBackoff = time.Second
	// jitterFraction is the ±jitter applied to refresh intervals.
	jitterFraction = 0.1
)

// Config configures a [Set]. The zero value of every field but Sources means
// the default written on the field.
type Config struct {
	// Sources are the key sources that form the set; at least one. Each has
	// its own fetch state; a lookup sees the keys of the sources that serve
	// its issuer (see [Set.Key]).
	Sources []Source

	// HTTPClient fetches key sets and discovery documents. Default: a client
	// with a 10 s overall timeout, 5 s for connect, TLS handshake and
	// response headers, and TLS 1.2 or later. Whatever the client, each fetch
	// is bounded by Fetch.Timeout and redirects to another origin (scheme,
	// host and port) are not followed: the Set uses a copy of the client
	// whose CheckRedirect enforces that before calling the client's own.
	HTTPClient *http.Client

	// Logger receives the package's log records (dropped keys, failed and
	// recovered fetches). Default: nil, which discards them.
	Logger *slog.Logger

	// MaxStale is how long the last good set of a source keeps serving while
	// refreshes fail. Beyond it, the source counts as unavailable and
	// lookups answer [ErrUnavailable]. Refreshes happen at least every
	// MaxStale/2, whatever the refresh interval. Default: 24 h.
	MaxStale time.Duration

	// Refresh controls background refresh and retry.
	Refresh RefreshConfig

	// UnknownKID controls refetches triggered by lookups of unknown kids.
	UnknownKID UnknownKIDConfig

	// Fetch bounds every HTTP fetch.
	Fetch FetchConfig

	// InsecureAllowHTTPForAnyHost permits http:// source URLs (and
	// discovered jwks_uri values) for hosts other than loopback, and an
	// http:// jwks_uri named by a discovery document fetched over https. Key
	// sets fetched over plain HTTP can be replaced by anyone on the path: do
	// not set this outside of closed test networks. Default: false, http://
	// is accepted only for localhost and loopback addresses, and never for
	// a jwks_uri discovered over https (that fetch fails with [ErrFetch]).
	InsecureAllowHTTPForAnyHost bool
}

// RefreshConfig controls the background refresh of remote sources.
type RefreshConfig struct {
	// Interval applies when a response carries neither Cache-Control
	// max-age nor Expires (or they cannot be parsed). Default: 15 min.
	Interval time.Duration
	// Min and Max clamp the interval a response asks for (max-age=0,
	// no-cache and no-store count as 0). Defaults: 1 min and 24 h.
	// ±10% jitter is applied after clamping so replicas do not synchronize.
	Min, Max time.Duration
	// MaxBackoff caps the exponential backoff (starting at 1 s, with jitter)
	// between retries after failed fetches. Default: 5 min.
	MaxBackoff time.Duration
}

// UnknownKIDConfig controls what a lookup of a kid that is not in the set
// does: it may trigger one refetch of each source, coalesced with every
// concurrent lookup (single-flight) and rate limited per source. A lookup
// never waits for the rate limiter: while it is closed, the lookup fails at
// once with [ErrKeyNotFound].
type UnknownKIDConfig struct {
	// Window is the rate limit: at most one unknown-kid refetch per source
	// per Window. Default: 30 s.
	Window time.Duration
	// NegativeCacheSize bounds the number of recently seen unknown kids
	// remembered; such a kid fails at once without using the rate limit
	// until the set changes or NegativeCacheTTL passes. Default: 1024.
	NegativeCacheSize int
	// NegativeCacheTTL is how long an unknown kid is remembered. Default: 5 min.
	NegativeCacheTTL time.Duration
}

// FetchConfig bounds every HTTP fetch.
type FetchConfig struct {
	// Timeout bounds each request, headers and body. Default: 10 s.
	Timeout time.Duration
	// MaxBodyBytes caps a response body; a larger body fails the fetch.
	// Default: 1 MiB.
	MaxBodyBytes int64
}

// sourceKind says where a [Source] gets its keys.
type sourceKind int

// The kinds of [Source].
const (
	// kindURL fetches a JWK set from Source.url.
	kindURL sourceKind = iota + 1
	// kindOIDC fetches <Source.Issuer>/.well-known/openid-configuration,
	// requires its "issuer" to equal Source.Issuer exactly, and fetches the
	// JWK set from its "jwks_uri".
	kindOIDC
	// kindStatic serves the JWK set in Source.json; it never fetches.
	kindStatic
)

// Source is one origin of keys. Build it with [URLSource], [OIDCSource] or
// [StaticSource], then set Issuer if wanted; the zero Source is refused by
// [New].
type Source struct {
	// Issuer binds the source's keys to one issuer: they verify only
	// tokens of that issuer (see [Set.Key]) and carry it as Key.Issuer.
	// Empty, the keys verify tokens of any issuer. It is compared exactly;
	// it may hold the path segment {tenantid} at most once (a template
	// issuer, see [OIDCSource]) and no other brace. [OIDCSource] sets it to
	// the issuer it discovers.
	Issuer string

	kind sourceKind
	url  string // the JWK set URL (kindURL)
	json []byte // a JWK set document (kindStatic)
}

// URLSource returns a source that fetches the JWK set at jwksURL (https, or
// http for a loopback host).
func URLSource(jwksURL string) Source { return Source{kind: kindURL, url: jwksURL} }

// OIDCSource returns a source that discovers the JWK set of an OpenID
// Connect issuer through <issuer>/.well-known/openid-configuration. The
// document's "issuer" must equal issuer exactly, and its "jwks_uri" must be
// https when issuer is (see [Config.InsecureAllowHTTPForAnyHost]). The
// discovered jwks_uri is kept until a fetch from it fails; the next attempt
// discovers again. The source's keys are bound to issuer ([Source.Issuer]).
//
// An issuer with the path segment {tenantid} is the template issuer of a
// multi-tenant provider, as Microsoft Entra ID has
// ("https://login.microsoftonline.com/{tenantid}/v2.0"): the source reads
// the common document, at the issuer with {tenantid} replaced by "common"
// (https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration),
// and accepts it only when its "issuer" is the template itself, as Entra's
// is. The keys are bound to the template: lookups name the template issuer,
// not a tenant's.
func OIDCSource(issuer string) Source { return Source{kind: kindOIDC, Issuer: issuer} }

// StaticSource returns a source that serves the keys of a JWK set document,
// for tests and offline use. [New] applies key hygiene to it and fails when
// no key passes.
func StaticSource(jwksJSON []byte) Source { return Source{kind: kindStatic, json: jwksJSON} }

// settings is a Config with defaults applied.
type settings struct {
	client      *http.Client
	ownClient   bool
	logger      *slog.Logger
	maxStale    time.Duration
	refresh     RefreshConfig
	unknown     UnknownKIDConfig
	fetch       FetchConfig
	insecureAny bool
}

func (c *Config) settings() (settings, error) {
	s := settings{
		logger:      c.Logger,
		maxStale:    c.MaxStale,
		refresh:     c.Refresh,
		unknown:     c.UnknownKID,
		fetch:       c.Fetch,
		insecureAny: c.InsecureAllowHTTPForAnyHost,
	}
	if len(c.Sources) == 0 {
		return s, configError("no sources")
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"MaxStale", &s.maxStale, defaultMaxStale},
		{"Refresh.Interval", &s.refresh.Interval, defaultRefreshInterval},
		{"Refresh.Min", &s.refresh.Min, defaultMinRefresh},
		{"Refresh.Max", &s.refresh.Max, defaultMaxRefresh},
		{"Refresh.MaxBackoff", &s.refresh.MaxBackoff, defaultMaxBackoff},
		{"UnknownKID.Window", &s.unknown.Window, defaultUnknownKIDWindow},
		{"UnknownKID.NegativeCacheTTL", &s.unknown.NegativeCacheTTL, defaultNegativeCacheTTL},
		{"Fetch.Timeout", &s.fetch.Timeout, defaultFetchTimeout},
	} {
		if *d.v < 0 {
			return s, configError("%s is negative", d.name)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if s.refresh.Min > s.refresh.Max {
		return s, configError("Refresh.Min %v exceeds Refresh.Max %v", s.refresh.Min, s.refresh.Max)
	}
	if s.unknown.NegativeCacheSize < 0 || s.fetch.MaxBodyBytes < 0 {
		return s, configError("negative size")
	}
	if s.unknown.NegativeCacheSize == 0 {
		s.unknown.NegativeCacheSize = defaultNegativeCacheSize
	}
	if s.fetch.MaxBodyBytes == 0 {
		s.fetch.MaxBodyBytes = defaultMaxBodyBytes
	}
	if c.HTTPClient != nil {
		cl := *c.HTTPClient
		s.client = &cl
	} else {
		s.client = defaultHTTPClient()
		s.ownClient = true
	}
	s.client.CheckRedirect = sameOriginRedirects(s.client.CheckRedirect)
	return s, nil
}

// tenantPlaceholder is the tenant segment of a template issuer.
const tenantPlaceholder = "{tenantid}"

// checkIssuerTemplate checks the placeholder of a template issuer: at most
// one "{tenantid}", as a whole path segment of a URL, and no other brace (a
// "{tenantId}" or "{tenant}" would otherwise be taken literally and never
// match). Its errors carry no package prefix; callers wrap them.
func checkIssuerTemplate(issuer string) error {
	n := strings.Count(issuer, tenantPlaceholder)
	if n > 1 {
		return fmt.Errorf("%s appears %d times (at most once)", tenantPlaceholder, n)
	}
	if strings.ContainsAny(strings.Replace(issuer, tenantPlaceholder, "", 1), "{}") {
		return fmt.Errorf("a brace outside the one %s placeholder", tenantPlaceholder)
	}
	if n == 0 {
		return nil
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return fmt.Errorf("a template issuer must be a URL with %s as a path segment", tenantPlaceholder)
	}
	if u.RawQuery != "" || u.Fragment != "" || !slices.Contains(strings.Split(u.Path, "/"), tenantPlaceholder) {
		return fmt.Errorf("%s is not a whole path segment", tenantPlaceholder)
	}
	return nil
}

// discoveryBase returns the URL whose /.well-known/openid-configuration an
// OIDC source reads: the issuer, or for a template issuer the issuer with
// {tenantid} replaced by "common" (the multi-tenant document, whose
// "issuer" is the template itself).
func discoveryBase(issuer string) string {
	return strings.Replace(issuer, tenantPlaceholder, "common", 1)
}

// checkURL validates a source or discovered URL. Its errors carry no
// package prefix; callers wrap them.
func checkURL(raw string, insecureAny bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad URL: %v", err)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("URL %q has no host", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("URL %q carries credentials", u.Redacted())
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("URL %q has a fragment", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !insecureAny && !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("URL %q uses http:// for a non-loopback host (use https, or set InsecureAllowHTTPForAnyHost)", raw)
		}
	default:
		return nil, fmt.Errorf("URL %q: scheme must be https", raw)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
