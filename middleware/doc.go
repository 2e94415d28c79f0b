// Package middleware verifies bearer JWTs against the policies of the
// issuers you trust, and guards routes by role, permission, plan and OAuth
// scope.
//
// A [Verifier] is the transport-free core: one call, [Verifier.Verify],
// takes a compact token and returns it decoded ([session.Token]: the
// session, the registered claims, the scopes) or one *[Error]. An
// [Authenticator] is the HTTP adapter over it: it extracts the token, keeps
// a verified-token cache, answers refusals and stores the request's own copy
// of the token in the request context ([session.FromContext],
// [session.TokenFromContext]).
//
// # Issuer policies
//
// [Config.Issuers] lists the trusted issuers, each with everything that can
// differ between identity providers ([Issuer]): its key source, audiences,
// algorithms, typ, leeway, maximum lifetime, claim map, tenants and rules.
// The token's unverified iss only chooses the policy; the key can only come
// from that policy's key source, looked up for that issuer; a token whose iss
// no policy names is refused before any key lookup. An issuer written with
// the segment {tenantid} (Entra: "https://login.microsoftonline.com/{tenantid}/v2.0")
// accepts the tenants it lists, all verified with the policy's one key
// source, and a tid claim must agree with the iss.
//
// # What is checked, in order
//
// This list is the canonical copy of the order; the code follows it step by
// step (verifier.go), and the README links here.
//
//  1. Extraction (Authenticator): Authorization: Bearer (scheme
//     case-insensitive), plus any configured cookie, query parameter or
//     custom extractor; a token in two places, several Authorization
//     headers, a broken header or white space inside the token → 400.
//  2. Size ≤ 16 KiB, strict compact form (three
//     non-empty unpadded base64url segments with canonical trailing bits; no
//     JSON serialization, no JWE) and a strict JSON header: no duplicate
//     names, valid UTF-8; a supported alg; kid a bounded, non-empty string;
//     crit, b64, cty, jku, jwk, x5u, x5c, zip, enc refused.
//  3. The policy, chosen by the payload's first top-level "iss" string (a
//     bounded scan that parses nothing else); for a template issuer, the
//     tenant in iss must be allowed. No policy: refused, no key lookup.
//  4. The policy's algorithm allow-list and typ.
//  5. Key: looked up in the policy's key source for the policy's issuer, by
//     kid and alg; it must fit the alg and must not belong to another issuer.
//     No key, URL or algorithm is ever taken from the token.
//  6. Signature, with crypto/* and the pinned algorithm. Nothing before this
//     step parses the payload beyond the iss scan, so what a forged token
//     costs stays below the cost of the signature check.
//  7. Payload, decoded once, strictly, into the session as the policy's
//     claim map says (see [session.Decoder]); its iss must be the one that
//     chose the policy, and a template issuer's tid the iss's tenant.
//  8. Claim values: exp required and not past, nbf and iat honoured, all
//     with the leeway and to the nanosecond; exp − iat (exp − now without
//     iat) at most MaxLifetime + Leeway; aud containing one of the policy's
//     Audiences; a signing-session token only with AllowSigningSessions; a
//     token bound to a key (cnf) refused as a bearer token.
//  9. The policy's rules ([Issuer.Require]), in order.
//
// A token that passes every step is cached (bounded by entries and bytes);
// every cache hit checks the time again (step 8's time rules) and looks the
// key up again: when it has left the key set, the token is judged afresh.
//
// # Answers
//
// Every refusal is answered in one place ([WriteError], or
// [Hooks.ErrorHandler]) following RFC 6750:
//
//   - no token: 401 with "WWW-Authenticate: Bearer" (and realm when set),
//     no error code;
//   - a refused token: 401 error="invalid_token" with a short, safe
//     error_description ("token expired", "signature invalid" …);
//   - a malformed request: 400 error="invalid_request";
//   - no usable key set (the identity provider has been unreachable too
//     long): 503 with Retry-After, not 401;
//   - a guard refusing the session: 403 error="insufficient_scope"; the
//     scope guards name the missing OAuth scopes in scope="…".
//
// The JSON body is {"error": …, "error_description": …}. Every reason is a
// [Reason], itself an error: errors.Is(err, ErrExpired), errors.Is(err,
// ErrInvalidToken) …, and [Reason.String] is a label for metrics.
//
// # Guards
//
// [RequireRole], [RequirePermission], [RequirePlan], [RequireScope], their
// Any forms and [Require] are func(http.Handler) http.Handler. They read only
// the context, so they also work behind an authenticator of your own that
// stores a session with [session.NewContext]; behind an Authenticator they
// answer through its error handler, log and hooks.
//
// # A token's string is not its identity
//
// ECDSA signatures are malleable: when (r, s) verifies, so does (r, n − s),
// and RFC 7518 does not forbid either, so one token signed with ES256/384/512
// has two valid compact forms. Anything keyed on the token string (a deny
// list, a rate limit, a replay cache) should be keyed on the jti claim
// ([session.Registered].ID) or on iss and sub instead.
package middleware
