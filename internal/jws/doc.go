// Package jws is the verification core of sessiongate: a strict parser for
// compact JSON Web Signatures (RFC 7515) and signature verification with
// crypto/* directly, with the algorithm and the key pinned by the caller.
//
// Every token outside the strict compact form (JSON serialization, padded
// or standard-alphabet base64, white space or CR/LF inside or around it,
// an unknown "crit") is rejected here before any cryptography, and the
// "alg" is never ignored.
//
// # Use
//
// A caller (the middleware) does, per token:
//
//  1. [Policy.ParseInto]: size first, then form (three
//     non-empty strict base64url segments) and header policy (strict JSON,
//     forbidden parameters, alg allow-list, kid, typ). Nothing here is
//     trusted yet.
//  2. Choose the key from its own configuration, e.g. by [Parsed.KID], and
//     check [Parsed.Alg] against the key's own "alg" if it has one.
//  3. [Verify] with that alg and key over [Parsed.SigningInput] and
//     [Parsed.Signature]. Verify refuses a key that does not fit the
//     algorithm (type, curve, RSA size).
//  4. Decode [Parsed.Payload] with a strict decoder (session.Decoder) and
//     validate the claims. This package does no claims validation, and
//     does not parse the payload as JSON.
//
// # Errors
//
// Every error is an *[Error] wrapping one sentinel: [ErrMalformed],
// [ErrTooLarge], [ErrAlgNotAllowed], [ErrForbiddenHeader], [ErrTyp],
// [ErrKeyMismatch], [ErrSignature] or [ErrInvalidPolicy], for [errors.Is];
// Error() is for logs and never contains token bytes or key material. The
// client-safe words are the middleware's (its table of reasons).
//
// # Never accepted
//
//   - "alg": "none" and HS256/HS384/HS512, in any casing: this package
//     verifies only public-key signatures, so a public key can never be
//     used as an HMAC secret;
//   - header parameters crit, b64, cty, jku, jwk, x5u, x5c, zip and enc:
//     no key, URL or processing rule ever comes from the token;
//   - JSON serialization (flattened or general) and JWE;
//   - ECDSA signatures in DER form, or with r or s of 0 or >= n.
//
// # Cost
//
// ParseInto makes one allocation for the decoded header, payload and
// signature together, plus one for a "kid" (and one for a "typ" other than
// "JWT" or the policy's own spelling).
// Base64url is decoded straight from the token string by a strict decoder
// of this package (held equal to encoding/base64 by a fuzz test). Verify
// hashes the signing input through a stack buffer without copying it to
// the heap. BenchmarkParseVerify, BenchmarkFloor (bare crypto/*) and
// BenchmarkInterleaved (both in one loop, reporting the ratio) measure it.
package jws
