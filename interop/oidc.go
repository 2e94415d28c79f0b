package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The oidc-provider side (see provider.mjs for its configuration).
const (
	opAudience      = "https://api.interop.test"
	opResourceBase  = "https://api.interop.test/"
	opOtherResource = "https://other.interop.test/"
	opShortResource = "https://api.interop.test/short-lived" // tokens valid 1 s
	leeway          = 30 * time.Second                       // the example's (middleware.DefaultLeeway)
	opRedirectURI   = "http://127.0.0.1/cb"
	opStartTimeout  = 30 * time.Second
)

// provider is a running oidc-provider.
type provider struct {
	proc     *proc
	port     int
	keysFile string
	issuer   string
	authURL  string
	tokenURL string
	jwksURL  string
}

var readyRE = regexp.MustCompile(`\{"ready":true,"issuer":"([^"]+)"\}`)

// startProvider starts provider.mjs with keysFile on port (0: a free one)
// and reads its discovery document. On failure the provider's log is
// printed and it is stopped.
func (e *env) startProvider(port int, keysFile string) (*provider, error) {
	p, err := startProc("oidc-provider", e.interopDir, "node", "provider.mjs",
		"--port", strconv.Itoa(port), "--keys", keysFile, "--audience", opAudience)
	if err != nil {
		return nil, err
	}
	op := &provider{proc: p, keysFile: keysFile}
	fail := func(err error) (*provider, error) {
		p.printLog()
		p.stop()
		return nil, err
	}
	m, err := p.waitFor(readyRE, opStartTimeout)
	if err != nil {
		return fail(err)
	}
	op.issuer = m[1]
	u, err := url.Parse(op.issuer)
	if err != nil {
		return fail(err)
	}
	if op.port, err = strconv.Atoi(u.Port()); err != nil {
		return fail(fmt.Errorf("issuer %q: %w", op.issuer, err))
	}
	a, err := get(op.issuer+"/.well-known/openid-configuration", "")
	if err != nil {
		return fail(err)
	}
	var disc struct {
		Issuer  string `json:"issuer"`
		Auth    string `json:"authorization_endpoint"`
		Token   string `json:"token_endpoint"`
		JWKSURI string `json:"jwks_uri"`
	}
	if a.status != http.StatusOK {
		return fail(fmt.Errorf("discovery: %v", a))
	}
	if err := json.Unmarshal([]byte(a.body), &disc); err != nil {
		return fail(fmt.Errorf("discovery: %w", err))
	}
	if disc.Issuer != op.issuer || disc.Auth == "" || disc.Token == "" || disc.JWKSURI == "" {
		return fail(fmt.Errorf("discovery: unexpected document %s", a.body))
	}
	op.authURL, op.tokenURL, op.jwksURL = disc.Auth, disc.Token, disc.JWKSURI
	return op, nil
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
}

