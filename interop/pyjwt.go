package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// The PyJWT and jwcrypto side (see tokens.py).
const (
	pyIssuer   = "https://pyjwt.interop.test"
	pyAudience = "https://api.interop.test"
)

// opensslKey is the openssl genpkey arguments of each algorithm's key.
func opensslKey(alg string) []string {
	switch alg {
	case "ES256":
		return []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-pkeyopt", "ec_param_enc:named_curve"}
	case "ES384":
		return []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-pkeyopt", "ec_param_enc:named_curve"}
	case "ES512":
		return []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521", "-pkeyopt", "ec_param_enc:named_curve"}
	case "EdDSA", "Ed25519":
		return []string{"-algorithm", "ed25519"}
	default: // RS*, PS*
		return []string{"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"}
	}
}

// pyTokens is tokens.py's output.
type pyTokens struct {
	PyJWT    map[string]string `json:"pyjwt"`
	JWCrypto map[string]string `json:"jwcrypto"`
	Special  map[string]string `json:"special"`
}

var servingRE = regexp.MustCompile(`Serving HTTP on \S+ port (\d+)`)

// runPython runs the PyJWT and jwcrypto checks.
func (e *env) runPython() {
	const sec = "pyjwt"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	keys := filepath.Join(e.tmp, "python-keys")
	www := filepath.Join(e.tmp, "python-www")
	var err error
	for _, dir := range []string{keys, www} {
		if err == nil {
			err = os.MkdirAll(dir, 0o700)
		}
	}
	for _, alg := range algs {
		if err != nil {
			break
		}
		var out string
		args := append([]string{"openssl", "genpkey"}, opensslKey(alg)...)
		out, err = runCmd(ctx, keys, append(args, "-out", alg+".pem")...)
		if err != nil {
			printIndented("openssl", out)
		}
	}
	if !e.s.check(sec+": keys made with openssl (RSA 2048, P-256, P-384, P-521, Ed25519)", err) {
		return
	}

	out, err := runCmd(ctx, e.interopDir, e.python, "tokens.py", "--keys", keys, "--issuer", pyIssuer, "--audience", pyAudience, "--jwks", filepath.Join(www, "jwks.json"))
	var toks pyTokens
	if err == nil {
		err = json.Unmarshal([]byte(out), &toks)
	}
	if err != nil {
		printIndented("tokens.py output", out)
		err = fmt.Errorf("%w (the interpreter must see Debian's python3-jwt and python3-jwcrypto)", err)
	}
	if !e.s.check(sec+": PyJWT and jwcrypto mint the tokens; jwcrypto builds the JWK set", err) {
		return
	}

	srv, err := startProc("python http.server", www, e.python, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", www)
	var jwksURL string
	if err == nil {
		var m []string
		if m, err = srv.waitFor(servingRE, 15*time.Second); err == nil {
			jwksURL = "http://127.0.0.1:" + m[1] + "/jwks.json"
		} else {
			srv.printLog()
		}
		defer srv.stop()
	}
	if !e.s.check(sec+": JWK set served on loopback (python http.server)", err) {
		return
	}
	logf("python http.server (pid %d) serves %s", srv.pid(), jwksURL)

	ex, err := e.startExample("example (PyJWT)", "-jwks-url", jwksURL, "-issuer", pyIssuer, "-audience", pyAudience, "-typ", "at+jwt")
	if !e.s.check(sec+": example server starts against the JWK set", err) {
		return
	}
	defer ex.stop()

	for _, lib := range []struct {
		name string
		toks map[string]string
	}{{"PyJWT", toks.PyJWT}, {"jwcrypto", toks.JWCrypto}} {
		for _, alg := range algs {
			tok, ok := lib.toks[alg]
			if !ok {
				continue // jwcrypto 1.1 has no "Ed25519"
			}
			err := checkHeader(tok, alg)
			if err == nil {
				err = ex.expect("/me", tok, http.StatusOK)
			}
			e.s.check(fmt.Sprintf("%s: %s %s token accepted", sec, lib.name, alg), err)
		}
	}

	owner := toks.PyJWT["ES256"]
	e.s.check(sec+": /me is the session of the token's claims (roles and permissions as {id, name}, profile object)", ex.sessionIs(owner, func(p map[string]any) sessionWant {
		return sessionWant{
			sub: "user-py-owner", email: "owner@pyjwt.interop.test", profileID: "profile-py-owner", orgID: "org-py",
			roles: []string{"owner"}, roleNames: []string{"Owner"}, permissions: []string{"template:member:read", "org:view"}, plans: []string{"org:standard"},
			exp: num(p, "exp"), iat: num(p, "iat"),
		}
	}))
	got, _, err := me(ex.base, owner)
	if err == nil && (got.Profile.ID != "profile-py-owner" || got.Profile.FirstName != "Py" || got.Profile.Organization.ID != "org-py" || got.Profile.Organization.Name != "PyJWT Org") {
		err = fmt.Errorf("profile = %+v", got.Profile)
	}
	e.s.check(sec+": /me carries the profile and its organization", err)

	member := toks.Special["member"]
	e.s.check(sec+": guards: owner gets /admin, /templates, /billing (200)", errors.Join(
		ex.expect("/admin", owner, http.StatusOK),
		ex.expect("/templates", owner, http.StatusOK),
		ex.expect("/billing", owner, http.StatusOK)))
	e.s.check(sec+": guards: member gets /me (200), not /admin, /templates, /billing (403)", errors.Join(
		ex.expect("/me", member, http.StatusOK),
		ex.expect("/admin", member, http.StatusForbidden),
		ex.expect("/templates", member, http.StatusForbidden),
		ex.expect("/billing", member, http.StatusForbidden)))

	e.s.check(sec+": aud as an array holding the audience among others: 200", ex.expect("/me", toks.Special["aud-array"], http.StatusOK))
	for _, c := range []struct{ name, tok, desc string }{
		{"token for another audience", toks.Special["other-audience"], "audience not allowed"},
		{"expired token (exp two minutes ago)", toks.Special["expired"], "token expired"},
		{"token not yet valid (nbf in two minutes)", toks.Special["not-yet-valid"], "token not yet valid"},
		{"wrong issuer", toks.Special["wrong-issuer"], "issuer not allowed"},
		{`typ "JWT" (PyJWT's default header) where at+jwt is required`, toks.Special["typ-jwt"], "token type not allowed"},
		{"no typ where at+jwt is required", toks.Special["typ-absent"], "token type not allowed"},
	} {
		e.s.check(sec+": "+c.name+": 401 "+c.desc, ex.refuses("/me", c.tok, c.desc))
	}
	forged, err := tamper(member, func(p map[string]any) {
		p["https://verdocs.com/roles"] = []map[string]string{{"id": "owner", "name": "Owner"}}
	})
	if err == nil {
		err = errors.Join(ex.refuses("/admin", forged, "signature invalid"), ex.refuses("/me", forged, "signature invalid"))
	}
	e.s.check(sec+": tampered token (member's roles edited to owner, signature kept): 401", err)
}
