package jwkstest

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Well-known paths the issuer's handler serves, relative to the issuer URL.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/.well-known/jwks.json"
)

// Issuer is an in-process identity provider for tests: it holds signing
// keys, mints tokens ([Issuer.Token]) and serves its OpenID Connect
// discovery document and JWK set ([Issuer.Handler]), with faults to inject
// on both endpoints ([Issuer.SetJWKSFault]).
//
// A new Issuer has one RS256 key, which signs its tokens. All methods are
// safe for concurrent use.
type Issuer struct {
	mu       sync.Mutex
	url      string
	clock    *Clock
	keys     []*issuerKey // every key ever added, in order
	signer   *issuerKey
	raw      []rawJWK
	jwksF    faultState
	discF    faultState
	release  chan struct{} // closed by ReleaseHangs
	heldCh   chan struct{} // closed and replaced when a request is held
	closed   chan struct{}
	closeOne sync.Once
	lease    *lease

	jwksReqs atomic.Int64
	discReqs atomic.Int64
	held     atomic.Int64
}

type issuerKey struct {
	Key
	published bool
}

type rawJWK struct {
	kid  string
	body json.RawMessage
}

// New returns an Issuer whose issuer identifier is issuerURL (an absolute
// http or https URL; the discovery document and JWK set are expected at
// issuerURL + [DiscoveryPath] and + [JWKSPath]). It starts no server: serve
// [Issuer.Handler] yourself, e.g. on your own router. New panics if
// issuerURL is not an absolute http(s) URL.
//
// Call [Issuer.Close] when done with it.
func New(issuerURL string) *Issuer {
	if err := checkIssuerURL(issuerURL); err != nil {
		panic(err)
	}
	iss := newIssuer()
	iss.url = issuerURL
	return iss
}

func checkIssuerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("jwkstest: issuer URL %q is not an absolute http(s) URL", s)
	}
	return nil
}

func newIssuer() *Issuer {
	iss := &Issuer{
		release: make(chan struct{}),
		heldCh:  make(chan struct{}),
		closed:  make(chan struct{}),
		lease:   new(lease),
	}
	// Return pool keys of an Issuer nobody closed once it is unreachable.
	runtime.AddCleanup(iss, func(l *lease) { l.release() }, iss.lease)
	iss.addKey(RS256, generateKey(RS256, iss.lease), "", true)
	return iss
}

// Close releases every hanging or delayed request (they then answer as
// their fault says) and makes later hang and delay faults answer at once. It
// also returns the Issuer's RSA keys to the kit's pool of pre-generated
// keys, where a later Issuer may get them: do not mint tokens with an Issuer
// after closing it. Close is idempotent.
func (iss *Issuer) Close() {
	iss.closeOne.Do(func() {
		close(iss.closed)
		iss.lease.release()
	})
}

// URL returns the issuer identifier: the "iss" of minted tokens and the
// "issuer" of the discovery document.
func (iss *Issuer) URL() string {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.url
}

// JWKSURL returns the URL of the JWK set: the issuer URL (without a trailing
// slash) + [JWKSPath].
func (iss *Issuer) JWKSURL() string { return strings.TrimSuffix(iss.URL(), "/") + JWKSPath }

// DiscoveryURL returns the URL of the discovery document: the issuer URL
// (without a trailing slash) + [DiscoveryPath].
func (iss *Issuer) DiscoveryURL() string {
	return strings.TrimSuffix(iss.URL(), "/") + DiscoveryPath
}

// SetClock makes the Issuer take "now" (the default iat, and exp = now +
// [DefaultTTL]) from c; nil means the system clock.
func (iss *Issuer) SetClock(c *Clock) {
	iss.mu.Lock()
	iss.clock = c
	iss.mu.Unlock()
}

// Now returns the Issuer's current time: its Clock's, or the system time.
func (iss *Issuer) Now() time.Time {
	iss.mu.Lock()
	c := iss.clock
	iss.mu.Unlock()
	if c != nil {
		return c.Now()
	}
	return time.Now()
}

