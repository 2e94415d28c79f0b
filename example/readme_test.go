package main

// TestReadmeGoBlocks checks every Go block of README.md against a copy that
// compiles. This file holds blocks 1 to 5, each between a "README block N"
// line and an "end" line, one tab deeper than in the README; they are
// compiled, not run (they name identity providers on the internet). Block 6,
// "Testing your handlers", is jwks/jwkstest/readme_test.go, verbatim but
// for the package clause, and runs as the kit's tests.

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sessiongate/sessiongate/jwks"
	"github.com/sessiongate/sessiongate/middleware"
	"github.com/sessiongate/sessiongate/session"
)

// readmeServer holds blocks 1 ("Use it in your server", with chi) and 2
// (with net/http, the same keys and auth).
func readmeServer(admin, documents, me, templates, billing, hello http.HandlerFunc) error {
	// README block 1
	keys, err := jwks.New(jwks.Config{Sources: []jwks.Source{jwks.OIDCSource("https://auth.example.com/")}})
	if err != nil {
		return err
	}
	defer keys.Close()
	auth, err := middleware.New(middleware.Config{Issuers: []middleware.Issuer{{
		Issuer: "https://auth.example.com/", Keys: keys, Audiences: []string{"https://api.example.com"},
	}}})
	if err != nil {
		return err
	}
	r := chi.NewRouter()
	r.With(auth.Handler).Get("/me", func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		json.NewEncoder(w).Encode(s) // the IActiveSession shape
	})
	r.With(auth.Handler, middleware.RequireRole(session.RoleOwner)).Get("/admin", admin)
	r.With(auth.Handler, middleware.RequireScope("documents:read")).Get("/documents", documents)
	// end

	// README block 2
	mux := http.NewServeMux()
	mux.Handle("GET /me", auth.Handler(http.HandlerFunc(me)))
	mux.Handle("GET /templates", auth.Handler(
		middleware.RequirePermission(session.PermTemplateMemberRead)(http.HandlerFunc(templates))))
	mux.Handle("GET /billing", auth.Handler(
		middleware.RequirePlan(session.PlanOrgStandard)(http.HandlerFunc(billing))))
	mux.Handle("GET /hello", auth.Optional(http.HandlerFunc(hello))) // anonymous allowed
	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
	// end
	return nil
}

// readmePolicies holds blocks 4 (one issuer) and 5 (a tenant issuer) of the
// middleware section; block 3 is its import block.
func readmePolicies(keys *jwks.Set) (*middleware.Authenticator, middleware.Issuer, error) {
	// README block 4
	auth, err := middleware.New(middleware.Config{Issuers: []middleware.Issuer{{
		Issuer: "https://auth.verdocs.com/", Keys: keys, Audiences: []string{"https://api.verdocs.com"},
	}}})
	// end

	// README block 5
	tenants := middleware.Issuer{
		Issuer:    "https://login.microsoftonline.com/{tenantid}/v2.0",
		Keys:      keys,
		Audiences: []string{"api://orders"},
		Tenants:   []string{"72f988bf-86f1-41af-91ab-2d7cd011db47"},
		Claims:    middleware.ClaimMap{Roles: "roles"},
	}
	// end
	return auth, tenants, err
}

// The blocks are compiled, never called.
var _, _ = readmeServer, readmePolicies

// importLine is one import of a Go import block.
var importLine = regexp.MustCompile(`^\s*(\w+ )?"([^"]+)"`)

func TestReadmeGoBlocks(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	// This file's imports and blocks.
	_, imports, _ := strings.Cut(string(self), "\nimport (\n")
	imports, _, _ = strings.Cut(imports, "\n)\n")
	copies := map[int]string{}
	marker := "// README " + "block " // split so that this line is no marker
	for _, part := range strings.Split(string(self), marker)[1:] {
		num, rest, _ := strings.Cut(part, "\n")
		body, _, ok := strings.Cut(rest, "\t// end\n")
		n, err := strconv.Atoi(num)
		if !ok || err != nil {
			t.Fatalf("README block %q in readme_test.go has no end line", num)
		}
		var lines []string
		for _, l := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
			lines = append(lines, strings.TrimPrefix(l, "\t"))
		}
		copies[n] = strings.Join(lines, "\n")
	}

	// README.md's Go blocks, in order.
	var blocks []string
	for _, part := range strings.Split(string(readme), "\n```go\n")[1:] {
		block, _, ok := strings.Cut(part, "\n```\n")
		if !ok {
			t.Fatal("README.md has a ```go block without its end")
		}
		blocks = append(blocks, block)
	}
	if len(blocks) != 6 {
		t.Fatalf("README.md has %d Go blocks; readme_test.go holds 5, and jwks/jwkstest/readme_test.go the sixth", len(blocks))
	}

	// Block 6 is the kit's test file, package clause aside.
	kit, err := os.ReadFile("../jwks/jwkstest/readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, want, _ := strings.Cut(string(kit), "\npackage jwkstest_test\n")
	pkg, got, _ := strings.Cut(blocks[5]+"\n", "\n")
	if !strings.HasPrefix(pkg, "package ") {
		t.Errorf("README block 6 starts with %q, not a package clause", pkg)
	}
	if got != want {
		t.Errorf("README block 6 and jwks/jwkstest/readme_test.go differ; change both together.\nREADME:\n%s\nreadme_test.go:\n%s", got, want)
	}
	blocks = blocks[:5]

	for i, block := range blocks {
		n := i + 1
		code := block
		if rest, ok := strings.CutPrefix(block, "import (\n"); ok {
			var imp string
			imp, code, _ = strings.Cut(rest, "\n)")
			code = strings.TrimPrefix(code, "\n\n")
			code = strings.TrimPrefix(code, "\n")
			for _, l := range strings.Split(imp, "\n") {
				if m := importLine.FindStringSubmatch(l); m != nil && !strings.Contains(imports, `"`+m[2]+`"`) {
					t.Errorf("README block %d imports %q, which readme_test.go does not", n, m[2])
				}
			}
		}
		if code == "" {
			continue // an import block alone
		}
		copyText, ok := copies[n]
		if !ok {
			t.Errorf("README block %d has no copy in readme_test.go:\n%s", n, code)
			continue
		}
		if !strings.Contains(copyText, code) {
			t.Errorf("README block %d and its copy in readme_test.go differ; change both together.\nREADME:\n%s\nreadme_test.go:\n%s", n, code, copyText)
		}
	}
}