func (op *provider) token(form url.Values, basicUser string) (tokenResponse, error) {
	req, err := http.NewRequest(http.MethodPost, op.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return tokenResponse{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(basicUser, basicUser+"-secret")
	}
	a, err := do(req)
	if err != nil {
		return tokenResponse{}, err
	}
	if a.status != http.StatusOK {
		return tokenResponse{}, fmt.Errorf("token endpoint (%s): %v", form.Get("grant_type"), a)
	}
	var tr tokenResponse
	if err := json.Unmarshal([]byte(a.body), &tr); err != nil {
		return tokenResponse{}, fmt.Errorf("token endpoint: %w", err)
	}
	if tr.AccessToken == "" || !strings.EqualFold(tr.TokenType, "Bearer") {
		return tokenResponse{}, fmt.Errorf("token endpoint: no bearer access token in %s", a.body)
	}
	return tr, nil
}

// clientCredentials gets an access token for resource with the client
// credentials grant.
func (op *provider) clientCredentials(clientID, resource string) (string, error) {
	tr, err := op.token(url.Values{
		"grant_type": {"client_credentials"},
		"resource":   {resource},
		"scope":      {"api:read"},
	}, clientID)
	return tr.AccessToken, err
}

// authorizationCode runs the authorization code flow with PKCE (S256) for
// the public client "web" as login, without a browser: it follows the
// redirects by hand with a cookie jar and posts devInteractions' login and
// consent forms.
func (op *provider) authorizationCode(login, resource string) (tokenResponse, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return tokenResponse{}, err
	}
	browser := &http.Client{
		Jar:       jar,
		Timeout:   15 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), opRedirectURI) || len(via) > 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	verifier := randomString(32)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	state := randomString(12)
	q := url.Values{
		"client_id":             {"web"},
		"response_type":         {"code"},
		"redirect_uri":          {opRedirectURI},
		"scope":                 {"openid api:read"},
		"resource":              {resource},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
		"state":                 {state},
	}
	resp, err := browser.Get(op.authURL + "?" + q.Encode())
	if err != nil {
		return tokenResponse{}, err
	}
	var code string
	for step := 0; code == "" && step < 6; step++ {
		body, err := readBody(resp)
		if err != nil {
			return tokenResponse{}, err
		}
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && strings.HasPrefix(loc, opRedirectURI) {
			u, err := url.Parse(loc)
			if err != nil {
				return tokenResponse{}, err
			}
			cb := u.Query()
			if e := cb.Get("error"); e != "" {
				return tokenResponse{}, fmt.Errorf("authorization error %s: %s", e, cb.Get("error_description"))
			}
			if cb.Get("state") != state {
				return tokenResponse{}, fmt.Errorf("callback state %q, want %q", cb.Get("state"), state)
			}
			if cb.Get("iss") != op.issuer {
				return tokenResponse{}, fmt.Errorf("callback iss %q, want %q (RFC 9207)", cb.Get("iss"), op.issuer)
			}
			code = cb.Get("code")
			break
		}
		if resp.StatusCode != http.StatusOK {
			return tokenResponse{}, fmt.Errorf("%s %s: %d %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, body)
		}
		action, prompt, err := interactionForm(body)
		if err != nil {
			return tokenResponse{}, fmt.Errorf("%s: %w", resp.Request.URL, err)
		}
		target, err := resp.Request.URL.Parse(action)
		if err != nil {
			return tokenResponse{}, err
		}
		form := url.Values{"prompt": {prompt}}
		if prompt == "login" {
			form.Set("login", login)
			form.Set("password", "any")
		}
		resp, err = browser.PostForm(target.String(), form)
		if err != nil {
			return tokenResponse{}, err
		}
	}
	if code == "" {
		return tokenResponse{}, errors.New("no authorization code after the interactions")
	}
	return op.token(url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {opRedirectURI},
		"client_id":     {"web"},
		"code_verifier": {verifier},
		"resource":      {resource},
	}, "")
}

// refresh exchanges a refresh token for a new access token for resource.
func (op *provider) refresh(refreshToken, resource string) (tokenResponse, error) {
	return op.token(url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
		"client_id":     {"web"},
		"resource":      {resource},
	}, "")
}

var (
	formActionRE = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
	promptRE     = regexp.MustCompile(`name="prompt" value="([^"]+)"`)
)

// interactionForm reads a devInteractions page: the form's action and its
// prompt (login or consent).
func interactionForm(page string) (action, prompt string, err error) {
	a := formActionRE.FindStringSubmatch(page)
	p := promptRE.FindStringSubmatch(page)
	if a == nil || p == nil {
		return "", "", fmt.Errorf("no interaction form in the page: %.300s", page)
	}
	return html.UnescapeString(a[1]), p[1], nil
}