// AddKey generates a key for alg (one of [Algorithms]), publishes it and
// returns its kid, the key's RFC 7638 [Thumbprint]. The signer does not
// change. RSA keys come from a pool of pre-generated test keys while one is
// free (no two live Issuers share one), so AddKey is fast. It panics on an
// unsupported alg.
func (iss *Issuer) AddKey(alg string) (kid string) {
	return iss.addKey(alg, generateKey(alg, iss.lease), "", false)
}

// Rotate adds a key like [Issuer.AddKey] and makes it the signer. The
// previous keys stay published until removed.
func (iss *Issuer) Rotate(alg string) (kid string) {
	return iss.addKey(alg, generateKey(alg, iss.lease), "", true)
}

// ImportKey publishes a key of your own under kid (its [Thumbprint] when
// kid is "") and returns the kid, e.g. a 1024-bit RSA key for a key-hygiene
// test. The signer does not change. It panics if key cannot sign alg or if
// the Issuer already has a key with that kid (publish duplicates with
// [Issuer.AddRawJWK]).
func (iss *Issuer) ImportKey(kid, alg string, key crypto.Signer) string {
	return iss.addKey(alg, key, kid, false)
}

func (iss *Issuer) addKey(alg string, key crypto.Signer, kid string, makeSigner bool) string {
	checkKey(alg, key)
	if kid == "" {
		kid = Thumbprint(key.Public())
	}
	iss.mu.Lock()
	defer iss.mu.Unlock()
	if iss.findLocked(kid) != nil {
		panic(fmt.Sprintf("jwkstest: the issuer already has a key with kid %q", kid))
	}
	k := &issuerKey{Key: Key{KID: kid, Alg: alg, Private: key}, published: true}
	iss.keys = append(iss.keys, k)
	if makeSigner {
		iss.signer = k
	}
	return kid
}

func (iss *Issuer) findLocked(kid string) *issuerKey {
	for _, k := range iss.keys {
		if k.KID == kid {
			return k
		}
	}
	return nil
}

// RemoveKey withdraws every key with this kid from the JWK set, raw JWKs
// included, and reports whether there was one. The Issuer keeps a removed
// key's private key, so tokens can still be minted with it ([WithKey]) to
// test tokens signed by a retired key; if it was the signer it stays the
// signer until [Issuer.SetSigner] or [Issuer.Rotate].
func (iss *Issuer) RemoveKey(kid string) bool {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	found := false
	if k := iss.findLocked(kid); k != nil && k.published {
		k.published = false
		found = true
	}
	n := len(iss.raw)
	iss.raw = slices.DeleteFunc(iss.raw, func(r rawJWK) bool { return r.kid == kid })
	return found || len(iss.raw) != n
}

// SetSigner makes the key with this kid (published or removed) sign tokens
// from now on. It panics if the Issuer has no such key.
func (iss *Issuer) SetSigner(kid string) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	k := iss.findLocked(kid)
	if k == nil {
		panic(fmt.Sprintf("jwkstest: no key with kid %q", kid))
	}
	iss.signer = k
}

// SigningKey returns the key that signs tokens by default.
func (iss *Issuer) SigningKey() Key {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.signer.Key
}

// Key returns the key with this kid, published or removed.
func (iss *Issuer) Key(kid string) (Key, bool) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	if k := iss.findLocked(kid); k != nil {
		return k.Key, true
	}
	return Key{}, false
}

// Keys returns the published keys in the order they were added (raw JWKs
// are not included).
func (iss *Issuer) Keys() []Key {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	var out []Key
	for _, k := range iss.keys {
		if k.published {
			out = append(out, k.Key)
		}
	}
	return out
}

// KIDs returns the kids of the published keys, in order, then those of the
// raw JWKs that have one: the kids of the served JWK set.
func (iss *Issuer) KIDs() []string {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	var out []string
	for _, k := range iss.keys {
		if k.published {
			out = append(out, k.KID)
		}
	}
	for _, r := range iss.raw {
		if r.kid != "" {
			out = append(out, r.kid)
		}
	}
	return out
}

