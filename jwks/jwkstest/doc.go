// Package jwkstest is a test kit for code that verifies tokens with
// sessiongate: an in-process identity provider that serves an OpenID Connect
// discovery document and a JWK set, mints signed tokens for sessions, and
// misbehaves on request. It needs no network beyond loopback and no real
// identity provider, in the spirit of go-oidc's oidctest.
//
// It is for tests (and development servers) only: setup mistakes such as an
// unsupported algorithm or an unknown kid panic, while serving and minting
// never do. Its RSA keys come from a pool of pre-generated keys that are
// public: never use the kit to protect anything.
//
// # Issuers and servers
//
// [NewServer] starts an [Issuer] on an httptest server whose URL is the
// issuer identifier; [New] makes one for an issuer URL of your choice whose
// [Issuer.Handler] you serve yourself, e.g. on the router of a development
// server. Either way the issuer serves
//
//	GET <issuer>/.well-known/openid-configuration
//	GET <issuer>/.well-known/jwks.json
//
// and counts the requests ([Issuer.JWKSRequests]).
//
// # Keys
//
// A new Issuer has one RS256 signing key. [Issuer.AddKey], [Issuer.Rotate],
// [Issuer.RemoveKey] and [Issuer.SetSigner] manage keys for RS256, RS384,
// RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA and Ed25519 (an
// Ed25519 key published with "alg": "Ed25519", as RFC 9864 names it);
// [Issuer.ImportKey] and [Issuer.AddRawJWK] publish keys you made, hostile
// ones included.
//
// # Tokens
//
// [Issuer.Token] mints an access token for a [session.ActiveSession] with
// the claims namespaced as the identity provider sends them,
// [Issuer.SigningToken] one for a [session.SigningSession], and
// [Issuer.RawToken] one for any claims. Options such as [WithAudience],
// [WithExpiresIn], [WithKID], [WithAlg] and [WithHeader] craft invalid and
// hostile tokens; [Issuer.Sign] signs raw bytes.
//
// # Faults and time
//
// [Issuer.SetJWKSFault] and [Issuer.SetDiscoveryFault] make an endpoint
// fail, hang, slow down, send an oversized or invalid body, redirect, or set
// caching headers ([Fault]). [Clock] is a fake clock for the issuer and for
// the code under test.
//
// # Example
//
//	func TestMe(t *testing.T) {
//		idp := jwkstest.NewServer()
//		defer idp.Close()
//		h := newHandler(idp.URL(), jwkstest.DefaultAudience) // your code
//
//		req := httptest.NewRequest("GET", "/me", nil)
//		req.Header.Set("Authorization", "Bearer "+idp.Token(session.ActiveSession{
//			Sub:   "user-1",
//			Roles: []session.Role{{ID: session.RoleOwner}},
//		}))
//		rec := httptest.NewRecorder()
//		h.ServeHTTP(rec, req)
//		if rec.Code != 200 {
//			t.Fatalf("status %d", rec.Code)
//		}
//	}
package jwkstest
