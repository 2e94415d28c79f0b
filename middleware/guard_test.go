package middleware

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessiongate/sessiongate/session"
)

// withSession is a stand-in for an authenticator a user wrote: guards only
// read the context.
func withSession(s *session.ActiveSession) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if s != nil {
				r = r.WithContext(session.NewContext(r.Context(), s))
			}
			next.ServeHTTP(w, r)
		})
	}
}

func withSigning(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(session.NewSigningContext(r.Context(), &session.SigningSession{DocumentID: "d"})))
	})
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })

func TestGuards(t *testing.T) {
	owner := &session.ActiveSession{
		Roles:         []session.Role{{ID: session.RoleOwner, Name: "Owner"}},
		Permissions:   []session.Permission{{ID: session.PermTemplateMemberRead}, {ID: session.PermOrgView}},
		Plans:         []session.Plan{session.PlanOrgStandard},
		EmailVerified: true,
	}
	member := &session.ActiveSession{Roles: []session.Role{{ID: session.RoleMember}}}

	tests := []struct {
		name    string
		guard   func(http.Handler) http.Handler
		s       *session.ActiveSession
		signing bool
		status  int
		desc    string // the 403's error_description
	}{
		{"role ok", RequireRole(session.RoleOwner), owner, false, 200, ""},
		{"role missing", RequireRole(session.RoleOwner), member, false, 403, "role required"},
		{"all roles, one missing", RequireRole(session.RoleOwner, session.RoleMember), owner, false, 403, "role required"},
		{"any role", RequireAnyRole(session.RoleOwner, session.RoleMember), member, false, 200, ""},
		{"any role, none", RequireAnyRole(session.RoleOwner, session.RoleBasicUser), member, false, 403, "role required"},
		{"permission ok", RequirePermission(session.PermTemplateMemberRead), owner, false, 200, ""},
		{"all permissions, one missing", RequirePermission(session.PermTemplateMemberRead, session.PermOrgDelete), owner, false, 403, "permission required"},
		{"any permission", RequireAnyPermission(session.PermOrgDelete, session.PermOrgView), owner, false, 200, ""},
		{"any permission, none", RequireAnyPermission(session.PermOrgDelete), member, false, 403, "permission required"},
		{"plan ok", RequirePlan(session.PlanOrgStandard), owner, false, 200, ""},
		{"plan missing", RequirePlan(session.PlanOrgStandard), member, false, 403, "plan required"},
		{"any plan", RequireAnyPlan(session.PlanEnvEssential, session.PlanOrgStandard), owner, false, 200, ""},
		{"any plan, none", RequireAnyPlan(session.PlanEnvEssential), owner, false, 403, "plan required"},
		{"require func ok", Require(func(s *session.ActiveSession) bool { return s.EmailVerified }), owner, false, 200, ""},
		{"require func refuses", Require(func(s *session.ActiveSession) bool { return s.EmailVerified }), member, false, 403, "access denied"},
		{"no session", RequireRole(session.RoleOwner), nil, false, 401, ""},
		{"no session, require func", Require(func(*session.ActiveSession) bool { return true }), nil, false, 401, ""},
		{"signing session", RequireRole(session.RoleOwner), nil, true, 403, "role required"},
		{"scope without a token in the context", RequireScope("documents:read"), owner, false, 403, "insufficient scope"},
	}
	for _, tt := range tests {
		for _, router := range []string{"chi", "servemux"} {
			t.Run(tt.name+"/"+router, func(t *testing.T) {
				auth := withSession(tt.s)
				if tt.signing {
					auth = withSigning
				}
				var h http.Handler
				switch router {
				case "chi":
					r := chi.NewRouter()
					r.Use(auth)
					r.With(tt.guard).Get("/x", okHandler)
					h = r
				default:
					mux := http.NewServeMux()
					mux.Handle("GET /x", auth(tt.guard(okHandler)))
					h = mux
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
				assert.Equal(t, tt.status, rec.Code)
				switch tt.status {
				case 200:
					assert.Equal(t, "ok", rec.Body.String())
				case 401:
					assert.Equal(t, "Bearer", rec.Header().Get("WWW-Authenticate"))
				case 403:
					want := `Bearer error="insufficient_scope", error_description="` + tt.desc + `"`
					if strings.HasPrefix(tt.name, "scope") {
						want += `, scope="documents:read"`
					}
					assert.Equal(t, want, rec.Header().Get("WWW-Authenticate"), "no scope attribute but for OAuth scopes")
					var body map[string]string
					require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
					assert.Equal(t, "insufficient_scope", body["error"])
				}
			})
		}
	}
}

func TestGuardCopiesArguments(t *testing.T) {
	ids := []string{session.RoleOwner}
	g := RequireRole(ids...)
	ids[0] = session.RoleMember // must not change the guard
	h := withSession(&session.ActiveSession{Roles: []session.Role{{ID: session.RoleOwner}}})(g(okHandler))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, 200, rec.Code)
}
