package session

import (
	"context"
	"unsafe"
)

// Clone returns a deep copy of t: no slice, array or pointer of the copy is
// shared with t, so the copy may be changed without changing t (strings are
// immutable and stay shared). A Token in a request context is already such
// a private copy (see [NewTokenContext]).
func (t *Token) Clone() *Token {
	if t == nil {
		return nil
	}
	c := new(Token)
	t.cloneInto(c, nil)
	return c
}

// The clone keeps every string-shaped value (Audience entries, Permission
// and Role pairs, Plans, the targets of the nullable *string fields) in one
// []string arena, so a typical session costs one allocation beyond the
// Token. Permission and Role are laid out as two strings and Plan as one;
// the declarations below fail to compile if that ever changes.
var (
	_ [unsafe.Sizeof(Permission{}) - 2*unsafe.Sizeof("")]struct{}      = [0]struct{}{}
	_ [unsafe.Sizeof(Role{}) - 2*unsafe.Sizeof("")]struct{}            = [0]struct{}{}
	_ [unsafe.Offsetof(Permission{}.Name) - unsafe.Sizeof("")]struct{} = [0]struct{}{}
	_ [unsafe.Offsetof(Role{}.Name) - unsafe.Sizeof("")]struct{}       = [0]struct{}{}
	_ [unsafe.Sizeof(Plan("")) - unsafe.Sizeof("")]struct{}            = [0]struct{}{}
)

// arena hands out string-shaped storage from one []string.
type arena struct{ buf []string }

func (a *arena) take(n int) []string {
	s := a.buf[:n:n]
	a.buf = a.buf[n:]
	return s
}

func (a *arena) strs(s []string) []string {
	if s == nil {
		return nil
	}
	out := a.take(len(s))
	copy(out, s)
	return out
}

func (a *arena) str(p *string) *string {
	if p == nil {
		return nil
	}
	out := &a.take(1)[0]
	*out = *p
	return out
}

func (a *arena) plans(s []Plan) []Plan {
	if s == nil {
		return nil
	}
	out := unsafe.Slice((*Plan)(unsafe.Pointer(unsafe.SliceData(a.take(len(s))))), len(s))
	copy(out, s)
	return out
}

func cloneIDNames[T Permission | Role](a *arena, s []T) []T {
	if s == nil {
		return nil
	}
	out := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(a.take(2*len(s))))), len(s))
	copy(out, s)
	return out
}

// cloneInto deep-copies t into c, taking the arena from inline when it is
// large enough.
func (t *Token) cloneInto(c *Token, inline []string) {
	*c = *t
	n := len(t.Registered.Audience) + 2*len(t.Active.Permissions) + 2*len(t.Active.Roles) + len(t.Active.Plans) +
		profileStrings(&t.Active.Profile) + len(t.Scopes) + len(t.captured)
	sameAud := unsafe.SliceData(t.Signing.Aud) == unsafe.SliceData(t.Registered.Audience) && len(t.Signing.Aud) == len(t.Registered.Audience)
	if !sameAud {
		n += len(t.Signing.Aud)
	}
	a := &arena{}
	switch {
	case n <= len(inline):
		a.buf = inline[:n:n]
	case n > 0:
		a.buf = make([]string, n)
	}
	c.Registered.Audience = Audience(a.strs(t.Registered.Audience))
	if sameAud {
		c.Signing.Aud = c.Registered.Audience
	} else {
		c.Signing.Aud = Audience(a.strs(t.Signing.Aud))
	}
	c.Active.Permissions = cloneIDNames(a, t.Active.Permissions)
	c.Active.Roles = cloneIDNames(a, t.Active.Roles)
	c.Active.Plans = a.plans(t.Active.Plans)
	cloneProfile(a, &c.Active.Profile, &t.Active.Profile)
	c.Scopes = a.strs(t.Scopes)
	c.captured = a.strs(t.captured)
}

// profileStrings counts the arena strings a profile's clone takes.
func profileStrings(p *Profile) int {
	n := len(p.Permissions) + len(p.Roles) + len(p.Plans) + orgStrings(&p.Organization)
	if p.Phone != nil {
		n++
	}
	for i := range p.Groups {
		g := &p.Groups[i]
		n += len(g.Permissions) + len(g.Roles)
		if g.ParentID != nil {
			n++
		}
		for j := range g.Profiles {
			n += profileStrings(&g.Profiles[j])
		}
	}
	return n
}

func orgStrings(o *Organization) int {
	n := 0
	for _, p := range [...]*string{o.Address, o.Phone, o.BusinessName, o.Address2, o.ContactEmail, o.Timezone} {
		if p != nil {
			n++
		}
	}
	return n
}

// cloneProfile deep-copies src into dst (which holds a shallow copy).
func cloneProfile(a *arena, dst, src *Profile) {
	*dst = *src
	dst.Permissions = a.strs(src.Permissions)
	dst.Roles = a.strs(src.Roles)
	dst.Plans = a.plans(src.Plans)
	dst.Phone = a.str(src.Phone)
	o, so := &dst.Organization, &src.Organization
	o.Address, o.Phone, o.BusinessName = a.str(so.Address), a.str(so.Phone), a.str(so.BusinessName)
	o.Address2, o.ContactEmail, o.Timezone = a.str(so.Address2), a.str(so.ContactEmail), a.str(so.Timezone)
	if src.Groups == nil {
		return
	}
	dst.Groups = make([]Group, len(src.Groups))
	for i := range src.Groups {
		g, sg := &dst.Groups[i], &src.Groups[i]
		*g = *sg
		g.Permissions = a.strs(sg.Permissions)
		g.Roles = a.strs(sg.Roles)
		g.ParentID = a.str(sg.ParentID)
		if sg.Profiles != nil {
			g.Profiles = make([]Profile, len(sg.Profiles))
			for j := range sg.Profiles {
				cloneProfile(a, &g.Profiles[j], &sg.Profiles[j])
			}
		}
	}
}

// tokenContext is a context carrying a private copy of a Token: the copy,
// the arena of a typical session (29 strings for one with ten permissions
// and three scopes) and the context node are one allocation of 1408 bytes
// (a size class; TestTokenContextSize keeps it there).
type tokenContext struct {
	context.Context
	tok    Token
	inline [30]string
}

func (c *tokenContext) Value(key any) any {
	if key == (contextKey{}) {
		return &c.tok
	}
	return c.Context.Value(key)
}
