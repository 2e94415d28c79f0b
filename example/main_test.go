package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessiongate/sessiongate/jwks/jwkstest"
	"github.com/sessiongate/sessiongate/session"
)

// outputBuffer collects a process's output for a test to wait on.
type outputBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newOutputBuffer() *outputBuffer { return &outputBuffer{changed: make(chan struct{})} }

func (b *outputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.changed)
	b.changed = make(chan struct{})
	return b.buf.Write(p)
}

func (b *outputBuffer) snapshot() (string, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String(), b.changed
}

func (b *outputBuffer) String() string {
	s, _ := b.snapshot()
	return s
}

// waitFor waits until match finds what it wants in b's output and returns
// it, or fails the test at the deadline.
func waitFor[T any](t *testing.T, b *outputBuffer, what string, timeout time.Duration, match func(string) (T, bool)) T {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s, changed := b.snapshot()
		if v, ok := match(s); ok {
			return v
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no %s after %v; output so far:\n%s", what, timeout, s)
		}
	}
}

var listeningLine = regexp.MustCompile(`msg="listening on ([^"]+)" addr=(\S+)`)

func listeningAddr(s string) (string, bool) {
	m := listeningLine.FindStringSubmatch(s)
	if m == nil || m[1] != m[2] {
		return "", false
	}
	return m[2], true
}

func printedToken(s string) (string, bool) {
	for line := range strings.Lines(s) {
		if v, ok := strings.CutPrefix(line, "  TOKEN="); ok && strings.HasSuffix(v, "\n") {
			return strings.TrimSuffix(v, "\n"), true
		}
	}
	return "", false
}

// cleanEnv is the environment without the example's variables, so that a
// developer's shell does not change what the test runs.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !contains(envNames, name) {
			env = append(env, kv)
		}
	}
	return env
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// TestBinary builds the real program and runs it on a free loopback port:
// in development mode, using the token it prints, stopped with SIGINT or
// SIGTERM; with -config and two issuers (one a template); and with a bad
// -config file, which exits with status 2.
func TestBinary(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("sends SIGINT and SIGTERM")
	}
	goBin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command is needed to build the example")
	bin := filepath.Join(t.TempDir(), "example")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) { runBinary(t, bin, sig) })
	}
	t.Run("config", func(t *testing.T) { runBinaryConfig(t, bin) })
	t.Run("bad config", func(t *testing.T) {
		path := writeFile(t, `{"issuers":[{"issuer":"https://a.example/","jwks_url":"https://a.example/jwks","discovery":true,"audiences":["x"]}]}`)
		cmd := exec.Command(bin, "-config", path)
		cmd.Env = cleanEnv()
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "%s", out)
		assert.Equal(t, 2, exit.ExitCode(), "%s", out)
		assert.Contains(t, string(out), `issuers[0] "https://a.example/": "jwks_url" and "discovery" exclude each other`)
	})
}

// process is a running example binary.
type process struct {
	cmd            *exec.Cmd
	stdout, stderr *outputBuffer
	exited         chan struct{} // closed when the process has exited
	waitErr        error         // set before exited is closed
}

// startBinary starts bin with args and the example's variables removed from
// the environment; it is killed when the test ends, if still running.
func startBinary(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), stdout: newOutputBuffer(), stderr: newOutputBuffer(), exited: make(chan struct{})}
	p.cmd.Env = cleanEnv()
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	require.NoError(t, p.cmd.Start())
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
		}
	})
	return p
}

// startTimeout bounds the start of the binary on a loaded 2-core machine.
const startTimeout = 30 * time.Second

// stop sends sig and checks a clean exit: status 0, the shutdown logged,
// nothing logged at Warn or Error.
func (p *process) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
	select {
	case <-p.exited:
		require.NoError(t, p.waitErr, "exit status after %v", sig)
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15 s after %v", sig)
	}
	logs := p.stderr.String()
	assert.Contains(t, logs, `msg="shutting down"`)
	assert.Contains(t, logs, `msg=stopped`)
	assert.NotContains(t, logs, "level=ERROR")
	assert.NotContains(t, logs, "level=WARN")
}

func runBinary(t *testing.T, bin string, sig os.Signal) {
	p := startBinary(t, bin, "-addr", "127.0.0.1:0")
	addr := waitFor(t, p.stderr, "listening line", startTimeout, listeningAddr)
	token := waitFor(t, p.stdout, "token", startTimeout, printedToken)
	base := "http://" + addr
	assert.Contains(t, p.stdout.String(), `curl -i -H "Authorization: Bearer $TOKEN" `+base+"/me\n")

	status, body := get(t, base+"/me", token)
	require.Equal(t, http.StatusOK, status, body)
	var me session.ActiveSession
	require.NoError(t, json.Unmarshal([]byte(body), &me))
	assert.Equal(t, "ada@example.com", me.Email)
	assert.True(t, me.HasRole(session.RoleOwner))
	assert.True(t, me.HasPermission(session.PermTemplateMemberRead))
	assert.True(t, me.HasPlan(session.PlanOrgStandard))

	status, body = get(t, base+"/admin", token)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "{\"ok\":true}\n", body)

	status, body = get(t, base+"/admin", "")
	assert.Equal(t, http.StatusUnauthorized, status, body)

	p.stop(t, sig)
}

