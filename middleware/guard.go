package middleware

import (
	"net/http"
	"strings"

	"github.com/sessiongate/sessiongate/session"
)

// Guards state a route's policy. Each is a func(http.Handler) http.Handler
// for chi's r.With(...) or for wrapping a handler given to http.ServeMux.
// They read only the request context ([session.FromContext]), so they work
// behind an [Authenticator] or behind an authenticator of your own that
// stores a session with [session.NewContext]:
//
//   - no session in the context: 401, as for a request without a token;
//   - a session that lacks what the guard requires (or a signing session,
//     where the guard needs an active one): 403 insufficient_scope, with
//     scope naming what was required.
//
// The package-level guards answer with [WriteError] and no realm; the
// methods of the same names on [Authenticator] use its error handler and
// realm.
//
// A guard with nothing to check is a programming error caught at setup: the
// constructors panic on an empty list (RequireRole()) and on an empty id,
// permission or plan (RequireRole(""), e.g. from strings.Split of an empty
// setting), as Require panics on a nil check. Neither may ever let every
// session through or match a role without an id.

// RequireRole requires every one of the role ids.
func RequireRole(ids ...string) func(http.Handler) http.Handler {
	return guards{onError: writeErrorNoRealm}.RequireRole(ids...)
}

// RequireAnyRole requires at least one of the role ids.
func RequireAnyRole(ids ...string) func(http.Handler) http.Handler {
	return guards{onError: writeErrorNoRealm}.RequireAnyRole(ids...)
}

// RequirePermission requires every one of the permission ids.
func RequirePermission(ids ...string) func(http.Handler) http.Handler {
	return guards{onError: writeErrorNoRealm}.RequirePermission(ids...)
}

// RequireAnyPermission requires at least one of the permission ids.
func RequireAnyPermission(ids ...string) func(http.Handler) http.Handler {
	return guards{onError: writeErrorNoRealm}.RequireAnyPermission(ids...)
}

// RequirePlan requires every one of the plans.
func RequirePlan(plans ...session.Plan) func(http.Handler) http.Handler {
	return guards{onError: writeErrorNoRealm}.RequirePlan(plans...)
}

// RequireAnyPlan requires at least one of the plans.
func RequireAnyPlan(plans ...session.Plan) func(http.Handler) http.Handler {
	return guards{onError: writeErrorNoRealm}.RequireAnyPlan(plans...)
}

// Require requires that ok reports true for the session (an organization, a
// verified email …). ok is never called with a nil session; Require panics
// when ok is nil, a programming error caught at setup.
func Require(ok func(*session.ActiveSession) bool) func(http.Handler) http.Handler {
	return guards{onError: writeErrorNoRealm}.Require(ok)
}

// guards builds guards that answer with one error handler.
type guards struct {
	onError ErrorHandler
}

// writeErrorNoRealm is the package-level guards' error handler.
func writeErrorNoRealm(w http.ResponseWriter, _ *http.Request, err error) { WriteError(w, err, "") }

func (g guards) RequireRole(ids ...string) func(http.Handler) http.Handler {
	ids = nonEmpty("RequireRole", ids)
	return g.guard("role:"+strings.Join(ids, " role:"), func(s *session.ActiveSession) bool {
		return s.HasAllRoles(ids...)
	})
}

func (g guards) RequireAnyRole(ids ...string) func(http.Handler) http.Handler {
	ids = nonEmpty("RequireAnyRole", ids)
	return g.guard("role:"+strings.Join(ids, " role:"), func(s *session.ActiveSession) bool {
		return s.HasAnyRole(ids...)
	})
}

func (g guards) RequirePermission(ids ...string) func(http.Handler) http.Handler {
	ids = nonEmpty("RequirePermission", ids)
	return g.guard(strings.Join(ids, " "), func(s *session.ActiveSession) bool {
		return s.HasAllPermissions(ids...)
	})
}

func (g guards) RequireAnyPermission(ids ...string) func(http.Handler) http.Handler {
	ids = nonEmpty("RequireAnyPermission", ids)
	return g.guard(strings.Join(ids, " "), func(s *session.ActiveSession) bool {
		return s.HasAnyPermission(ids...)
	})
}

func (g guards) RequirePlan(plans ...session.Plan) func(http.Handler) http.Handler {
	plans = nonEmpty("RequirePlan", plans)
	return g.guard(planScope(plans), func(s *session.ActiveSession) bool {
		return s.HasAllPlans(plans...)
	})
}

func (g guards) RequireAnyPlan(plans ...session.Plan) func(http.Handler) http.Handler {
	plans = nonEmpty("RequireAnyPlan", plans)
	return g.guard(planScope(plans), func(s *session.ActiveSession) bool {
		return s.HasAnyPlan(plans...)
	})
}

func (g guards) Require(ok func(*session.ActiveSession) bool) func(http.Handler) http.Handler {
	if ok == nil {
		panic("middleware: Require needs a non-nil check")
	}
	return g.guard("", ok)
}

// guard is the one implementation behind every guard. scope is the
// space-separated list written in the insufficient_scope answer: role
// requirements as "role:<id>", plans as "plan:<name>", permissions as their
// ids.
func (g guards) guard(scope string, ok func(*session.ActiveSession) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, found := session.FromContext(r.Context())
			if !found {
				if _, signing := session.SigningFromContext(r.Context()); !signing {
					g.onError(w, r, &Error{Category: ErrNoToken, Cause: ErrNoToken, Description: "authentication required"})
					return
				}
			}
			if !found || !ok(s) {
				g.onError(w, r, &Error{Category: ErrInsufficientScope, Cause: ErrInsufficientScope,
					Description: "insufficient scope", Scope: scope})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func planScope(plans []session.Plan) string {
	var b strings.Builder
	for i, p := range plans {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("plan:")
		b.WriteString(string(p))
	}
	return b.String()
}

// nonEmpty returns a copy of a guard's list, and panics when the list is
// empty or holds an empty value (see "nothing to check" above).
func nonEmpty[T ~string](guard string, list []T) []T {
	if len(list) == 0 {
		panic("middleware: " + guard + " needs at least one value")
	}
	for _, v := range list {
		if v == "" {
			panic("middleware: " + guard + " given an empty value")
		}
	}
	return append([]T(nil), list...)
}