// AddRawJWK appends a JWK to the served set exactly as given, after the
// Issuer's own keys: an "oct" key, a 1024-bit RSA key, e=1, a duplicate kid,
// use "enc", an unknown kty… jwk is a []byte, json.RawMessage or string of
// JSON, or any value json.Marshal accepts (such as a map from [Key.JWK]).
// It panics if jwk is not valid JSON. A raw JWK with a string "kid" is
// removed by [Issuer.RemoveKey]; [Issuer.ClearRawJWKs] removes them all.
func (iss *Issuer) AddRawJWK(jwk any) {
	var b []byte
	switch v := jwk.(type) {
	case []byte:
		b = slices.Clone(v)
	case json.RawMessage:
		b = slices.Clone(v)
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			panic("jwkstest: AddRawJWK: " + err.Error())
		}
	}
	if !json.Valid(b) {
		panic("jwkstest: AddRawJWK: not valid JSON")
	}
	var probe struct {
		KID any `json:"kid"`
	}
	_ = json.Unmarshal(b, &probe) // not an object: no kid
	kid, _ := probe.KID.(string)
	iss.mu.Lock()
	iss.raw = append(iss.raw, rawJWK{kid: kid, body: b})
	iss.mu.Unlock()
}

// ClearRawJWKs removes every JWK added with [Issuer.AddRawJWK].
func (iss *Issuer) ClearRawJWKs() {
	iss.mu.Lock()
	iss.raw = nil
	iss.mu.Unlock()
}

// JWKS returns the JWK set document the Issuer serves when healthy:
// {"keys":[…]} with the published keys, then the raw JWKs. It suits
// jwks.StaticSource.
func (iss *Issuer) JWKS() []byte {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.jwksLocked()
}

func (iss *Issuer) jwksLocked() []byte {
	keys := make([]json.RawMessage, 0, len(iss.keys)+len(iss.raw))
	for _, k := range iss.keys {
		if k.published {
			keys = append(keys, mustMarshal(k.JWK()))
		}
	}
	for _, r := range iss.raw {
		keys = append(keys, r.body)
	}
	var b strings.Builder
	b.WriteString(`{"keys":[`)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(k)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// DiscoveryDocument returns the OpenID Connect discovery document the Issuer
// serves when healthy, as a fresh map the caller may change and serve
// through [Fault.Body] (e.g. with a foreign "issuer" or "jwks_uri"). It holds
// issuer, jwks_uri, authorization_endpoint, token_endpoint (not served),
// response_types_supported, subject_types_supported and
// id_token_signing_alg_values_supported (the algorithms of the published
// keys).
func (iss *Issuer) DiscoveryDocument() map[string]any {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.discoveryLocked()
}

func (iss *Issuer) discoveryLocked() map[string]any {
	base := strings.TrimSuffix(iss.url, "/")
	var algs []string
	for _, k := range iss.keys {
		if k.published && !slices.Contains(algs, k.Alg) {
			algs = append(algs, k.Alg)
		}
	}
	slices.Sort(algs)
	if algs == nil {
		algs = []string{}
	}
	return map[string]any{
		"issuer":                                iss.url,
		"jwks_uri":                              base + JWKSPath,
		"authorization_endpoint":                base + "/authorize",
		"token_endpoint":                        base + "/oauth/token",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": algs,
	}
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("jwkstest: " + err.Error())
	}
	return b
}

// Fault is how an endpoint misbehaves, and the headers it sends. The zero
// Fault is a healthy endpoint. Fields combine; a request goes through them in
// this order: Hang, Delay, Header/CacheControl/Expires, RedirectTo, then the
// answer (Status, with Body, SingleKey or the document, padded to BodySize).
type Fault struct {
	// Status is the response status; 0 means 200. A status other than 200
	// without Body or SingleKey answers with a short text body.
	Status int
	// Hang holds each request until [Issuer.ReleaseHangs],
	// [Issuer.ClearFaults] or Close, or until the request's context ends
	// (client timeout or disconnect); a released request then answers as the
	// rest of this Fault says. [Issuer.WaitForHeld] tells when requests are
	// held.
	Hang bool
	// Delay waits this long (real time, not the Issuer's Clock) before
	// answering; a request whose context ends first gets no answer, and
	// Close ends the wait. A delayed request counts as held.
	Delay time.Duration
	// Body replaces the document: invalid JSON, a hostile JWK set, a foreign
	// discovery document…
	Body []byte
	// SingleKey answers with the signer's JWK alone, not wrapped in a set.
	SingleKey bool
	// BodySize, when larger than the body, pads the body with trailing
	// spaces to exactly BodySize bytes, streamed without a Content-Length
	// (so a client cannot rely on one to refuse it).
	BodySize int64
	// RedirectTo answers with a redirect to this URL (Status, or 302 when
	// Status is 0), e.g. another host's server.
	RedirectTo string
	// CacheControl and Expires, when set, are sent as the Cache-Control and
	// Expires headers.
	CacheControl string
	Expires      string
	// Header holds further response headers (Retry-After, Content-Type …).
	Header http.Header
	// Times, when positive, limits the Fault to the next Times requests;
	// the endpoint is healthy afterwards.
	Times int
}