// runBinaryConfig runs the binary with a -config file of two test-kit
// issuers, one of them a template (see issuers_test.go), and checks both
// issuers' tokens against /me, each with its own audience.
func runBinaryConfig(t *testing.T, bin string) {
	s := newIssuers(t)
	p := startBinary(t, bin, "-addr", "127.0.0.1:0", "-config", s.issuersFile(t, nil))
	addr := waitFor(t, p.stderr, "listening line", startTimeout, listeningAddr)
	base := "http://" + addr
	// Both key sets are fetched at start; the logs name their issuers.
	for _, iss := range []string{s.a.URL(), templateB} {
		waitFor(t, p.stderr, "key set of "+iss, startTimeout, func(logs string) (bool, bool) {
			ok := strings.Contains(logs, `msg="key set loaded" issuer=`+iss+" keys=1")
			return ok, ok
		})
	}
	assert.Contains(t, p.stderr.String(), "mode=production")

	for _, tt := range []struct {
		name   string
		token  string
		status int
	}{
		{"A", s.tokenA(), http.StatusOK},
		{"B tenant-1", s.tokenB("tenant-1"), http.StatusOK},
		{"B tenant-2", s.tokenB("tenant-2"), http.StatusOK},
		{"A with B's audience", s.tokenA(jwkstest.WithClaim("aud", audienceB)), http.StatusUnauthorized},
		{"B with A's audience", s.tokenB("tenant-1", jwkstest.WithClaim("aud", audienceA)), http.StatusUnauthorized},
		{"B tenant not allowed", s.tokenB("tenant-3"), http.StatusUnauthorized},
	} {
		status, body := get(t, base+"/me", tt.token)
		if !assert.Equal(t, tt.status, status, "%s: %s", tt.name, body) || status != http.StatusOK {
			continue
		}
		var me session.ActiveSession
		require.NoError(t, json.Unmarshal([]byte(body), &me))
		assert.Equal(t, "ada@example.com", me.Email, tt.name)
		assert.True(t, me.HasRole(session.RoleOwner), "%s: roles from its issuer's namespace", tt.name)
	}
	status, body := get(t, base+"/documents", s.tokenB("tenant-1", jwkstest.WithClaim("scope", nil)))
	assert.Equal(t, http.StatusForbidden, status, body)
	assert.Empty(t, p.stdout.String(), "no development banner with -config")

	p.stop(t, syscall.SIGTERM)
}

// run, in process: serves until its context ends, then returns nil.
func TestRunShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout, stderr := newOutputBuffer(), newOutputBuffer()
	done := make(chan error, 1)
	env := envFunc(map[string]string{"ADDR": "127.0.0.1:0"})
	go func() { done <- run(ctx, nil, env, stdout, stderr) }()

	addr := waitFor(t, stderr, "listening line", 30*time.Second, listeningAddr)
	token := waitFor(t, stdout, "token", 30*time.Second, printedToken)
	status, body := get(t, "http://"+addr+"/templates", token)
	assert.Equal(t, http.StatusOK, status, body)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	_, err := net.DialTimeout("tcp", addr, time.Second)
	assert.Error(t, err, "the listener is closed")
}

func TestRunErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	badFile := writeFile(t, `{"issuers":[{"issuer":"https://a.example/","discovery":true,"audiences":["x"],"audience":"y"}]}`)

	tests := []struct {
		name      string
		args      []string
		wantUsage bool
		wantMsg   string
	}{
		{"bad flag", []string{"-nope"}, true, "flag provided but not defined"},
		{"production without issuer", []string{"-jwks-url", "https://idp.example.com/jwks", "-audience", "a"}, true, "-issuer (or ISSUER) is required"},
		{"config with an unknown field", []string{"-config", badFile}, true, `issuers[0] "https://a.example/": unknown field "audience"`},
		{"config and -issuer", []string{"-config", badFile, "-issuer", "https://a.example/"}, true, "-config and -issuer cannot be combined"},
		{"address in use", []string{"-addr", ln.Addr().String()}, false, "address already in use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tt.args, envFunc(nil), &stdout, &stderr)
			require.Error(t, err)
			assert.Equal(t, tt.wantUsage, errors.Is(err, errUsage))
			assert.Contains(t, err.Error(), tt.wantMsg)
			assert.Empty(t, stdout.String())
		})
	}

	var stdout bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-help"}, envFunc(nil), &stdout, io.Discard))
	assert.Contains(t, stdout.String(), "Usage: example")
	assert.Contains(t, stdout.String(), "-jwks-url")
}
