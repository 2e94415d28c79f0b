// Command example is a small chi server that shows sessiongate at work: it
// verifies bearer tokens against the policies of the issuers it trusts,
// each with its own JWK set, and guards routes by role, permission, plan and
// OAuth scope.
//
// Usage:
//
//	go run ./example                     # development mode
//	go run ./example -jwks-url https://idp.example.com/.well-known/jwks.json \
//		-issuer https://idp.example.com/ -audience https://api.example.com
//	go run ./example -config issuers.json # several issuers
//
// Flags (each also read from the environment variable in brackets; a flag
// beats its variable):
//
//	-addr [ADDR]                          listen address, default 127.0.0.1:8080
//	-config [CONFIG]                      JSON file of issuers (below); not with the flags after it
//	-jwks-url [JWKS_URL]                  identity provider's JWK set URL (https, or http for loopback)
//	-issuer [ISSUER]                      accepted "iss", required with -jwks-url
//	-audience [AUDIENCE]                  accepted "aud", required with -jwks-url
//	-claims-namespace [CLAIMS_NAMESPACE]  custom claim prefix, default https://verdocs.com/
//	-typ [TYP]                            required "typ" header (e.g. at+jwt), default not checked
//	-insecure-allow-http-jwks [INSECURE_ALLOW_HTTP_JWKS]
//	                                      accept http:// for a JWKS host that is not loopback
//	-jwks-refresh [JWKS_REFRESH]          refetch the key set this often (1s to 12h); default: as
//	                                      the provider's Cache-Control says
//
// The flags from -jwks-url on describe one issuer: a shorthand for a
// -config file, which lists any number of issuers:
//
//	{"issuers": [
//	  {"issuer": "https://auth.example.com/", "discovery": true, "audiences": ["https://api.example.com"]},
//	  {"issuer": "https://login.example.net/{tenantid}/v2.0",
//	   "jwks_url": "https://login.example.net/common/discovery/v2.0/keys",
//	   "audiences": ["api://documents"], "tenants": ["7f2c…"], "required_scopes": ["documents:read"]}
//	]}
//
// An entry's fields (each issuer has its own; the names are exact, and an
// unknown name, a name given twice, trailing data or a file over 1 MiB is a
// usage error):
//
//	issuer                    accepted "iss", compared exactly; may hold the segment {tenantid} (required)
//	jwks_url                  its JWK set URL (https, or http for loopback)
//	discovery                 true: find the JWK set by OpenID Connect discovery of issuer
//	                          (exactly one of jwks_url and discovery)
//	audiences                 accepted "aud" values (required)
//	algorithms                accepted algorithms; default: the middleware's list
//	typ                       required "typ" header; default: not checked
//	tenants                   the tenants a {tenantid} issuer accepts (required for one)
//	namespaced_only           custom claims only under claims_namespace
//	required_scopes           OAuth scopes every token must carry (else 401 at authentication)
//	claims_namespace          custom claim prefix; default https://verdocs.com/
//	roles_claim, permissions_claim, plans_claim
//	                          where roles, permissions and plans come from; default: Verdocs claims
//	allow_signing_sessions    accept document-signing tokens
//	insecure_allow_http_jwks  INSECURE: http:// for this issuer's non-loopback JWKS or discovery host
//	jwks_refresh              refetch this issuer's key set this often ("10m", 1s to 12h); default:
//	                          as the provider's Cache-Control says
//
// Each issuer gets a key set of its own, whose keys verify only its tokens.
//
// Without -jwks-url or -config it runs in development mode: a built-in
// issuer from package jwkstest, with an ES256 key generated at start, serves
// its discovery document and JWK set on the server's own listener
// (/.well-known/openid-configuration, /.well-known/jwks.json); the server
// fetches its keys from there like from any identity provider, and prints a
// token (valid for one hour) for an owner with the org:standard plan and the
// documents:read scope, with a curl line per route. Development mode listens
// on loopback (or on all interfaces, its issuer then being on the loopback
// address).
//
// Routes:
//
//	GET /healthz    no guard                          ok
//	GET /me         authenticated                     the session as JSON (IActiveSession)
//	GET /admin      RequireRole("owner")              {"ok":true}
//	GET /templates  RequirePermission("template:member:read")  {"ok":true}
//	GET /billing    RequirePlan("org:standard")       {"ok":true}
//	GET /documents  RequireScope("documents:read")    {"ok":true}
//	GET /hello      optional authentication           {"authenticated":false} or {"authenticated":true,"email":"…"}
//
// Refusals are the middleware's RFC 6750 answers: 401 (no token, or an
// invalid one, also on /hello), 403 insufficient_scope (with
// scope="documents:read" on /documents), 400 for malformed requests, 503
// with Retry-After while the token's issuer has no key set loaded. Logs
// (slog, text) go to standard error, including "listening on ADDR" once the
// listener is bound and the reason of every refused request; the
// development banner goes to standard output. SIGINT or SIGTERM shuts the
// server down gracefully (10 s at most) and exits 0; a second signal kills
// it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Server limits.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	// writeTimeout leaves room for a request that waits for a key set
	// refetch (bounded by the jwks fetch timeout, 10 s).
	writeTimeout    = 30 * time.Second
	idleTimeout     = 60 * time.Second
	maxHeaderBytes  = 32 << 10 // a 16 KiB token (the middleware's limit) and the rest
	shutdownTimeout = 10 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills the process
	}()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "example: %v\nRun with -h for the flags.\n", err)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "example: %v\n", err)
		os.Exit(1)
	}
}

// run runs the server until ctx is done, then shuts it down and returns nil.
// It returns an error when the configuration is invalid (wrapping errUsage),
// the address cannot be bound, or the server fails.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout, getenv)
		return nil
	}
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	baseURL := "http://" + addr
	mode := "production"
	if cfg.dev() {
		baseURL = devBaseURL(ln.Addr())
		mode = "development"
	}
	a, err := newApp(cfg, baseURL, logger)
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer a.Close()

	srv := newHTTPServer(a.handler, logger)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("listening on "+addr, "addr", addr, "mode", mode)

	// The key set is fetched once the server is serving: in development
	// mode it comes from this very listener.
	a.start(ctx, logger)
	if cfg.dev() && ctx.Err() == nil {
		s := devSession(time.Now())
		printDevBanner(stdout, baseURL, devToken(a.issuer, s, cfg.Audience, cfg.ClaimsNamespace, cfg.Typ), s)
	}

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	a.Close()
	logger.Info("stopped")
	return nil
}

// newHTTPServer returns the server for h with the example's timeouts and
// header limit; its own errors go to logger at Warn.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// printUsage writes the flags and their defaults (environment included).
func printUsage(w io.Writer, getenv func(string) string) {
	var cfg config
	fs, err := newFlagSet(&cfg, getenv)
	if err != nil {
		// An invalid environment value: show the built-in defaults.
		fs, _ = newFlagSet(&cfg, func(string) string { return "" })
	}
	fmt.Fprintf(w, "Usage: example [flags]\n\nWithout -jwks-url or -config the server runs in development mode with a built-in issuer.\n\nFlags (environment variable in brackets):\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
}
