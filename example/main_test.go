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

// TestBinary builds the real program, runs it in development mode on a free
// loopback port, uses the token it prints, and stops it with SIGINT or
// SIGTERM.
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
}

func runBinary(t *testing.T, bin string, sig os.Signal) {
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	cmd.Env = cleanEnv()
	stdout, stderr := newOutputBuffer(), newOutputBuffer()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	require.NoError(t, cmd.Start())
	exited := make(chan struct{}) // closed when the process has exited
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
		}
	})

	const startTimeout = 30 * time.Second // a loaded 2-core machine
	addr := waitFor(t, stderr, "listening line", startTimeout, listeningAddr)
	token := waitFor(t, stdout, "token", startTimeout, printedToken)
	base := "http://" + addr
	assert.Contains(t, stdout.String(), `curl -i -H "Authorization: Bearer $TOKEN" `+base+"/me\n")

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

	require.NoError(t, cmd.Process.Signal(sig))
	select {
	case <-exited:
		require.NoError(t, waitErr, "exit status after %v", sig)
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15 s after %v", sig)
	}
	logs := stderr.String()
	assert.Contains(t, logs, `msg="shutting down"`)
	assert.Contains(t, logs, `msg=stopped`)
	assert.NotContains(t, logs, "level=ERROR")
	assert.NotContains(t, logs, "level=WARN")
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

	tests := []struct {
		name      string
		args      []string
		wantUsage bool
		wantMsg   string
	}{
		{"bad flag", []string{"-nope"}, true, "flag provided but not defined"},
		{"production without issuer", []string{"-jwks-url", "https://idp.example.com/jwks", "-audience", "a"}, true, "-issuer (or ISSUER) is required"},
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
