package jws_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/sessiongate/sessiongate/internal/jws"
)

// sign makes a compact EdDSA token (the issuer's side, for the example).
func sign(priv ed25519.PrivateKey, header, payload string) string {
	enc := base64.RawURLEncoding
	si := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	return si + "." + enc.EncodeToString(ed25519.Sign(priv, []byte(si)))
}

// The middleware's sequence: parse with a policy, pick the key from its own
// configuration by kid, verify with the pinned algorithm, then decode the
// claims.
func Example() {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	keys := map[string]ed25519.PublicKey{"key-1": priv.Public().(ed25519.PublicKey)}
	tok := sign(priv, `{"alg":"EdDSA","kid":"key-1","typ":"at+jwt"}`, `{"sub":"user-1"}`)

	policy := &jws.Policy{Algorithms: []string{"EdDSA"}, Typ: "application/at+jwt"}
	if err := policy.Validate(); err != nil {
		panic(err)
	}
	var p jws.Parsed
	if err := policy.ParseInto(tok, &p); err != nil {
		fmt.Println("rejected:", err)
		return
	}
	key, ok := keys[p.KID]
	if !ok {
		fmt.Println("unknown key")
		return
	}
	if err := jws.Verify(p.Alg, key, p.SigningInput, p.Signature); err != nil {
		fmt.Println("rejected:", err)
		return
	}
	fmt.Println(p.Alg, p.KID, p.Typ, p.Payload)
	// Output: EdDSA key-1 at+jwt {"sub":"user-1"}
}

// Every rejection is an *Error wrapping one sentinel, for errors.Is; its
// text is for logs and never holds token bytes.
func ExampleError() {
	var policy jws.Policy // zero value: the defaults
	for _, tok := range []string{
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",                  // alg none, empty signature
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln",              // alg none
		"eyJhbGciOiJSUzI1NiIsImprdSI6Imh0dHBzOi8veCJ9.e30.c2ln", // jku
	} {
		var p jws.Parsed
		err := policy.ParseInto(tok, &p)
		fmt.Println(errors.Is(err, jws.ErrForbiddenHeader), err)
	}
	// Output:
	// false jws: malformed token: empty segment
	// false jws: algorithm not allowed: alg
	// true jws: header parameter not allowed: jku
}
