package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFromAuthorizationHeader(t *testing.T) {
	tests := []struct {
		name    string
		values  []string
		want    string
		wantErr error
	}{
		{"absent", nil, "", nil},
		{"bearer", []string{"Bearer abc.def.ghi"}, "abc.def.ghi", nil},
		{"scheme case-insensitive", []string{"bEaReR abc.def.ghi"}, "abc.def.ghi", nil},
		{"several spaces", []string{"Bearer    abc.def.ghi"}, "abc.def.ghi", nil},
		{"other scheme", []string{"Basic dXNlcjpwYXNz"}, "", nil},
		{"empty value", []string{""}, "", nil},
		{"bearer alone", []string{"Bearer"}, "", ErrMalformedHeader},
		{"bearer and spaces", []string{"Bearer   "}, "", ErrMalformedHeader},
		{"tab after scheme", []string{"Bearer\tabc"}, "", ErrMalformedHeader},
		{"no space", []string{"Bearerabc.def.ghi"}, "", ErrMalformedHeader},
		// White space inside the token is the Authenticator's to refuse (400,
		// see TestInvalidRequests): the extractor passes it on.
		{"space inside token", []string{"Bearer abc def"}, "abc def", nil},
		{"two headers", []string{"Bearer a.b.c", "Bearer d.e.f"}, "", ErrTooManyHeaders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.values != nil {
				r.Header["Authorization"] = tt.values
			}
			got, err := FromAuthorizationHeader(r)
			assert.Equal(t, tt.want, got)
			if tt.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.wantErr)
			assert.ErrorIs(t, err, ErrInvalidRequest)
		})
	}
}

func TestFromCookieAndQuery(t *testing.T) {
	cookie := FromCookie("session")
	r := httptest.NewRequest("GET", "/", nil)
	got, err := cookie(r)
	assert.NoError(t, err)
	assert.Empty(t, got)

	r.AddCookie(&http.Cookie{Name: "other", Value: "x"})
	got, err = cookie(r)
	assert.NoError(t, err)
	assert.Empty(t, got)

	r.AddCookie(&http.Cookie{Name: "session", Value: "a.b.c"})
	got, err = cookie(r)
	assert.NoError(t, err)
	assert.Equal(t, "a.b.c", got)

	r.AddCookie(&http.Cookie{Name: "session", Value: "d.e.f"})
	_, err = cookie(r)
	assert.ErrorIs(t, err, ErrSeveralTokens)

	query := FromQuery("access_token")
	got, err = query(httptest.NewRequest("GET", "/?x=1", nil))
	assert.NoError(t, err)
	assert.Empty(t, got)
	got, err = query(httptest.NewRequest("GET", "/?access_token=a.b.c", nil))
	assert.NoError(t, err)
	assert.Equal(t, "a.b.c", got)
	_, err = query(httptest.NewRequest("GET", "/?access_token=a.b.c&access_token=d", nil))
	assert.ErrorIs(t, err, ErrSeveralTokens)
}
