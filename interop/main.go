// Command interop is sessiongate's black-box interop suite: the example
// server (built once from ./example) verifies tokens minted by identity
// providers and JWT libraries that nobody here wrote.
//
//   - panva's oidc-provider (npm, pinned in package.json and
//     package-lock.json; see provider.mjs): RFC 9068 JWT access tokens per
//     resource server for RS256/384/512, PS256/384/512, ES256/384/512, EdDSA
//     and Ed25519, through client credentials, the authorization code flow
//     with PKCE (driven without a browser) and refresh; key rotation; the
//     provider stopped and restarted.
//   - PyJWT and jwcrypto (Debian's python3-jwt and python3-jwcrypto, run with
//     /usr/bin/python3; see tokens.py): tokens for every algorithm from keys
//     made with openssl, the JWK set built with jwcrypto and served on
//     loopback by python's http.server.
//
// Run it from the repository root, after installing the provider:
//
//	(cd interop && npm ci) && go run ./interop
//
// Every process it starts listens on a free loopback port and is stopped by
// its PID when the suite ends, whether it passed, failed, panicked or was
// interrupted. Each check prints PASS or FAIL; the last line is
// "interop: N passed, M failed", and the exit status is 1 when a check
// failed. A producer that fails to start is a failed check, with its log.
//
// Flags: -python (default /usr/bin/python3), -keep (keep the temporary
// directory with keys, tokens and logs).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

// algs are the algorithms every producer signs with (Ed25519 is the RFC 9864
// name of the algorithm RFC 8037 calls EdDSA with an Ed25519 key).
var algs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}

// env is what the checks share.
type env struct {
	s          *suite
	root       string // repository root
	interopDir string
	tmp        string
	exampleBin string
	python     string
}

func main() {
	python := flag.String("python", "/usr/bin/python3", "Python interpreter that sees Debian's python3-jwt and python3-jwcrypto")
	keep := flag.Bool("keep", false, "keep the temporary directory (keys, tokens, logs)")
	flag.Parse()
	os.Exit(run(*python, *keep))
}

func run(python string, keep bool) (code int) {
	start := time.Now()
	s := &suite{}
	var tmp string
	finish := func() int {
		stopAll()
		if tmp != "" && !keep {
			_ = os.RemoveAll(tmp)
		}
		if tmp != "" && keep {
			fmt.Printf("---- kept %s\n", tmp)
		}
		if len(s.failures) > 0 {
			fmt.Printf("failed checks:\n  %s\n", strings.Join(s.failures, "\n  "))
		}
		fmt.Printf("---- wall time %.1fs\n", time.Since(start).Seconds())
		fmt.Printf("interop: %d passed, %d failed\n", s.passed, s.failed)
		if s.failed > 0 || s.passed == 0 {
			return 1
		}
		return 0
	}
	// An interrupt stops every process too.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		s.fail("interrupted", errors.New("signal received"))
		os.Exit(finish())
	}()
	defer func() {
		if r := recover(); r != nil {
			s.fail("suite", fmt.Errorf("panic: %v\n%s", r, debug.Stack()))
		}
		code = finish()
	}()

	e := &env{s: s, python: python}
	var err error
	if e.root, err = findRoot(); err != nil {
		s.fail("setup: repository root", err)
		return
	}
	e.interopDir = filepath.Join(e.root, "interop")
	if _, err := os.Stat(filepath.Join(e.interopDir, "node_modules", "oidc-provider", "package.json")); err != nil {
		s.fail("setup: oidc-provider installed", fmt.Errorf("%w; run (cd interop && npm ci) first", err))
		return
	}
	if tmp, err = os.MkdirTemp("", "sessiongate-interop-"); err != nil {
		s.fail("setup: temporary directory", err)
		return
	}
	e.tmp = tmp
	logDir = filepath.Join(tmp, "logs")
	if err := os.Mkdir(logDir, 0o700); err != nil {
		s.fail("setup: log directory", err)
		return
	}
	e.exampleBin = filepath.Join(tmp, "example")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t0 := time.Now()
	if out, err := runCmd(ctx, e.root, "go", "build", "-o", e.exampleBin, "./example"); err != nil {
		printIndented("go build output", out)
		s.fail("setup: build the example server", err)
		return
	}
	logf("example server built in %.1fs", time.Since(t0).Seconds())

	pending := e.runOIDCProvider()
	e.runPython()
	if pending != nil {
		pending()
	}
	return
}