type faultState struct {
	f         Fault
	remaining int
}

func newFaultState(f Fault) faultState {
	f.Body = slices.Clone(f.Body)
	f.Header = f.Header.Clone()
	return faultState{f: f, remaining: f.Times}
}

// take returns the Fault for one request and counts it against Times.
func (s *faultState) take() Fault {
	f := s.f
	if f.Times > 0 {
		s.remaining--
		if s.remaining <= 0 {
			*s = faultState{}
		}
	}
	return f
}

// SetJWKSFault makes the JWK set endpoint behave as f says from the next
// request on (f replaces the previous fault; the zero Fault is healthy).
func (iss *Issuer) SetJWKSFault(f Fault) {
	iss.mu.Lock()
	iss.jwksF = newFaultState(f)
	iss.mu.Unlock()
}

// SetDiscoveryFault makes the discovery endpoint behave as f says from the
// next request on.
func (iss *Issuer) SetDiscoveryFault(f Fault) {
	iss.mu.Lock()
	iss.discF = newFaultState(f)
	iss.mu.Unlock()
}

// ClearFaults makes both endpoints healthy and releases hanging requests.
func (iss *Issuer) ClearFaults() {
	iss.mu.Lock()
	iss.jwksF, iss.discF = faultState{}, faultState{}
	iss.mu.Unlock()
	iss.ReleaseHangs()
}

// ReleaseHangs releases the requests that a Hang fault holds now; they
// answer as the rest of their fault says. Later requests hang again while
// the fault is set.
func (iss *Issuer) ReleaseHangs() {
	iss.mu.Lock()
	close(iss.release)
	iss.release = make(chan struct{})
	iss.mu.Unlock()
}

// JWKSRequests returns the number of requests the JWK set endpoint has
// received, faulted ones included.
func (iss *Issuer) JWKSRequests() int64 { return iss.jwksReqs.Load() }

// DiscoveryRequests returns the number of requests the discovery endpoint
// has received, faulted ones included.
func (iss *Issuer) DiscoveryRequests() int64 { return iss.discReqs.Load() }

// Held returns the number of requests a Hang or Delay fault holds now.
func (iss *Issuer) Held() int64 { return iss.held.Load() }

// WaitForHeld blocks until at least n requests are held by a Hang or Delay
// fault, so a test can act while they wait without sleeping. It returns
// ctx.Err() when ctx ends first.
func (iss *Issuer) WaitForHeld(ctx context.Context, n int64) error {
	for {
		iss.mu.Lock()
		ch := iss.heldCh
		iss.mu.Unlock()
		if iss.held.Load() >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

type endpoint int

const (
	epJWKS endpoint = iota
	epDiscovery
)

// Handler returns a handler serving GET (and HEAD) of the discovery document
// and the JWK set at any path ending in [DiscoveryPath] or [JWKSPath], so it
// works mounted at the root or under a prefix; other paths get 404. To
// serve the endpoints on routes of your own, use [Issuer.JWKSHandler] and
// [Issuer.DiscoveryHandler].
func (iss *Issuer) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, JWKSPath):
			iss.serve(w, r, epJWKS)
		case strings.HasSuffix(r.URL.Path, DiscoveryPath):
			iss.serve(w, r, epDiscovery)
		default:
			http.NotFound(w, r)
		}
	})
}

// JWKSHandler returns a handler that serves the JWK set (with its fault)
// whatever the request path.
func (iss *Issuer) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { iss.serve(w, r, epJWKS) })
}

// DiscoveryHandler returns a handler that serves the discovery document
// (with its fault) whatever the request path.
func (iss *Issuer) DiscoveryHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { iss.serve(w, r, epDiscovery) })
}

