// Package jwks provides remote JSON Web Key sets for verifying JWTs: it
// fetches keys from identity providers, keeps them in memory for lookups by
// issuer, kid and alg, follows key rotation, cannot be used to flood a
// provider, and keeps serving through provider outages.
//
// A [Set] is made of one or more sources: a JWK set URL ([URLSource]), an
// OpenID Connect issuer whose discovery document names the JWK set
// ([OIDCSource]), or a static JWK set document ([StaticSource]). [New]
// validates the [Config] and does no network I/O; [Set.Start] fetches every
// source and starts the background refresh (or the first [Set.Key] call
// does); [Set.Close] stops it and waits.
//
//	set, err := jwks.New(jwks.Config{
//		Sources: []jwks.Source{jwks.OIDCSource("https://login.example.com")},
//		Logger:  logger,
//	})
//	...
//	defer set.Close()
//	if err := set.Start(ctx); err != nil {
//		logger.Warn("key set not loaded yet; retrying in the background", "error", err)
//	}
//	key, err := set.Key(ctx, issuer, kid, alg) // verify the token's signature with key.Public
//
// # Lookups
//
// [Set.Key] answers from memory, without I/O or allocation (at most two map
// lookups: the issuer's keys, then the kid), and returns the same *[Key] for
// the same key for as long as it stays in the set. It considers only the
// keys that may verify the issuer's tokens (see "Several sources"). A kid
// that is not among them triggers one refetch of each source that could
// serve the issuer, shared by all concurrent lookups and rate limited per
// source ([UnknownKIDConfig]); a lookup never waits for the rate limiter,
// and recently seen unknown kids are remembered in a bounded negative cache.
// A token without kid is accepted only when exactly one of the issuer's keys
// fits its alg. Errors are [ErrKeyNotFound], [ErrAlgMismatch],
// [ErrAmbiguousKey], and [ErrUnavailable] (inside an [*UnavailableError]
// that suggests a Retry-After) when no usable set is loaded: an HTTP server
// should answer that one with 503, not 401.
//
// Nothing a token says chooses a URL: only configured sources are fetched.
// The token's alg must be a supported signature algorithm and fit the key
// ([Key.Fits]); HS* and "none" never are. Which algorithms an issuer's tokens
// may use is the verifier's allow-list, not the key set's: the lookup gets
// the alg the verifier accepted. Ed25519 has two names, "EdDSA" (RFC 8037)
// and the fully-specified "Ed25519" (RFC 9864): a JWK whose alg is either
// fits tokens naming either. Ed448 is not supported.
//
// # Key hygiene
//
// Every fetched set keeps only public signature keys that fit a supported
// algorithm. A key is dropped, logged once with the reason, and never served
// when it is symmetric (kty "oct"); carries private members (d, p, q, dp,
// dq, qi, oth, k); has a "use" other than "sig" or "key_ops" without
// "verify"; is RSA with a modulus under 2048 or over 8192 bits, an even
// modulus, a modulus with a prime factor below 2^16 or that is itself prime
// (anyone could compute a private exponent from the JWK), the ROCA
// fingerprint (CVE-2017-15361), or an exponent that is not a small odd value
// of at least 3; is EC with a curve other than P-256, P-384 or P-521, a
// point not on its curve, or an alg that does not fit its curve (ES256 needs
// P-256, ES384 P-384, ES512 P-521); is OKP with a curve other than Ed25519;
// is Ed25519 with a point that is not canonically encoded (y >= p, or x = 0
// with the sign bit set) or is of small order (one of the eight points whose
// order divides 8, with which crypto/ed25519 accepts signatures made without
// a private key); has an unknown kty or crv; has an alg that is not a
// supported signature algorithm (RS*, PS*, ES*, EdDSA, Ed25519); or shares
// its kid with another usable key of the same set (all keys with that kid
// are dropped as ambiguous). A bad key
// never fails the rest of the set, but a set left with no key (or with more
// than 256 JWKs) counts as a failed fetch.
//
// # Transport
//
// The default HTTP client has a 10 s overall timeout and 5 s for connect,
// TLS handshake and response headers; every fetch is also bounded by
// [FetchConfig.Timeout] and reads at most [FetchConfig.MaxBodyBytes] (1 MiB).
// Redirects are followed only within the same origin (scheme, host, port),
// also with a caller's client. A non-2xx status, a body that is not a JSON
// object with a "keys" array, or an oversized body fails the fetch, and the
// previous set stays in force. URLs must be https, or http for localhost and
// loopback addresses, unless [Config.InsecureAllowHTTPForAnyHost] is set. A
// jwks_uri found through an https discovery document must be https too,
// loopback or not (no downgrade; the same switch allows it).
//
// # Refresh and outages
//
// Each remote source is refreshed in the background at the interval its
// response asks for with Cache-Control max-age (or Expires), clamped to
// [1 min, 24 h], 15 min when absent, with ±10% jitter ([RefreshConfig]),
// and never longer than half of [Config.MaxStale] (so with the defaults a
// huge max-age refreshes every 12 h: a failed refresh leaves time to retry
// before the set goes stale). A
// refresh replaces the source's set: a key the provider removed stops
// verifying at the next refresh. When fetches fail, the last good set keeps
// serving for up to [Config.MaxStale] (24 h), while the source is retried
// with exponential backoff and jitter (1 s doubling to 5 min). Beyond that,
// or before the first successful fetch, the source is unavailable.
// [Set.Ready] reports whether every source is usable, for readiness probes;
// [Set.Stats] returns counters and per-source state.
//
// # Several sources and issuers
//
// Each source has its own fetch state. A source bound to an issuer
// ([Source.Issuer]; [OIDCSource] binds it to the issuer it discovers) serves
// only that issuer's tokens, and its keys carry the issuer ([Key.Issuer]); a
// source without issuer serves every issuer. A lookup for an issuer sees
// the keys of the sources bound to exactly that issuer and of the sources
// without issuer, never another issuer's: one issuer publishing a kid (or a
// second key of an alg, for tokens without kid) cannot make another
// issuer's lookups ambiguous. A kid that several of an issuer's sources
// publish is resolved by alg, or is [ErrAmbiguousKey]; each snapshot of the
// set logs such kids at Warn with the issuer and the sources. While one of
// the issuer's sources is unavailable, an unknown kid is answered with
// [ErrUnavailable] (the key might be that source's).
//
// The issuer "" looks at every source's keys, whatever their issuer: a
// transitional, merged view for callers that cannot name the issuer before
// the lookup, which must then compare Key.Issuer with the token's iss.
//
// An [OIDCSource] whose issuer has the path segment {tenantid} is the
// template issuer of a multi-tenant provider such as Microsoft Entra ID
// ("https://login.microsoftonline.com/{tenantid}/v2.0"): it discovers the
// provider's common document (with {tenantid} replaced by "common"),
// accepts it only when its "issuer" is the template itself, and binds the
// keys to the template, which lookups then name. [New] refuses a
// placeholder that repeats or is not a whole path segment.
//
// # Dependencies
//
// Keys are parsed with github.com/lestrrat-go/jwx/v2 (jwk.ParseKey); the
// fetch and refresh loop is this package's own (the README says why). No jwx
// type appears in this package's API.
package jwks