// findRoot walks up from the working directory to the module root of
// github.com/sessiongate/sessiongate.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if f, err := os.Open(filepath.Join(dir, "go.mod")); err == nil {
			sc := bufio.NewScanner(f)
			sc.Scan()
			first := strings.TrimSpace(sc.Text())
			f.Close()
			if first == "module github.com/sessiongate/sessiongate" {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the sessiongate module: run from the repository root")
		}
		dir = parent
	}
}

// exampleServer is a running example server.
type exampleServer struct {
	*proc
	base string
}

var (
	listeningRE = regexp.MustCompile(`msg="listening on ([^"]+)"`)
	keysRE      = regexp.MustCompile(`msg="key set (loaded|not loaded yet)`)
	// exampleEnv are the example's environment variables, kept out of its
	// environment so that only the flags count.
	exampleEnv = []string{"ADDR", "JWKS_URL", "ISSUER", "AUDIENCE", "CLAIMS_NAMESPACE", "TYP", "INSECURE_ALLOW_HTTP_JWKS"}
)

// startExample starts the example binary on a free loopback port with args
// and waits until its first key set fetch has ended (loaded or not).
func (e *env) startExample(name string, args ...string) (*exampleServer, error) {
	for _, v := range exampleEnv {
		os.Unsetenv(v)
	}
	p, err := startProc(name, e.root, append([]string{e.exampleBin, "-addr", "127.0.0.1:0"}, args...)...)
	if err != nil {
		return nil, err
	}
	m, err := p.waitFor(listeningRE, 15*time.Second)
	if err == nil {
		_, err = p.waitFor(keysRE, 20*time.Second)
	}
	if err != nil {
		p.printLog()
		p.stop()
		return nil, err
	}
	return &exampleServer{proc: p, base: "http://" + m[1]}, nil
}

// expect checks GET path with token (see expect); a failure carries the
// server's last refusal reason.
func (x *exampleServer) expect(path, token string, want int) error {
	err := expect(x.base, path, token, want)
	if err != nil {
		if r := x.lastRefusal(); r != "" {
			err = fmt.Errorf("%w [server log: %s]", err, r)
		}
	}
	return err
}

// refuses checks that GET path with token is refused for desc (see
// refuses).
func (x *exampleServer) refuses(path, token, desc string) error {
	err := refuses(x.base, path, token, desc)
	if err != nil {
		if r := x.lastRefusal(); r != "" {
			err = fmt.Errorf("%w [server log: %s]", err, r)
		}
	}
	return err
}

// lastRefusal returns the reason of the last refused request in the log.
// It is called after a check failed: the log, copied from a pipe, may lag
// the answer a little.
func (x *exampleServer) lastRefusal() string {
	time.Sleep(100 * time.Millisecond)
	lines := strings.Split(x.log.String(), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if _, after, ok := strings.Cut(lines[i], "reason="); ok && strings.Contains(lines[i], "request refused") {
			return after
		}
	}
	return ""
}

// sessionIs checks /me for token against the session want(payload) names.
func (x *exampleServer) sessionIs(token string, want func(payload map[string]any) sessionWant) error {
	_, payload, err := parts(token)
	if err != nil {
		return err
	}
	got, raw, err := me(x.base, token)
	if err != nil {
		if r := x.lastRefusal(); r != "" {
			err = fmt.Errorf("%w [server log: %s]", err, r)
		}
		return err
	}
	return want(payload).compare(got, raw)
}

// await polls GET path until it answers want or timeout passes.
func (x *exampleServer) await(path, token string, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := expect(x.base, path, token, want)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}
