package session

import "context"

// contextKey is the one key under which this package stores a session. Its
// value is a *Token, *ActiveSession or *SigningSession.
type contextKey struct{}

// NewContext returns a copy of ctx carrying s. Guards and handlers read it
// back with [FromContext]; use it in an authenticator of your own.
func NewContext(ctx context.Context, s *ActiveSession) context.Context {
	return context.WithValue(ctx, contextKey{}, s)
}

// NewSigningContext returns a copy of ctx carrying the signing session s.
func NewSigningContext(ctx context.Context, s *SigningSession) context.Context {
	return context.WithValue(ctx, contextKey{}, s)
}

// NewTokenContext returns a copy of ctx carrying a deep copy of the decoded
// token t: its session, registered claims and raw form. The middleware uses
// it; FromContext, SigningFromContext and TokenFromContext read it back.
//
// Because the context holds its own copy (see [Token.Clone]), a handler or
// middleware may change the session it reads from the context (a step-up
// that appends a role, say) without changing t or any other request's
// session: a token that the middleware caches and hands to every request
// carrying it is never changed through a request. A nil t stores nothing
// that FromContext would find.
func NewTokenContext(ctx context.Context, t *Token) context.Context {
	if t == nil {
		return context.WithValue(ctx, contextKey{}, (*Token)(nil))
	}
	c := &tokenContext{Context: ctx}
	t.cloneInto(&c.tok, c.inline[:])
	return c
}

// FromContext returns the active session stored in ctx, if any.
func FromContext(ctx context.Context) (*ActiveSession, bool) {
	switch v := ctx.Value(contextKey{}).(type) {
	case *Token:
		if v != nil && v.Kind == KindActive {
			return &v.Active, true
		}
	case *ActiveSession:
		return v, v != nil
	}
	return nil, false
}

// SigningFromContext returns the signing session stored in ctx, if any.
func SigningFromContext(ctx context.Context) (*SigningSession, bool) {
	switch v := ctx.Value(contextKey{}).(type) {
	case *Token:
		if v != nil && v.Kind == KindSigning {
			return &v.Signing, true
		}
	case *SigningSession:
		return v, v != nil
	}
	return nil, false
}

// TokenFromContext returns the decoded token stored in ctx by the middleware
// (or [NewTokenContext]): the raw token and registered claims live there.
func TokenFromContext(ctx context.Context) (*Token, bool) {
	t, ok := ctx.Value(contextKey{}).(*Token)
	return t, ok && t != nil
}
