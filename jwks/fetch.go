package jwks

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"time"
)

// maxRedirects bounds the same-origin redirects followed per fetch.
const maxRedirects = 3

// errBodyTooLarge is the cause of a fetch whose body exceeds
// FetchConfig.MaxBodyBytes.
var errBodyTooLarge = errors.New("response body exceeds the size limit")

// errCrossOriginRedirect is the cause of a fetch redirected to another origin.
var errCrossOriginRedirect = errors.New("redirect to another origin refused")

func defaultHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: defaultHeaderTimeout, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: defaultFetchTimeout,
		Transport: &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            dialer.DialContext,
			TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:    defaultHeaderTimeout,
			ResponseHeaderTimeout:  defaultHeaderTimeout,
			ExpectContinueTimeout:  time.Second,
			IdleConnTimeout:        90 * time.Second,
			MaxIdleConns:           16,
			MaxResponseHeaderBytes: 64 << 10,
			ForceAttemptHTTP2:      true,
		},
	}
}

// sameOriginRedirects returns a CheckRedirect that follows at most
// maxRedirects redirects, only to the origin (scheme, host, port) of the
// original request, and then defers to next (the caller's policy), if any.
func sameOriginRedirects(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		first := via[0].URL
		if req.URL.Scheme != first.Scheme || !strings.EqualFold(req.URL.Host, first.Host) {
			return errCrossOriginRedirect
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
}

// get fetches url and returns its body (at most maxBody bytes) and headers.
// Any non-2xx status, transport error or oversized body is a *FetchError.
func get(ctx context.Context, client *http.Client, url string, maxBody int64, accept string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, &FetchError{URL: url, Err: err}
	}
	req.Header.Set("Accept", accept)
	resp, err := client.Do(req)
	if err != nil {
		// Do wraps errors in *url.Error, which repeats the URL; keep the cause.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, &FetchError{URL: url, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10) // allow connection reuse
		return nil, nil, &FetchError{URL: url, StatusCode: resp.StatusCode}
	}
	if resp.ContentLength > maxBody {
		return nil, nil, &FetchError{URL: url, StatusCode: resp.StatusCode, Err: errBodyTooLarge}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, nil, &FetchError{URL: url, StatusCode: resp.StatusCode, Err: err}
	}
	if int64(len(body)) > maxBody {
		return nil, nil, &FetchError{URL: url, StatusCode: resp.StatusCode, Err: errBodyTooLarge}
	}
	return body, resp.Header, nil
}

// discover fetches the OpenID Connect discovery document of issuer and
// returns its jwks_uri, after checking that its issuer equals issuer exactly
// and that jwks_uri is an acceptable URL: one checkURL accepts and, when
// the document came over https, https too (unless insecureAny). For a
// template issuer the document is the "common" one (see discoveryBase), and
// its issuer must equal the template literally.
func discover(ctx context.Context, client *http.Client, issuer string, maxBody int64, insecureAny bool) (string, error) {
	u := strings.TrimSuffix(discoveryBase(issuer), "/") + "/.well-known/openid-configuration"
	body, _, err := get(ctx, client, u, maxBody, "application/json")
	if err != nil {
		return "", err
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil || doc == nil {
		return "", &FetchError{URL: u, Err: errors.New("discovery document is not a JSON object")}
	}
	var iss, jwksURI string
	if json.Unmarshal(doc["issuer"], &iss) != nil || iss != issuer {
		return "", &FetchError{URL: u, Err: fmt.Errorf("discovery document issuer %q does not equal the configured issuer %q", iss, issuer)}
	}
	if json.Unmarshal(doc["jwks_uri"], &jwksURI) != nil || jwksURI == "" {
		return "", &FetchError{URL: u, Err: errors.New("discovery document has no jwks_uri")}
	}
	ju, err := checkURL(jwksURI, insecureAny)
	if err != nil {
		return "", &FetchError{URL: u, Err: fmt.Errorf("unacceptable jwks_uri: %v", err)}
	}
	// No downgrade: keys named by a document that came over https are
	// fetched over https, also from a loopback host. (Redirects keep the
	// scheme: they are followed within the same origin only.)
	if iu, err := neturl.Parse(u); (err != nil || iu.Scheme == "https") && ju.Scheme != "https" && !insecureAny {
		return "", &FetchError{URL: u, Err: fmt.Errorf("unacceptable jwks_uri: URL %q uses http:// but the discovery document came over https (set InsecureAllowHTTPForAnyHost to allow)", jwksURI)}
	}
	return jwksURI, nil
}

// refreshInterval returns how long to keep a set fetched at now with the
// response headers h before refreshing it: Cache-Control max-age (no-cache,
// no-store and max-age=0 count as 0), else Expires minus Date (or now),
// else the default; clamped to [Min, Max]; at most maxStale/2 (so that a
// failed refresh leaves time to retry before the set goes stale); then ±10%
// jitter.
func refreshInterval(h http.Header, now time.Time, rc RefreshConfig, maxStale time.Duration, rnd func() float64) time.Duration {
	d, ok := cacheLifetime(h, now)
	if !ok {
		d = rc.Interval
	}
	d = max(rc.Min, min(d, rc.Max))
	d = min(d, maxStale/2)
	return jitter(d, rnd)
}

// cacheLifetime reads the freshness lifetime a response asks for.
func cacheLifetime(h http.Header, now time.Time) (time.Duration, bool) {
	for _, v := range h.Values("Cache-Control") {
		for _, dir := range strings.Split(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(dir), "=")
			switch strings.ToLower(name) {
			case "no-cache", "no-store":
				return 0, true
			case "max-age":
				val = strings.Trim(val, `"`)
				n, err := strconv.ParseUint(val, 10, 63)
				if err != nil {
					var ne *strconv.NumError
					if errors.As(err, &ne) && ne.Err == strconv.ErrRange && val != "" && strings.Trim(val, "0123456789") == "" {
						return time.Duration(1<<63 - 1), true // RFC 9111 5.2: treat overflow as "very large"
					}
					return 0, false
				}
				if n > uint64((1<<63-1)/time.Second) {
					return time.Duration(1<<63 - 1), true
				}
				return time.Duration(n) * time.Second, true
			}
		}
	}
	if exp := h.Get("Expires"); exp != "" {
		t, err := http.ParseTime(exp)
		if err != nil {
			return 0, true // RFC 9111 5.3: an invalid Expires means "already expired"
		}
		base := now
		if d, err := http.ParseTime(h.Get("Date")); err == nil {
			base = d
		}
		if t.Before(base) {
			return 0, true
		}
		return t.Sub(base), true
	}
	return 0, false
}

// jitter spreads d uniformly over [0.9 d, 1.1 d].
func jitter(d time.Duration, rnd func() float64) time.Duration {
	f := 1 + jitterFraction*(2*rnd()-1)
	return time.Duration(float64(d) * f)
}

// backoff returns the delay before retry number n (1 for the first retry):
// firstBackoff doubling per failure up to maxBackoff, with "equal jitter"
// (a uniform delay in [d/2, d]).
func backoff(n int, maxBackoff time.Duration, rnd func() float64) time.Duration {
	d := firstBackoff
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	return d/2 + time.Duration(rnd()*float64(d/2))
}

// defaultRand is the jitter source.
func defaultRand() float64 { return rand.Float64() }
