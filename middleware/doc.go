// Package middleware authenticates HTTP requests with bearer JWTs and guards
// routes by role, permission and plan.
//
// An [Authenticator] wraps any net/http handler or chi router. For each
// request it extracts the token, checks its form and header before any
// cryptography, looks the key up in a key set (usually a [jwks.Set]),
// verifies the signature with the algorithm and key pinned by the
// configuration, decodes the claims once into a [session.ActiveSession],
// validates them, and stores the result in the request context
// ([session.FromContext]). Every refusal is answered in one place
// ([WriteError], or [Hooks.ErrorHandler]) following RFC 6750:
//
//   - no token: 401 with "WWW-Authenticate: Bearer realm=…" and no error code;
//   - a rejected token: 401 error="invalid_token" with a short, safe
//     error_description ("token expired", "signature invalid" …);
//   - a malformed request (several Authorization headers, a token in two
//     places): 400 error="invalid_request";
//   - no usable key set (the identity provider has been unreachable too
//     long): 503 with Retry-After, not 401;
//   - a guard refusing the session: 403 error="insufficient_scope" with
//     scope naming what was required.
//
// The JSON body is {"error": …, "error_description": …}. Every reason is an
// error value: errors.Is(err, ErrExpired), errors.Is(err, ErrInvalidToken) ….
//
// # What is checked, in order
//
//  1. Extraction: Authorization: Bearer (scheme case-insensitive), plus any
//     configured cookie, query parameter or custom extractor; a token in two
//     places, several Authorization headers or a broken header → 400.
//  2. Size ≤ Token.MaxSize (16 KiB), then strict compact form: three
//     non-empty unpadded base64url segments with canonical trailing bits; no
//     white space, no JSON serialization, no JWE.
//  3. Header: strict JSON (no duplicate names, valid UTF-8, no trailing
//     data); alg in the allow-list (asymmetric only); kid a bounded,
//     non-empty string; crit, b64, cty, jku, jwk, x5u, x5c, zip, enc refused;
//     typ if configured.
//  4. Key: looked up by kid and alg in the key set; the key's own alg, type
//     and curve must fit the header's alg. No key, URL or algorithm is ever
//     taken from the token.
//  5. Signature, with crypto/* and the pinned algorithm. Nothing of the
//     payload is parsed before this step, so the work a forged token costs
//     (decoding its three segments) stays below the cost of the signature
//     check, whatever the payload holds.
//  6. Payload, decoded once, strictly, straight into the session: one JSON
//     object (no duplicate names, valid UTF-8, no trailing data) and claims
//     of the right JSON type.
//  7. Claim values: exp required, a number, not past; nbf and iat honoured
//     (iat in the future refused); exp − iat (exp − now without iat) at most
//     Token.MaxLifetime + Token.Leeway; iss exactly one of Issuers (and the
//     key's issuer when its source names one); aud containing one of
//     Audiences; a signing-session token only with AllowSigningSessions.
//
// # A token's string is not its identity
//
// ECDSA signatures are malleable: when (r, s) verifies, so does (r, n − s),
// and RFC 7518 does not forbid either, so one token signed with ES256/384/512
// has two valid compact forms. Anything keyed on the token string (a deny
// list, a rate limit, a replay cache) should be keyed on the jti claim
// ([session.Registered].ID) or on iss and sub instead.
//
// # Verified-token cache
//
// A token that passed is remembered (bounded, on by default), so a repeated
// token costs a map lookup. On every hit exp and nbf are checked again and
// the key is looked up again: when it has left the key set the entry is
// dropped and the token judged afresh.
//
// # Guards
//
// [RequireRole], [RequirePermission], [RequirePlan], their Any forms and
// [Require] are func(http.Handler) http.Handler. They read only the context,
// so they work behind any authenticator that stores a session with
// [session.NewContext].
package middleware
