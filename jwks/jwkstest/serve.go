package jwkstest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
)

// The paths the Issuer serves, relative to the issuer URL.
const (
	discoveryPath = "/.well-known/openid-configuration"
	jwksPath      = "/.well-known/jwks.json"
)

// endpoint is one of the two documents an Issuer serves.
type endpoint int

const (
	epJWKS endpoint = iota
	epDiscovery
)

// Handler returns a handler that serves GET and HEAD of the discovery
// document at any path ending in /.well-known/openid-configuration and of
// the JWK set at any path ending in /.well-known/jwks.json, so it works
// mounted at the root of a router or under the issuer's path; other paths
// get 404. The discovery document holds issuer, jwks_uri (the issuer URL +
// /.well-known/jwks.json), authorization_endpoint and token_endpoint (not
// served), response_types_supported, subject_types_supported and
// id_token_signing_alg_values_supported (the algorithms of the published
// keys).
func (iss *Issuer) Handler() http.Handler { return http.HandlerFunc(iss.serve) }

// Client returns an HTTP client that serves every request in process with
// [Issuer.Handler], whatever its host: no listener, no network. Give it to
// the code under test as its key set's HTTP client (jwks.Config.HTTPClient)
// and the issuer may have any URL, https included. Since nothing waits on
// the network, it also works inside a testing/synctest bubble, where a
// loopback server would stop the fake clock.
func (iss *Issuer) Client() *http.Client { return &http.Client{Transport: transport{iss}} }

type transport struct{ iss *Issuer }

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	r := req.Clone(req.Context())
	r.RequestURI = req.URL.RequestURI()
	rec := httptest.NewRecorder()
	t.iss.serve(rec, r)
	if err := req.Context().Err(); err != nil { // the request gave up (a Hang fault)
		return nil, err
	}
	res := rec.Result()
	res.Request = req
	return res, nil
}

// JWKSRequests returns the number of requests for the JWK set the Issuer
// has answered or is answering, faulted ones included.
func (iss *Issuer) JWKSRequests() int { return int(iss.jwksRequests.Load()) }

func (iss *Issuer) serve(w http.ResponseWriter, r *http.Request) {
	var ep endpoint
	switch {
	case strings.HasSuffix(r.URL.Path, jwksPath):
		ep = epJWKS
		iss.jwksRequests.Add(1)
	case strings.HasSuffix(r.URL.Path, discoveryPath):
		ep = epDiscovery
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f, ok := iss.fault(r.Context(), ep)
	if !ok {
		return // the client went away while the request hung
	}
	h := w.Header()
	if f.CacheControl != "" {
		h.Set("Cache-Control", f.CacheControl)
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	h.Set("Content-Type", "application/json")
	var body []byte
	switch {
	case f.Body != nil:
		body = f.Body
	case status != http.StatusOK:
		body = []byte(strconv.Itoa(status) + " " + http.StatusText(status) + "\n")
		h.Set("Content-Type", "text/plain; charset=utf-8")
	case ep == epJWKS:
		body = iss.JWKS()
	default:
		body = iss.discovery()
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// discovery returns the discovery document.
func (iss *Issuer) discovery() []byte {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	algs := []string{}
	for _, k := range iss.keys {
		if k.published && !slices.Contains(algs, k.alg) {
			algs = append(algs, k.alg)
		}
	}
	slices.Sort(algs)
	base := strings.TrimSuffix(iss.url, "/")
	return mustMarshal(map[string]any{
		"issuer":                                iss.url,
		"jwks_uri":                              base + jwksPath,
		"authorization_endpoint":                base + "/authorize",
		"token_endpoint":                        base + "/oauth/token",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": algs,
	})
}
