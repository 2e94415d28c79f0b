package jwkstest

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

// Issuer is an in-process identity provider for tests: it holds signing
// keys, mints tokens ([Issuer.Token]) and serves its OpenID Connect
// discovery document and JWK set ([Issuer.Handler], [Issuer.Client]), with a
// fault to inject on either ([Issuer.SetFault]).
//
// A new Issuer signs with an ES256 key of its own. All methods are safe for
// concurrent use.
type Issuer struct {
	mu     sync.Mutex
	url    string
	keys   []*issuerKey // every key ever added, in order
	signer *issuerKey
	faults [2]faultState // indexed by endpoint

	srv       *httptest.Server // NewServer's; nil for New's
	closed    chan struct{}
	closeOnce sync.Once

	jwksRequests atomic.Int64
}

// New returns an Issuer whose issuer identifier is issuer, an absolute http
// or https URL such as "https://idp.example.test/". It starts no server:
// serve [Issuer.Handler] on your own router, or hand [Issuer.Client] to the
// code that fetches the keys. New panics if issuer is not an absolute
// http(s) URL.
func New(issuer string) *Issuer {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		panic(fmt.Sprintf("jwkstest: New(%q): the issuer must be an absolute http or https URL, such as \"https://idp.example.test/\"", issuer))
	}
	iss := newIssuer()
	iss.url = issuer
	return iss
}

// NewServer starts an Issuer on a plain-HTTP loopback [httptest.Server]
// whose URL ("http://127.0.0.1:port") is the issuer identifier. Call
// [Issuer.Close] to stop the server.
func NewServer() *Issuer {
	iss := newIssuer()
	srv := httptest.NewServer(iss.Handler())
	iss.mu.Lock()
	iss.srv, iss.url = srv, srv.URL
	iss.mu.Unlock()
	return iss
}

func newIssuer() *Issuer {
	iss := &Issuer{closed: make(chan struct{})}
	for i := range iss.faults {
		iss.faults[i].changed = make(chan struct{})
	}
	iss.addKey("New", "ES256", nil, true)
	return iss
}

// URL returns the issuer identifier: the "iss" of minted tokens and the
// "issuer" of the discovery document.
func (iss *Issuer) URL() string {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.url
}

// JWKSURL returns the URL of the JWK set, for a source that fetches it
// without discovery: the issuer URL, without a trailing slash, followed by
// "/.well-known/jwks.json".
func (iss *Issuer) JWKSURL() string { return strings.TrimSuffix(iss.URL(), "/") + jwksPath }

// Close releases the requests a Hang fault holds (they answer as the rest
// of the fault says) and makes later Hang faults answer at once; for an
// Issuer from [NewServer] it then stops the server, waiting for its
// requests to complete. The keys stay: tokens can still be minted. Close is
// idempotent.
func (iss *Issuer) Close() {
	iss.closeOnce.Do(func() {
		close(iss.closed)
		if iss.srv != nil {
			iss.srv.Close()
		}
	})
}
