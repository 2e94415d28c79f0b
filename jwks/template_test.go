package jwks

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sessiongate/sessiongate/jwks/jwkstest"
)

// entraLike serves a multi-tenant provider laid out as Microsoft Entra ID:
// the common discovery document at /common/v2.0/.well-known/openid-configuration
// whose "issuer" is the template <base>/{tenantid}/v2.0, and the common keys
// at /common/discovery/v2.0/keys. Any other path is counted and answered
// 404.
type entraLike struct {
	idp      *idp
	kit      *jwkstest.Issuer
	template string

	mu        sync.Mutex
	docIssuer string // the document's "issuer"; the template by default
	others    []string
}

func newEntraLike(t *testing.T) *entraLike {
	t.Helper()
	e := &entraLike{idp: newIDP(t)}
	mux := http.NewServeMux()
	e.idp.set(mux.ServeHTTP)
	e.template = e.idp.origin + "/{tenantid}/v2.0"
	e.docIssuer = e.template
	e.kit = jwkstest.New(e.template)
	t.Cleanup(e.kit.Close)
	mux.HandleFunc("GET /common/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		doc := map[string]any{}
		e.mu.Lock()
		doc["issuer"] = e.docIssuer
		e.mu.Unlock()
		doc["jwks_uri"] = e.idp.origin + "/common/discovery/v2.0/keys"
		_ = json.NewEncoder(w).Encode(doc)
	})
	mux.HandleFunc("GET /common/discovery/v2.0/keys", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(e.kit.JWKS()) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.others = append(e.others, r.URL.Path)
		e.mu.Unlock()
		http.NotFound(w, r)
	})
	return e
}

// TestTemplateIssuer holds the OIDC source of a template issuer: discovery
// reads the "common" document, accepts its issuer only when it is the
// template literally, and binds the keys to the template, so that lookups
// naming the template find them and lookups naming a concrete tenant (or
// nothing bound) do not.
func TestTemplateIssuer(t *testing.T) {
	e := newEntraLike(t)
	s := newTestSet(t, Config{Sources: []Source{OIDCSource(e.template)}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	signer := struct{ KID, Alg string }{e.kit.KID(), "ES256"}
	k := mustIssuerKey(t, s, e.template, signer.KID, signer.Alg)
	if k.Issuer != e.template || !k.Fits("ES256") {
		t.Errorf("key bound to %q", k.Issuer)
	}
	if st := s.Stats(); st.Sources[0].Name != e.template || st.Sources[0].Issuer != e.template {
		t.Errorf("source stats %+v", st.Sources[0])
	}
	tenant := strings.Replace(e.template, "{tenantid}", "72f988bf-86f1-41af-91ab-2d7cd011db47", 1)
	for _, iss := range []string{tenant, strings.Replace(e.template, "{tenantid}", "common", 1)} {
		if _, err := s.Key(context.Background(), iss, signer.KID, signer.Alg); !errors.Is(err, ErrKeyNotFound) {
			t.Errorf("Key(%q) = %v, want ErrKeyNotFound (the keys are the template's)", iss, err)
		}
	}
	e.mu.Lock()
	others := e.others
	e.mu.Unlock()
	if len(others) != 0 {
		t.Errorf("requests outside the common endpoints: %q", others)
	}

	for _, tt := range []struct {
		name, docIssuer string
	}{
		{"document names the common issuer", strings.Replace(e.template, "{tenantid}", "common", 1)},
		{"document names a tenant", tenant},
		{"document names the template percent-encoded", e.idp.origin + "/%7Btenantid%7D/v2.0"},
		{"document names another template", e.idp.origin + "/{tenantid}/v2.0/"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.mu.Lock()
			e.docIssuer = tt.docIssuer
			e.mu.Unlock()
			t.Cleanup(func() {
				e.mu.Lock()
				e.docIssuer = e.template
				e.mu.Unlock()
			})
			s := newTestSet(t, Config{Sources: []Source{OIDCSource(e.template)}})
			err := s.Start(context.Background())
			if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "does not equal the configured issuer") {
				t.Fatalf("Start = %v, want the issuer refused", err)
			}
		})
	}
}

// TestTemplateIssuerValidated holds New's rules for {tenantid}: at most
// once, as a whole path segment, and no other brace; the error names the
// source.
func TestTemplateIssuerValidated(t *testing.T) {
	tests := []struct {
		issuer string
		ok     bool
	}{
		{"https://login.microsoftonline.com/{tenantid}/v2.0", true},
		{"https://sts.windows.net/{tenantid}/", true},
		{"https://idp.example/{tenantid}", true},
		{"https://idp.example/a/{tenantid}/b/", true},
		{"https://idp.example/{tenantid}/{tenantid}/v2.0", false},
		{"https://idp.example/{tenantid}{tenantid}/v2.0", false},
		{"https://idp.example/x{tenantid}/v2.0", false},
		{"https://idp.example/{tenantid}x/v2.0", false},
		{"https://idp.example/{tenantId}/v2.0", false},
		{"https://idp.example/{tenant}/v2.0", false},
		{"https://idp.example/{tenantid/v2.0", false},
		{"https://{tenantid}.idp.example/v2.0", false},
		{"https://idp.example/v2.0?t={tenantid}", false},
		{"https://idp.example/v2.0#{tenantid}", false},
		{"https://idp.example/%7Btenantid%7D/v2.0", true}, // no placeholder: a literal issuer
	}
	for _, tt := range tests {
		t.Run(tt.issuer, func(t *testing.T) {
			for _, src := range []Source{OIDCSource(tt.issuer), boundStatic(tt.issuer, ecJWK(t, "k"))} {
				s, err := New(Config{Sources: []Source{boundStatic("", ecJWK(t, "first")), src}})
				if tt.ok {
					if err != nil {
						t.Fatalf("New: %v", err)
					}
					s.Close()
					continue
				}
				if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "source 1") {
					t.Fatalf("New = %v, want ErrInvalidConfig naming source 1", err)
				}
			}
		})
	}
}