func (iss *Issuer) serve(w http.ResponseWriter, r *http.Request, ep endpoint) {
	if ep == epJWKS {
		iss.jwksReqs.Add(1)
	} else {
		iss.discReqs.Add(1)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	iss.mu.Lock()
	var f Fault
	if ep == epJWKS {
		f = iss.jwksF.take()
	} else {
		f = iss.discF.take()
	}
	release := iss.release
	iss.mu.Unlock()

	ctx := r.Context()
	if (f.Hang || f.Delay > 0) && !iss.hold(ctx, f, release) {
		return
	}

	h := w.Header()
	for k, v := range f.Header {
		h[k] = slices.Clone(v)
	}
	if f.CacheControl != "" {
		h.Set("Cache-Control", f.CacheControl)
	}
	if f.Expires != "" {
		h.Set("Expires", f.Expires)
	}
	if f.RedirectTo != "" {
		status := f.Status
		if status == 0 {
			status = http.StatusFound
		}
		h.Set("Location", f.RedirectTo)
		w.WriteHeader(status)
		return
	}

	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	var body []byte
	switch {
	case f.Body != nil:
		body = f.Body
	case f.SingleKey:
		iss.mu.Lock()
		body = mustMarshal(iss.signer.JWK())
		iss.mu.Unlock()
	case status != http.StatusOK:
		body = []byte(strconv.Itoa(status) + " " + http.StatusText(status) + "\n")
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "text/plain; charset=utf-8")
		}
	case ep == epJWKS:
		body = iss.JWKS()
	default:
		iss.mu.Lock()
		body = mustMarshal(iss.discoveryLocked())
		iss.mu.Unlock()
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	pad := f.BodySize - int64(len(body))
	if pad <= 0 {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := w.Write(body); err != nil {
		return
	}
	if pad > 0 {
		iss.writePadding(ctx, w, pad)
	}
}

// hold holds a request for a Hang and then a Delay fault. It reports false
// when the request's context ended first; Close ends both waits.
func (iss *Issuer) hold(ctx context.Context, f Fault, release <-chan struct{}) bool {
	iss.held.Add(1)
	defer iss.held.Add(-1)
	iss.mu.Lock()
	close(iss.heldCh)
	iss.heldCh = make(chan struct{})
	iss.mu.Unlock()
	if f.Hang {
		select {
		case <-release:
		case <-iss.closed:
		case <-ctx.Done():
			return false
		}
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-iss.closed:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// writePadding writes n spaces, stopping early when the client goes away or
// the Issuer is closed.
func (iss *Issuer) writePadding(ctx context.Context, w http.ResponseWriter, n int64) {
	chunk := []byte(strings.Repeat(" ", 32<<10))
	for n > 0 {
		select {
		case <-ctx.Done():
			return
		case <-iss.closed:
			return
		default:
		}
		c := chunk
		if int64(len(c)) > n {
			c = c[:n]
		}
		if _, err := w.Write(c); err != nil {
			return
		}
		n -= int64(len(c))
	}
}

// Server is an [Issuer] served by an [httptest.Server], whose URL is the
// issuer URL. Close it when done.
type Server struct {
	*Issuer
	// HTTP is the underlying test server.
	HTTP *httptest.Server
}

// NewServer starts an Issuer on a plain-HTTP loopback httptest server.
func NewServer() *Server { return newServer(false) }

// NewTLSServer starts an Issuer on an HTTPS loopback httptest server; use
// [Server.Client] (or HTTP.Certificate) to trust it.
func NewTLSServer() *Server { return newServer(true) }

func newServer(tls bool) *Server {
	iss := newIssuer()
	ts := httptest.NewUnstartedServer(iss.Handler())
	if tls {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	iss.mu.Lock()
	iss.url = ts.URL
	iss.mu.Unlock()
	return &Server{Issuer: iss, HTTP: ts}
}

// Client returns an HTTP client for the server (trusting its certificate
// for a TLS server).
func (s *Server) Client() *http.Client { return s.HTTP.Client() }

// Close releases hanging and delayed requests, shuts the server down and
// blocks until all its requests have completed, then closes the Issuer.
// It is idempotent.
func (s *Server) Close() {
	s.Issuer.Close()
	s.HTTP.Close()
}
