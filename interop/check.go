package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// suite counts the checks and prints each outcome as it is decided.
type suite struct {
	mu       sync.Mutex
	passed   int
	failed   int
	failures []string
}

// check records a check: passed when err is nil. It returns err == nil.
func (s *suite) check(name string, err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.passed++
		fmt.Printf("PASS %s\n", name)
		return true
	}
	s.failed++
	s.failures = append(s.failures, name)
	fmt.Printf("FAIL %s: %v\n", name, err)
	return false
}

// fail records a failed check.
func (s *suite) fail(name string, err error) { s.check(name, err) }

// client talks to the example servers and the identity providers. Keep-alive
// is off: servers are stopped and restarted on the same ports.
var client = &http.Client{
	Timeout:   15 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// answer is an HTTP response, read whole.
type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) String() string {
	b := strings.TrimSpace(a.body)
	if len(b) > 300 {
		b = b[:300] + "…"
	}
	s := fmt.Sprintf("%d %s", a.status, b)
	if w := a.header.Get("WWW-Authenticate"); w != "" {
		s += " (WWW-Authenticate: " + w + ")"
	}
	return s
}

// get sends GET url with the token as a bearer token ("" for none).
func get(url, token string) (answer, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return answer{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(req)
}

func do(req *http.Request) (answer, error) {
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(body)}, nil
}

// expect checks that GET base+path with token answers want; for 401 and
// 403 it also checks the RFC 6750 error code.
func expect(base, path, token string, want int) error {
	a, err := get(base+path, token)
	if err != nil {
		return err
	}
	if a.status != want {
		return fmt.Errorf("GET %s: want %d, got %v", path, want, a)
	}
	code := ""
	switch want {
	case http.StatusUnauthorized:
		code = `error="invalid_token"`
	case http.StatusForbidden:
		code = `error="insufficient_scope"`
	}
	if code != "" && !strings.Contains(a.header.Get("WWW-Authenticate"), code) {
		return fmt.Errorf("GET %s: %d without %s: %v", path, a.status, code, a)
	}
	return nil
}

// refuses checks that GET base+path with token answers 401 invalid_token
// with error_description desc: refused, and for the reason the check means.
func refuses(base, path, token, desc string) error {
	a, err := get(base+path, token)
	if err != nil {
		return err
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal([]byte(a.body), &body)
	if a.status != http.StatusUnauthorized || body.Error != "invalid_token" || body.Description != desc ||
		!strings.Contains(a.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		return fmt.Errorf("GET %s: want 401 invalid_token %q, got %v", path, desc, a)
	}
	return nil
}

// header is what the checks read of a token's JOSE header.
type header struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
}

// parts decodes a compact JWS's header and payload (no verification: the
// example server verifies).
func parts(token string) (header, map[string]any, error) {
	seg := strings.Split(token, ".")
	if len(seg) != 3 {
		return header{}, nil, fmt.Errorf("not a compact JWS (%d segments)", len(seg))
	}
	var h header
	if err := decodeSegment(seg[0], &h); err != nil {
		return header{}, nil, fmt.Errorf("header: %w", err)
	}
	var p map[string]any
	if err := decodeSegment(seg[1], &p); err != nil {
		return header{}, nil, fmt.Errorf("payload: %w", err)
	}
	return h, p, nil
}

func decodeSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// tamper returns token with its payload edited by edit and re-encoded, the
// signature kept: what an attacker who changes claims sends.
func tamper(token string, edit func(map[string]any)) (string, error) {
	seg := strings.Split(token, ".")
	if len(seg) != 3 {
		return "", errors.New("not a compact JWS")
	}
	var p map[string]any
	if err := decodeSegment(seg[1], &p); err != nil {
		return "", err
	}
	edit(p)
	b, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	return seg[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + seg[2], nil
}

// session is what the checks read of /me (the example answers the
// session as IActiveSession JSON).
type session struct {
	Sub            string   `json:"sub"`
	Email          string   `json:"email"`
	EmailVerified  bool     `json:"email_verified"`
	IssuedAt       int64    `json:"iat"`
	ExpiresAt      int64    `json:"exp"`
	Roles          []idNam  `json:"roles"`
	Permissions    []idNam  `json:"permissions"`
	ProfileID      string   `json:"profile_id"`
	OrganizationID string   `json:"organization_id"`
	Plans          []string `json:"plans"`
	Profile        struct {
		ID           string `json:"id"`
		FirstName    string `json:"first_name"`
		Organization struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"organization"`
	} `json:"profile"`
}

type idNam struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// me fetches /me with token and decodes the session.
func me(base, token string) (session, map[string]any, error) {
	a, err := get(base+"/me", token)
	if err != nil {
		return session{}, nil, err
	}
	if a.status != http.StatusOK {
		return session{}, nil, fmt.Errorf("GET /me: want 200, got %v", a)
	}
	var s session
	if err := json.Unmarshal([]byte(a.body), &s); err != nil {
		return session{}, nil, fmt.Errorf("GET /me: %w: %s", err, a.body)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(a.body), &raw); err != nil {
		return session{}, nil, err
	}
	return s, raw, nil
}

// sessionWant is the session a token should produce.
type sessionWant struct {
	sub, email, profileID, orgID string
	roles, permissions, plans    []string
	roleNames                    []string // display names, when not the ids
	exp, iat                     int64
}

// compare reports every difference between got and w.
func (w sessionWant) compare(got session, raw map[string]any) error {
	var diffs []string
	eq := func(field, got, want string) {
		if got != want {
			diffs = append(diffs, fmt.Sprintf("%s = %q, want %q", field, got, want))
		}
	}
	eq("sub", got.Sub, w.sub)
	eq("email", got.Email, w.email)
	eq("profile_id", got.ProfileID, w.profileID)
	eq("organization_id", got.OrganizationID, w.orgID)
	if !got.EmailVerified {
		diffs = append(diffs, "email_verified = false, want true")
	}
	ids := func(l []idNam) (out []string) {
		for _, v := range l {
			out = append(out, v.ID)
		}
		return out
	}
	names := func(l []idNam) (out []string) {
		for _, v := range l {
			out = append(out, v.Name)
		}
		return out
	}
	list := func(field string, got, want []string) {
		if strings.Join(got, ",") != strings.Join(want, ",") {
			diffs = append(diffs, fmt.Sprintf("%s = %q, want %q", field, got, want))
		}
	}
	list("roles[].id", ids(got.Roles), w.roles)
	rn := w.roleNames
	if rn == nil {
		rn = w.roles
	}
	list("roles[].name", names(got.Roles), rn)
	list("permissions[].id", ids(got.Permissions), w.permissions)
	list("plans", got.Plans, w.plans)
	if got.ExpiresAt != w.exp {
		diffs = append(diffs, fmt.Sprintf("exp = %d, want %d", got.ExpiresAt, w.exp))
	}
	if got.IssuedAt != w.iat {
		diffs = append(diffs, fmt.Sprintf("iat = %d, want %d", got.IssuedAt, w.iat))
	}
	// The IActiveSession shape: these members are always present.
	for _, k := range []string{"sub", "email", "email_verified", "iat", "exp", "permissions", "roles", "profile", "profile_id", "organization_id"} {
		if _, ok := raw[k]; !ok {
			diffs = append(diffs, "member "+k+" missing")
		}
	}
	if len(diffs) > 0 {
		return errors.New(strings.Join(diffs, "; "))
	}
	return nil
}

// num reads a JSON number claim as an int64.
func num(p map[string]any, name string) int64 {
	f, _ := p[name].(float64)
	return int64(f)
}

// logf prints a progress line (not a check).
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stdout, "---- "+format+"\n", args...)
}
