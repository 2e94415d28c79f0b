package session

// HasRole reports whether the session holds the role with this id. A nil
// session holds nothing.
func (s *ActiveSession) HasRole(id string) bool {
	if s == nil {
		return false
	}
	for i := range s.Roles {
		if s.Roles[i].ID == id {
			return true
		}
	}
	return false
}

// HasPermission reports whether the session holds the permission with this
// id. A nil session holds nothing.
func (s *ActiveSession) HasPermission(id string) bool {
	if s == nil {
		return false
	}
	for i := range s.Permissions {
		if s.Permissions[i].ID == id {
			return true
		}
	}
	return false
}

// HasPlan reports whether the session's organization is on plan p. A nil
// session has no plan.
func (s *ActiveSession) HasPlan(p Plan) bool {
	if s == nil {
		return false
	}
	for _, have := range s.Plans {
		if have == p {
			return true
		}
	}
	return false
}

// HasAllRoles reports whether the session holds every one of ids (true for
// none).
func (s *ActiveSession) HasAllRoles(ids ...string) bool { return all(s.HasRole, ids) }

// HasAnyRole reports whether the session holds at least one of ids (false for
// none).
func (s *ActiveSession) HasAnyRole(ids ...string) bool { return anyOf(s.HasRole, ids) }

// HasAllPermissions reports whether the session holds every one of ids (true
// for none).
func (s *ActiveSession) HasAllPermissions(ids ...string) bool { return all(s.HasPermission, ids) }

// HasAnyPermission reports whether the session holds at least one of ids
// (false for none).
func (s *ActiveSession) HasAnyPermission(ids ...string) bool {
	return anyOf(s.HasPermission, ids)
}

// HasAllPlans reports whether the session has every one of plans (true for
// none).
func (s *ActiveSession) HasAllPlans(plans ...Plan) bool { return all(s.HasPlan, plans) }

// HasAnyPlan reports whether the session has at least one of plans (false
// for none).
func (s *ActiveSession) HasAnyPlan(plans ...Plan) bool { return anyOf(s.HasPlan, plans) }

func all[T any](has func(T) bool, want []T) bool {
	for _, w := range want {
		if !has(w) {
			return false
		}
	}
	return true
}

func anyOf[T any](has func(T) bool, want []T) bool {
	for _, w := range want {
		if has(w) {
			return true
		}
	}
	return false
}
