package jwkstest

import (
	"context"
	"slices"
)

// Fault is how the JWK set, or with Discovery the discovery document,
// answers instead of a healthy 200 with the document. The zero Fault is
// the healthy answer; fields combine.
type Fault struct {
	// Discovery makes the Fault apply to the discovery document instead of
	// the JWK set. Each of the two has its own Fault.
	Discovery bool
	// Status is the status of the answer; 0 means 200. A status other than
	// 200 without Body answers with a short text body.
	Status int
	// Body replaces the document: invalid JSON, an HTML error page, a
	// hostile JWK set, a discovery document naming another issuer…
	Body []byte
	// CacheControl, when set, is sent as the Cache-Control header
	// ("max-age=60", "no-store" …).
	CacheControl string
	// Hang holds each request until its context ends (the client gives up),
	// the Fault is replaced ([Issuer.SetFault]) or the Issuer is closed. A
	// request released by a new Fault answers as that one says; one
	// released by Close answers as the rest of this one says. Inside a
	// testing/synctest bubble, synctest.Wait returns once every request
	// hangs.
	Hang bool
}

// faultState is one endpoint's Fault; changed is closed and replaced
// whenever the Fault is, to release hanging requests.
type faultState struct {
	f       Fault
	changed chan struct{}
}

// SetFault makes the JWK set, or with f.Discovery the discovery document,
// answer as f says from the next request on, and releases the requests
// the previous Fault of that document holds. SetFault(Fault{}) makes the
// JWK set healthy again, SetFault(Fault{Discovery: true}) the discovery
// document.
func (iss *Issuer) SetFault(f Fault) {
	ep := epJWKS
	if f.Discovery {
		ep = epDiscovery
	}
	f.Body = slices.Clone(f.Body)
	iss.mu.Lock()
	defer iss.mu.Unlock()
	st := &iss.faults[ep]
	st.f = f
	close(st.changed)
	st.changed = make(chan struct{})
}

// fault returns the Fault a request for ep answers with, after holding the
// request while the Fault hangs. It reports false if the request's context
// ended first.
func (iss *Issuer) fault(ctx context.Context, ep endpoint) (Fault, bool) {
	for {
		iss.mu.Lock()
		f, changed := iss.faults[ep].f, iss.faults[ep].changed
		iss.mu.Unlock()
		if !f.Hang {
			return f, true
		}
		select {
		case <-changed:
		case <-iss.closed:
			return f, true
		case <-ctx.Done():
			return f, false
		}
	}
}