func readBody(resp *http.Response) (string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(b), err
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// opKeys is the path of the provider's private key set of a generation.
func (e *env) opKeys(gen int) string {
	return filepath.Join(e.tmp, fmt.Sprintf("oidc-provider-keys-%d.json", gen))
}

// runOIDCProvider runs the oidc-provider checks. The expiry of a
// short-lived token is checked last, when it has expired beyond the leeway:
// the returned function (nil if none) waits for that, checks it and stops the
// server it needs; run it after the other sections.
func (e *env) runOIDCProvider() (pending func()) {
	const sec = "oidc-provider"
	op, err := e.startProvider(0, e.opKeys(1))
	if !e.s.check(sec+": provider starts and serves its discovery document", err) {
		return nil
	}
	defer func() {
		if op != nil {
			op.proc.stop()
		}
	}()
	logf("oidc-provider at %s (pid %d), JWKS %s", op.issuer, op.proc.pid(), op.jwksURL)

	ex, err := e.startExample("example (oidc-provider)", "-jwks-url", op.jwksURL, "-issuer", op.issuer, "-audience", opAudience, "-typ", "at+jwt")
	if !e.s.check(sec+": example server starts against the provider", err) {
		return nil
	}
	defer func() {
		if pending == nil {
			ex.stop()
		}
	}()

	// Every algorithm, client credentials, owner.
	gen1 := map[string]string{}
	for _, alg := range algs {
		name := sec + ": client_credentials " + alg + " token accepted (typ at+jwt)"
		tok, err := op.clientCredentials("svc-owner", opResourceBase+alg)
		if err == nil {
			err = checkHeader(tok, alg)
		}
		if err == nil {
			err = ex.expect("/me", tok, http.StatusOK)
		}
		if e.s.check(name, err) {
			gen1[alg] = tok // accepted now, refused after the rotation
		}
	}

	// The session shape, from a token of the provider.
	owner := gen1["ES256"]
	if owner == "" {
		owner, _ = op.clientCredentials("svc-owner", opResourceBase+"ES256")
	}
	e.s.check(sec+": /me is the session of the token's claims (extraTokenClaims)", ex.sessionIs(owner, func(p map[string]any) sessionWant {
		return sessionWant{
			sub: "svc-owner", email: "svc-owner@interop.test", profileID: "profile-svc-owner", orgID: "org-interop",
			roles: []string{"owner"}, permissions: []string{"template:member:read", "org:view"}, plans: []string{"org:standard"},
			exp: num(p, "exp"), iat: num(p, "iat"),
		}
	}))

	// Guards.
	member, err := op.clientCredentials("svc-member", opResourceBase+"RS256")
	e.s.check(sec+": guards: owner gets /admin, /templates, /billing (200)", errors.Join(
		ex.expect("/admin", owner, http.StatusOK),
		ex.expect("/templates", owner, http.StatusOK),
		ex.expect("/billing", owner, http.StatusOK)))
	if err == nil {
		err = errors.Join(
			ex.expect("/me", member, http.StatusOK),
			ex.expect("/admin", member, http.StatusForbidden),
			ex.expect("/templates", member, http.StatusForbidden),
			ex.expect("/billing", member, http.StatusForbidden))
	}
	e.s.check(sec+": guards: member gets /me (200), not /admin, /templates, /billing (403)", err)

	// Authorization code with PKCE, then refresh.
	alice, err := op.authorizationCode("alice", opResourceBase+"PS256")
	if err == nil {
		err = checkHeader(alice.AccessToken, "PS256")
	}
	if err == nil {
		err = ex.sessionIs(alice.AccessToken, func(p map[string]any) sessionWant {
			return sessionWant{
				sub: "alice", email: "alice@interop.test", profileID: "profile-alice", orgID: "org-interop",
				roles: []string{"owner"}, permissions: []string{"template:member:read", "org:view"}, plans: []string{"org:standard"},
				exp: num(p, "exp"), iat: num(p, "iat"),
			}
		})
	}
	if err == nil {
		err = ex.expect("/admin", alice.AccessToken, http.StatusOK)
	}
	e.s.check(sec+": authorization code + PKCE (alice, PS256): /me is alice's session, /admin 200", err)

	// The ID token of the same flow is no access token: no typ at+jwt, and
	// its audience is the client.
	if alice.IDToken == "" {
		err = errors.New("no id_token in the token response")
	} else {
		err = ex.refuses("/me", alice.IDToken, "token type not allowed")
	}
	e.s.check(sec+": the flow's ID token presented as an access token: 401 token type not allowed", err)

	bob, err := op.authorizationCode("bob", opResourceBase+"EdDSA")
	if err == nil {
		err = checkHeader(bob.AccessToken, "EdDSA")
	}
	if err == nil {
		err = errors.Join(ex.expect("/me", bob.AccessToken, http.StatusOK), ex.expect("/admin", bob.AccessToken, http.StatusForbidden))
	}
	e.s.check(sec+": authorization code + PKCE (bob, EdDSA): /me 200, /admin 403", err)

	if alice.RefreshToken == "" {
		e.s.fail(sec+": refresh token grant: new access token accepted", errors.New("no refresh token was issued"))
	} else {
		// RFC 8707: a refresh may only name a resource the grant holds.
		r, err := op.refresh(alice.RefreshToken, opResourceBase+"PS256")
		if err == nil {
			_, p1, _ := parts(alice.AccessToken)
			_, p2, _ := parts(r.AccessToken)
			if r.AccessToken == alice.AccessToken || p1["jti"] == p2["jti"] {
				err = errors.New("the refreshed access token is the old one")
			}
		}
		if err == nil {
			err = checkHeader(r.AccessToken, "PS256")
		}
		if err == nil {
			err = errors.Join(ex.expect("/me", r.AccessToken, http.StatusOK), ex.expect("/admin", r.AccessToken, http.StatusOK))
		}
		e.s.check(sec+": refresh token grant: a new access token (new jti) accepted, /admin 200", err)
	}

	// Refusals.
	other, err := op.clientCredentials("svc-owner", opOtherResource)
	if err == nil {
		err = ex.refuses("/me", other, "audience not allowed")
	}
	e.s.check(sec+": token for another audience (resource "+opOtherResource+"): 401", err)

	forged, err := tamper(member, func(p map[string]any) { p["https://verdocs.com/roles"] = []string{"owner"} })
	if err == nil {
		err = errors.Join(ex.refuses("/admin", forged, "signature invalid"), ex.refuses("/me", forged, "signature invalid"))
	}
	e.s.check(sec+": tampered token (member's roles edited to owner, signature kept): 401", err)

	// A server that expects the issuer with a trailing slash: the same
	// token, another issuer.
	wrongIss, err := e.startExample("example (issuer with a trailing slash)", "-jwks-url", op.jwksURL, "-issuer", op.issuer+"/", "-audience", opAudience, "-typ", "at+jwt")
	if err == nil {
		err = wrongIss.refuses("/me", owner, "issuer not allowed")
		wrongIss.stop()
	}
	e.s.check(sec+": wrong issuer (server expects "+op.issuer+"/): 401", err)

	// Key rotation: the provider restarts on its port with new keys.
	op.proc.stop()
	op, err = e.startProvider(op.port, e.opKeys(2))
	if !e.s.check(sec+": rotation: provider restarts on its port with new keys", err) {
		return nil
	}
	rotated, err := op.clientCredentials("svc-owner", opResourceBase+"ES256")
	if err == nil {
		err = checkHeader(rotated, "ES256")
	}
	if err == nil {
		h1, _, _ := parts(owner)
		h2, _, _ := parts(rotated)
		if h1.Kid == h2.Kid {
			err = fmt.Errorf("the new ES256 key has the old kid %q", h1.Kid)
		}
	}
	if err == nil {
		err = ex.expect("/me", rotated, http.StatusOK)
	}
	e.s.check(sec+": rotation: token signed with the new key accepted (unknown kid refetches the set)", err)
	var olds []error
	for _, alg := range algs {
		if tok := gen1[alg]; tok != "" {
			if err := ex.refuses("/me", tok, "unknown signing key"); err != nil {
				olds = append(olds, fmt.Errorf("%s: %w", alg, err))
			}
		}
	}
	if len(gen1) == 0 {
		olds = append(olds, errors.New("no token was accepted before the rotation"))
	}
	e.s.check(sec+": rotation: tokens of the removed keys refused after the refresh (401 unknown signing key, every algorithm accepted before)", errors.Join(olds...))

	// A token that expires in a second: accepted (and cached) now, checked
	// again at the end.
	short, err := op.clientCredentials("svc-owner", opShortResource)
	var shortExp time.Time
	if err == nil {
		_, p, _ := parts(short)
		shortExp = time.Unix(num(p, "exp"), 0)
		if d := num(p, "exp") - num(p, "iat"); d != 1 {
			err = fmt.Errorf("exp - iat = %d s, want 1", d)
		}
	}
	if err == nil {
		err = ex.expect("/me", short, http.StatusOK)
	}
	if !e.s.check(sec+": a token valid for one second (exp − iat = 1) is accepted at once", err) {
		short = ""
	}

	// Provider stopped.
	unseen := map[string]string{}
	for _, alg := range []string{"RS256", "ES512", "EdDSA"} {
		tok, err := op.clientCredentials("svc-owner", opResourceBase+alg)
		if err != nil {
			e.s.fail(sec+": outage: token "+alg+" before the stop", err)
			return nil
		}
		unseen[alg] = tok
	}
	op.proc.stop()
	var errs []error
	for alg, tok := range unseen {
		if err := ex.expect("/me", tok, http.StatusOK); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", alg, err))
		}
	}
	e.s.check(sec+": outage: provider stopped, the running server still accepts tokens of the keys it holds (never seen before)", errors.Join(errs...))

	fresh, err := e.startExample("example (started during the outage)", "-jwks-url", op.jwksURL, "-issuer", op.issuer, "-audience", opAudience, "-typ", "at+jwt")
	if err == nil {
		defer fresh.stop()
		var a answer
		a, err = get(fresh.base+"/me", rotated)
		if err == nil && (a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "") {
			err = fmt.Errorf("want 503 with Retry-After, got %v", a)
		}
		if err == nil {
			err = fresh.expect("/healthz", "", http.StatusOK)
		}
	}
	e.s.check(sec+": outage: a server started while the provider is down answers 503 with Retry-After", err)
	if fresh == nil {
		return nil
	}

	op, err = e.startProvider(op.port, e.opKeys(2))
	if !e.s.check(sec+": outage: provider comes back on its port", err) {
		return nil
	}
	start := time.Now()
	err = fresh.await("/me", rotated, http.StatusOK, 20*time.Second)
	logf("the fresh server answered 200 %.1fs after the provider came back", time.Since(start).Seconds())
	e.s.check(sec+": outage: the fresh server accepts tokens once the provider is back", err)

	if short == "" {
		return nil
	}
	return func() {
		defer ex.stop()
		// Whole seconds: expired once now > exp + leeway.
		wait := time.Until(shortExp.Add(leeway + 1500*time.Millisecond))
		if wait > 0 {
			logf("waiting %.0fs for the one-second token to expire beyond the %v leeway", wait.Seconds(), leeway)
			time.Sleep(wait)
		}
		e.s.check(sec+": the one-second token, accepted before, is refused once expired beyond the leeway: 401 token expired", ex.refuses("/me", short, "token expired"))
	}
}

// checkHeader checks what a producer put in the JOSE header: alg as asked,
// typ at+jwt, a kid.
func checkHeader(token, alg string) error {
	h, _, err := parts(token)
	if err != nil {
		return err
	}
	if h.Alg != alg || !strings.EqualFold(h.Typ, "at+jwt") || h.Kid == "" {
		return fmt.Errorf("header alg=%q typ=%q kid=%q, want alg %q, typ at+jwt and a kid", h.Alg, h.Typ, h.Kid, alg)
	}
	return nil
}
