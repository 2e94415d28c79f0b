// Package jwkstest is a test kit for code that verifies tokens with
// sessiongate: an in-process identity provider that serves an OpenID Connect
// discovery document and a JWK set, mints signed tokens, and misbehaves on
// request. It needs no real identity provider and, [NewServer] aside, no
// network, in the spirit of go-oidc's oidctest.
//
// It is for tests (and development servers): a setup mistake, such as an
// unsupported algorithm or an unknown kid, panics with a message that names
// the call and what was wrong; serving never panics.
//
// # Issuers
//
// [New] makes an [Issuer] for an issuer URL of your choice. Its key set is
// fetched through [Issuer.Client], an HTTP client that answers in process,
// or from [Issuer.Handler] mounted on your own router; [Issuer.JWKS] is the
// document itself, for a static source. [NewServer] serves the issuer on a
// loopback httptest server whose URL is the issuer URL. Either way the issuer
// serves
//
//	GET <issuer>/.well-known/openid-configuration
//	GET <issuer>/.well-known/jwks.json
//
// # Keys
//
// A new Issuer signs with an ES256 key. [Issuer.Rotate] makes a new key the
// signer, [Issuer.AddKey] publishes one more, [Issuer.RemoveKey] withdraws
// one, for RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512,
// EdDSA and Ed25519; RSA keys are generated when asked for. [Issuer.ImportKey]
// publishes a key you made.
//
// # Tokens
//
// [Issuer.Token] mints an access token for a session.ActiveSession, with the
// claims namespaced as the identity provider sends them;
// [Issuer.SigningToken] one for a session.SigningSession; [Issuer.RawToken]
// one with exactly the claims you give. [WithClaim] and [WithHeader] set or
// remove any claim or header parameter, [WithKey] picks the signing key, and
// [Issuer.Sign] signs any bytes, JSON or not.
//
// # Faults and time
//
// [Issuer.SetFault] makes the JWK set or the discovery document answer
// with another status or body, a Cache-Control header, or hang ([Fault]).
// Tokens take their time from [time.Now]: inside a testing/synctest bubble
// that is the bubble's fake clock, and with [Issuer.Client] (no network) the
// code under test can fetch keys there too, so a test lets an hour pass with
// time.Sleep, in no time.
package jwkstest
