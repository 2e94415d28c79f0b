// Package session models the Verdocs active session and decodes it from a
// verified token's claims.
//
// [ActiveSession] is a field-for-field Go model of IActiveSession from
// @verdocs/js-sdk v1.0.12, with identical JSON names: a Go server can send
// the session it decoded to a JS front end unchanged. [SigningSession] models
// the signing-session tokens the same identity provider issues.
//
// # Decoding
//
// [Decoder.Decode] reads a verified payload (the claims JSON) in one strict
// pass and returns a [Token]: the session, the registered claims
// ([Registered]) the middleware validates, and [Token.Claims] for anything
// else. The rules:
//
//   - The payload must be one JSON object: no duplicate member names (after
//     unescaping), valid UTF-8, no trailing data ([ErrMalformed]).
//   - No two member names in one object, at any level, may be equal under
//     the case folding encoding/json matches struct fields with ("sub" and
//     "SUB" or "ſub"), and no member may fold to a claim or field name the
//     decoder reads without being spelt as it ("Exp"): [ErrMalformed] with
//     [ErrFoldedName]. So [Token.Claims] sees the claims the decoder saw.
//   - Custom claims may carry the namespace prefix ([Decoder].Namespace,
//     "https://verdocs.com/") or be plain; when both are present the
//     namespaced one wins. Registered claims (iss, sub, aud, exp, nbf, iat,
//     jti, cnf) are read only under their plain names.
//   - permissions and roles are arrays of strings or of {id, name} objects;
//     a string s decodes to {ID: s, Name: s}. Unknown values decode and
//     match like the known constants.
//   - A claim of the wrong JSON type is a *[ClaimError] naming it; a
//     NumericDate must be a JSON number (strings are rejected) within ±2^53.
//     [Registered] keeps it in whole seconds rounded down and, through
//     [Registered.ExpiresAtTime] and its siblings, exactly.
//   - cnf (RFC 7800), when present, must be a JSON object; [ClaimCnf] in
//     [Registered].Present reports it.
//   - A missing claim, or one whose value is null, is absent: its field
//     keeps its zero value (nullable strings stay nil). Empty arrays decode
//     to nil slices. The claims that mark the kind of token are the
//     exception (see below): null or "" is refused.
//   - The namespaced form of a claim wins whole: a namespaced object claim
//     (profile, access_key) replaces the plain one, never merges with it,
//     and the result does not depend on the order of the members.
//
// # One issuer's tokens
//
// The fields of a [Decoder] adapt it to one identity provider: where roles,
// permissions and plans come from when it does not send the Verdocs claims
// (Keycloak realm_access.roles, Auth0 permissions, Entra roles and scp,
// Cognito cognito:groups), whether custom claims count only under the
// namespace ([Decoder].NamespacedOnly), and which other claims to keep raw
// for rules ([Decoder].Capture, read with [Token.Claim]). Every decoder
// reads the OAuth scopes (scope, scp) into [Token].Scopes. The rules are
// on [Decoder].
//
// # Both generations of tokens
//
// Tokens in the field come from two generations of the Verdocs SDK. 1.0.x
// tokens (IActiveSession) carry roles, permissions, plans and a profile; a
// signing session is told apart by document_id (with role and access_key).
// 6.x tokens (IUserSession, ISigningSession) say what they are with
// session_type, "user" or "signing"; a 6.x user token adds jti (in
// [Registered].ID), sid and global_admin and carries no roles, permissions
// or plans; a 6.x signing token carries envelope_id, role_name and
// key_type. Both generations decode into the same types. The exact rules,
// failing closed:
//
//   - session_type (namespaced form winning, as for every custom claim)
//     must be "user" or "signing" when present; any other value, "", or
//     null is refused (*[ClaimError]; [ErrClaimValue], or [ErrClaimType]
//     for a non-string).
//   - document_id and envelope_id must be non-empty strings when present
//     (null: [ErrClaimType]; "": [ErrClaimValue]).
//   - session_type "signing" makes a signing session ([KindSigning]),
//     whatever else the token carries.
//   - session_type "user" makes an active session ([KindActive]), but not
//     with document_id or envelope_id: that contradiction is refused
//     ([ErrClaimValue]).
//   - Without session_type, a token with document_id (1.0.x) or envelope_id
//     (6.x) is a signing session; any other token is an active session.
//
// # Context
//
// [NewContext], [FromContext] and their signing and token forms store and
// read sessions under an unexported key, so handlers and guards depend on
// this package only.
//
// # Queries
//
// [ActiveSession.HasRole], [ActiveSession.HasPermission] and
// [ActiveSession.HasPlan], their any-of and all-of forms, and
// [ActiveSession.ExpiredAt] are nil-safe.
package session
