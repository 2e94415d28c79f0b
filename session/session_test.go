package session

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestContext(t *testing.T) {
	ctx := context.Background()
	_, ok := FromContext(ctx)
	assert.False(t, ok)
	_, ok = SigningFromContext(ctx)
	assert.False(t, ok)
	_, ok = TokenFromContext(ctx)
	assert.False(t, ok)

	s := &ActiveSession{Sub: "u"}
	got, ok := FromContext(NewContext(ctx, s))
	assert.True(t, ok)
	assert.Same(t, s, got)
	_, ok = SigningFromContext(NewContext(ctx, s))
	assert.False(t, ok)

	ss := &SigningSession{DocumentID: "d"}
	gotS, ok := SigningFromContext(NewSigningContext(ctx, ss))
	assert.True(t, ok)
	assert.Same(t, ss, gotS)
	_, ok = FromContext(NewSigningContext(ctx, ss))
	assert.False(t, ok)

	tok := &Token{Kind: KindActive, Active: ActiveSession{Sub: "t"}, Raw: "a.b.c"}
	tctx := NewTokenContext(ctx, tok)
	got, ok = FromContext(tctx)
	assert.True(t, ok)
	assert.Equal(t, &tok.Active, got)
	assert.NotSame(t, &tok.Active, got, "the context holds its own copy")
	gotT, ok := TokenFromContext(tctx)
	assert.True(t, ok)
	assert.Equal(t, "a.b.c", gotT.Raw)
	_, ok = SigningFromContext(tctx)
	assert.False(t, ok)

	stok := &Token{Kind: KindSigning, Signing: SigningSession{DocumentID: "d"}}
	gotS, ok = SigningFromContext(NewTokenContext(ctx, stok))
	assert.True(t, ok)
	assert.Equal(t, &stok.Signing, gotS)
	assert.NotSame(t, &stok.Signing, gotS, "the context holds its own copy")
	_, ok = FromContext(NewTokenContext(ctx, stok))
	assert.False(t, ok)

	// Typed nils are no session.
	_, ok = FromContext(NewContext(ctx, nil))
	assert.False(t, ok)
	_, ok = TokenFromContext(NewTokenContext(ctx, nil))
	assert.False(t, ok)
}

func TestQueries(t *testing.T) {
	s := &ActiveSession{
		Roles:       []Role{{ID: RoleOwner, Name: "Owner"}, {ID: RoleMember, Name: "Member"}},
		Permissions: []Permission{{ID: PermOrgView, Name: PermOrgView}, {ID: PermTemplateMemberRead}},
		Plans:       []Plan{PlanOrgStandard},
	}
	var none *ActiveSession
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"role", s.HasRole(RoleOwner), true},
		{"role by name does not match", s.HasRole("Owner"), false},
		{"missing role", s.HasRole(RoleBasicUser), false},
		{"all roles", s.HasAllRoles(RoleOwner, RoleMember), true},
		{"all roles, one missing", s.HasAllRoles(RoleOwner, RoleBasicUser), false},
		{"all roles of none", s.HasAllRoles(), true},
		{"any role", s.HasAnyRole(RoleBasicUser, RoleMember), true},
		{"any role, none held", s.HasAnyRole(RoleBasicUser), false},
		{"any role of none", s.HasAnyRole(), false},
		{"permission", s.HasPermission(PermTemplateMemberRead), true},
		{"missing permission", s.HasPermission(PermOrgDelete), false},
		{"all permissions", s.HasAllPermissions(PermOrgView, PermTemplateMemberRead), true},
		{"all permissions, one missing", s.HasAllPermissions(PermOrgView, PermOrgDelete), false},
		{"any permission", s.HasAnyPermission(PermOrgDelete, PermOrgView), true},
		{"plan", s.HasPlan(PlanOrgStandard), true},
		{"missing plan", s.HasPlan(PlanEnvEssential), false},
		{"all plans", s.HasAllPlans(PlanOrgStandard, PlanEnvEssential), false},
		{"any plan", s.HasAnyPlan(PlanOrgStandard, PlanEnvEssential), true},
		{"nil role", none.HasRole(RoleOwner), false},
		{"nil any permission", none.HasAnyPermission(PermOrgView), false},
		{"nil plan", none.HasPlan(PlanOrgStandard), false},
		{"nil all of none", none.HasAllRoles(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got)
		})
	}
}

func TestExpiry(t *testing.T) {
	now := time.Unix(1000, 0)
	tests := []struct {
		name string
		s    *ActiveSession
		want bool
	}{
		{"future", &ActiveSession{ExpiresAt: 1001}, false},
		{"now", &ActiveSession{ExpiresAt: 1000}, true},
		{"past", &ActiveSession{ExpiresAt: 999}, true},
		{"no exp", &ActiveSession{}, true},
		{"nil", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.s.ExpiredAt(now))
		})
	}
	s := &ActiveSession{IssuedAt: 900, ExpiresAt: 1001}
	assert.Equal(t, time.Unix(900, 0), s.IssuedAtTime())
	assert.Equal(t, time.Unix(1001, 0), s.ExpiresAtTime())
	assert.True(t, (&ActiveSession{}).ExpiresAtTime().IsZero())
	ss := &SigningSession{IssuedAt: 900, ExpiresAt: 1001}
	assert.False(t, ss.ExpiredAt(now))
	assert.True(t, ss.ExpiredAt(time.Unix(2000, 0)))
	var nilS *SigningSession
	assert.True(t, nilS.ExpiredAt(now))
}
