package middleware

import (
	"net/http"
	"slices"
	"strings"

	"github.com/sessiongate/sessiongate/session"
)

// Guards state a route's policy. Each is a func(http.Handler) http.Handler
// for chi's r.With(...) or for wrapping a handler given to http.ServeMux.
// They read only the request context, so they work behind an
// [Authenticator] or behind an authenticator of your own that stores a
// session with [session.NewContext]:
//
//   - no session in the context: 401, as for a request without a token;
//   - a session that lacks what the guard requires (or a signing session,
//     where the guard needs an active one): 403 insufficient_scope.
//
// Behind an Authenticator a guard answers like it: through its error
// handler and realm, its Debug log and Hooks.OnRejected. Elsewhere it
// answers with [WriteError] and no realm.
//
// The scope guards check OAuth scopes (the token's scope or scp claim) and
// name the required scopes in the answer's scope attribute (RFC 6750 §3),
// which an OAuth client may use to ask for them. The role, permission and
// plan guards are not about OAuth scopes: their answer has no scope
// attribute, and its error_description says what kind of grant was missing
// ("role required", "permission required", "plan required").
//
// A guard with nothing to check is a programming error caught at setup: the
// constructors panic on an empty list (RequireRole()) and on an empty value
// (RequireRole(""), e.g. from strings.Split of an empty setting), as
// Require panics on a nil check. None may ever let every session through or
// match a role without an id.

// RequireRole requires every one of the role ids.
func RequireRole(ids ...string) func(http.Handler) http.Handler {
	ids = nonEmpty("RequireRole", ids)
	return guard("role required", func(s *session.ActiveSession, _ *session.Token) bool { return s.HasAllRoles(ids...) })
}

// RequireAnyRole requires at least one of the role ids.
func RequireAnyRole(ids ...string) func(http.Handler) http.Handler {
	ids = nonEmpty("RequireAnyRole", ids)
	return guard("role required", func(s *session.ActiveSession, _ *session.Token) bool { return s.HasAnyRole(ids...) })
}

// RequirePermission requires every one of the permission ids.
func RequirePermission(ids ...string) func(http.Handler) http.Handler {
	ids = nonEmpty("RequirePermission", ids)
	return guard("permission required", func(s *session.ActiveSession, _ *session.Token) bool { return s.HasAllPermissions(ids...) })
}

// RequireAnyPermission requires at least one of the permission ids.
func RequireAnyPermission(ids ...string) func(http.Handler) http.Handler {
	ids = nonEmpty("RequireAnyPermission", ids)
	return guard("permission required", func(s *session.ActiveSession, _ *session.Token) bool { return s.HasAnyPermission(ids...) })
}

// RequirePlan requires every one of the plans.
func RequirePlan(plans ...session.Plan) func(http.Handler) http.Handler {
	plans = nonEmpty("RequirePlan", plans)
	return guard("plan required", func(s *session.ActiveSession, _ *session.Token) bool { return s.HasAllPlans(plans...) })
}

// RequireAnyPlan requires at least one of the plans.
func RequireAnyPlan(plans ...session.Plan) func(http.Handler) http.Handler {
	plans = nonEmpty("RequireAnyPlan", plans)
	return guard("plan required", func(s *session.ActiveSession, _ *session.Token) bool { return s.HasAnyPlan(plans...) })
}

// RequireScope requires every one of the OAuth scopes (the token's scope or
// scp claim); the 403 answer names them in its scope attribute.
func RequireScope(scopes ...string) func(http.Handler) http.Handler {
	scopes = nonEmpty("RequireScope", scopes)
	return scopeGuard(strings.Join(scopes, " "), func(have []string) bool {
		for _, s := range scopes {
			if !slices.Contains(have, s) {
				return false
			}
		}
		return true
	})
}

// RequireAnyScope requires at least one of the OAuth scopes; the 403 answer
// names them in its scope attribute.
func RequireAnyScope(scopes ...string) func(http.Handler) http.Handler {
	scopes = nonEmpty("RequireAnyScope", scopes)
	return scopeGuard(strings.Join(scopes, " "), func(have []string) bool {
		return slices.ContainsFunc(scopes, func(s string) bool { return slices.Contains(have, s) })
	})
}

// Require requires that ok reports true for the session (an organization, a
// verified email …). ok is never called with a nil session; Require panics
// when ok is nil, a programming error caught at setup.
func Require(ok func(*session.ActiveSession) bool) func(http.Handler) http.Handler {
	if ok == nil {
		panic("middleware: Require needs a non-nil check")
	}
	return guard("access denied", func(s *session.ActiveSession, _ *session.Token) bool { return ok(s) })
}

// scopeGuard is a guard over the token's OAuth scopes.
func scopeGuard(scope string, ok func([]string) bool) func(http.Handler) http.Handler {
	return guardAnswering("insufficient scope", scope, func(_ *session.ActiveSession, t *session.Token) bool {
		return t != nil && ok(t.Scopes)
	})
}

func guard(desc string, ok func(*session.ActiveSession, *session.Token) bool) func(http.Handler) http.Handler {
	return guardAnswering(desc, "", ok)
}

// guardAnswering is the one implementation behind every guard. desc is the
// 403's error_description, scope its scope attribute ("" for none). ok gets
// the active session and, when the context holds one, its token.
func guardAnswering(desc, scope string, ok func(*session.ActiveSession, *session.Token) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			s, found := session.FromContext(ctx)
			var err *Error
			switch {
			case !found:
				if _, signing := session.SigningFromContext(ctx); signing {
					err = &Error{Reason: ErrInsufficientScope, Description: desc, Scope: scope}
				} else {
					err = refuse(ErrNoToken, nil)
				}
			default:
				t, _ := session.TokenFromContext(ctx)
				if !ok(s, t) {
					err = &Error{Reason: ErrInsufficientScope, Description: desc, Scope: scope}
				}
			}
			if err == nil {
				next.ServeHTTP(w, r)
				return
			}
			if a := authFromContext(ctx); a != nil {
				a.reject(w, r, err)
				return
			}
			WriteError(w, err, "")
		})
	}
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
	return slices.Clone(list)
}
