// Package bench compares sessiongate with the libraries a Go team would
// otherwise pick to authenticate requests with JWTs: auth0/go-jwt-middleware
// v2, go-chi/jwtauth v5, MicahParks/keyfunc v3 with golang-jwt v5, and
// lestrrat-go/jwx v2, beside the physical floor (SHA-256 and the
// public-key operation of crypto/*) and a chi router without
// authentication.
//
// It is a module of its own (see go.mod), so the peers never enter the
// library's dependencies. Every case runs the same request (GET /me with a
// realistic Verdocs access token, [NewSession]) through the same chi router
// and the same handler, which reads the same facts (sub, organization id,
// number of permissions) from the request context through whatever API the
// case offers ([Case.Facts]).
//
// Run bench/run.sh to regenerate RESULTS.md and chart.svg; cmd/load is the
// HTTP-level figure and cmd/storm the JWKS storm figures.
package bench
