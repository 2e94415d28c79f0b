// Package session models the Verdocs active session and decodes it from a
// verified token's claims.
//
// [ActiveSession] is a field-for-field Go model of IActiveSession from
// @verdocs/js-sdk v1.0.12, with identical JSON names: a Go server can send
// the session it decoded to a JS front end unchanged. [SigningSession] models
// the document-signing tokens the same identity provider issues.
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
//   - Custom claims may carry the namespace prefix ([DefaultNamespace],
//     "https://verdocs.com/") or be plain; when both are present the
//     namespaced one wins. Registered claims (iss, sub, aud, exp, nbf, iat,
//     jti) are read only under their plain names.
//   - permissions and roles are arrays of strings or of {id, name} objects;
//     a string s decodes to {ID: s, Name: s}. Unknown values decode and
//     match like the known constants.
//   - A claim of the wrong JSON type is a *[ClaimError] naming it; a
//     NumericDate must be a JSON number (strings are rejected) within ±2^53.
//   - A missing claim, or one whose value is null, is absent: its field
//     keeps its zero value (nullable strings stay nil). Empty arrays decode
//     to nil slices.
//   - A payload with document_id holds a signing session ([KindSigning]);
//     any other an active session ([KindActive]).
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
