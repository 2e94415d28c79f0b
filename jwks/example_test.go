package jwks_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/sessiongate/sessiongate/jwks"
)

// exampleJWKS holds the public keys of RFC 7517 appendix A.1 (the EC key
// marked for signing here) and a symmetric key, which key hygiene drops.
const exampleJWKS = `{"keys":[
 {"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","use":"sig","kid":"1"},
 {"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"},
 {"kty":"oct","k":"GawgguFyGrWKav7AX4VKUg","kid":"hmac"}
]}`

// A static set: keys given as a JWK set document, for tests or offline use.
func ExampleStaticSource() {
	src := jwks.StaticSource([]byte(exampleJWKS))
	src.Issuer = "https://issuer.example"
	set, err := jwks.New(jwks.Config{Sources: []jwks.Source{src}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer set.Close()

	key, err := set.Key(context.Background(), "https://issuer.example", "2011-04-29", "RS256")
	fmt.Printf("%s %s %T %v\n", key.ID, key.Issuer, key.Public, err)

	_, err = set.Key(context.Background(), "https://issuer.example", "hmac", "HS256")
	fmt.Println(err)
	_, err = set.Key(context.Background(), "https://issuer.example", "1", "ES384")
	fmt.Println(err)
	fmt.Println(set.Stats().Keys, set.Stats().Sources[0].DroppedKeys)
	// Output:
	// 2011-04-29 https://issuer.example *rsa.PublicKey <nil>
	// jwks: key does not fit the token's alg
	// jwks: key does not fit the token's alg
	// 2 1
}

// A JWK set URL, fetched by Start and refreshed in the background.
func ExampleURLSource() {
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fmt.Fprint(w, exampleJWKS)
	}))
	defer idp.Close()

	set, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.URLSource(idp.URL + "/jwks.json")}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer set.Close()
	if err := set.Start(context.Background()); err != nil {
		fmt.Println("not loaded yet:", err)
	}
	fmt.Println("ready:", set.Ready() == nil)
	// A source without issuer serves tokens of any issuer.
	key, err := set.Key(context.Background(), "https://login.example.com/", "1", "ES256")
	fmt.Println(key.ID, err)
	// Output:
	// ready: true
	// 1 <nil>
}

// An OpenID Connect issuer: the JWK set URL comes from its discovery
// document, whose issuer must match exactly.
func ExampleOIDCSource() {
	mux := http.NewServeMux()
	idp := httptest.NewServer(mux)
	defer idp.Close()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, idp.URL, idp.URL+"/keys")
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, exampleJWKS) })

	set, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.OIDCSource(idp.URL)}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer set.Close()
	// Without Start, the first lookup fetches.
	key, err := set.Key(context.Background(), idp.URL, "1", "ES256")
	fmt.Println(key.ID, key.Issuer == idp.URL, err)
	// Output:
	// 1 true <nil>
}

// Mapping lookup errors to HTTP answers: 503 with Retry-After while no key
// set is available, 401 otherwise.
func ExampleUnavailableError() {
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer idp.Close()

	set, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.URLSource(idp.URL)}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer set.Close()
	err = set.Start(context.Background())
	fmt.Println("start failed:", errors.Is(err, jwks.ErrFetch))

	_, err = set.Key(context.Background(), "", "1", "ES256")
	var ue *jwks.UnavailableError
	switch {
	case errors.As(err, &ue):
		fmt.Printf("503, Retry-After: %.0f\n", ue.RetryAfter.Seconds())
	case err != nil:
		fmt.Println("401")
	}
	// Output:
	// start failed: true
	// 503, Retry-After: 1
}

// Keys are resolved per issuer: two issuers publishing the same kid do not
// make each other's tokens ambiguous. The issuer "" is the merged view of
// every source, where they do.
func ExampleSet_Key() {
	one := jwks.StaticSource([]byte(exampleJWKS))
	one.Issuer = "https://one.example/"
	two := jwks.StaticSource([]byte(exampleJWKS)) // the same kids
	two.Issuer = "https://two.example/"
	set, err := jwks.New(jwks.Config{Sources: []jwks.Source{one, two}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer set.Close()
	for _, iss := range []string{"https://one.example/", "https://two.example/", "https://other.example/", ""} {
		key, err := set.Key(context.Background(), iss, "1", "ES256")
		if err != nil {
			fmt.Printf("%q: %v\n", iss, err)
			continue
		}
		fmt.Printf("%q: the key of %s\n", iss, key.Issuer)
	}
	// Output:
	// "https://one.example/": the key of https://one.example/
	// "https://two.example/": the key of https://two.example/
	// "https://other.example/": jwks: key not found
	// "": jwks: ambiguous key
}

// Fits checks a token's alg against a key.
func ExampleKey_Fits() {
	set, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.StaticSource([]byte(exampleJWKS))}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer set.Close()
	key, _ := set.Key(context.Background(), "", "1", "ES256")
	for _, alg := range []string{"ES256", "ES384", "RS256", "HS256", "none"} {
		fmt.Println(alg, key.Fits(alg))
	}
	// Output:
	// ES256 true
	// ES384 false
	// RS256 false
	// HS256 false
	// none false
}

// A Config with every group set; zero fields take the documented defaults.
func ExampleConfig() {
	set, err := jwks.New(jwks.Config{
		Sources:    []jwks.Source{jwks.URLSource("https://login.example.com/.well-known/jwks.json")},
		MaxStale:   6 * time.Hour,
		Refresh:    jwks.RefreshConfig{Interval: 10 * time.Minute},
		UnknownKID: jwks.UnknownKIDConfig{Window: time.Minute},
		Fetch:      jwks.FetchConfig{Timeout: 5 * time.Second, MaxBodyBytes: 256 << 10},
	})
	fmt.Println(err)
	set.Close()

	_, err = jwks.New(jwks.Config{Sources: []jwks.Source{jwks.URLSource("http://login.example.com/jwks")}})
	fmt.Println(errors.Is(err, jwks.ErrInvalidConfig))
	// Output:
	// <nil>
	// true
}
