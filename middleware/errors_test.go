package middleware

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteError(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		realm      string
		status     int
		challenge  string
		retryAfter string
		body       map[string]any
	}{
		{
			name:      "no token: no error attribute",
			err:       &Error{Category: ErrNoToken, Cause: ErrNoToken, Description: "authentication required"},
			realm:     "api",
			status:    401,
			challenge: `Bearer realm="api"`,
			body:      map[string]any{"error": "unauthorized", "error_description": "authentication required"},
		},
		{
			name:      "no token, no realm",
			err:       &Error{Category: ErrNoToken, Cause: ErrNoToken, Description: "authentication required"},
			status:    401,
			challenge: `Bearer`,
			body:      map[string]any{"error": "unauthorized", "error_description": "authentication required"},
		},
		{
			name:      "invalid token",
			err:       tokenError(ErrExpired, "token expired"),
			realm:     "api",
			status:    401,
			challenge: `Bearer realm="api", error="invalid_token", error_description="token expired"`,
			body:      map[string]any{"error": "invalid_token", "error_description": "token expired"},
		},
		{
			name:      "quoted-string escaping",
			err:       tokenError(ErrExpired, `say "hi" \ bye`+"\r\nX-Injected: 1"),
			realm:     `my "realm"`,
			status:    401,
			challenge: `Bearer realm="my \"realm\"", error="invalid_token", error_description="say \"hi\" \\ byeX-Injected: 1"`,
			body:      map[string]any{"error": "invalid_token", "error_description": "say \"hi\" \\ bye\r\nX-Injected: 1"},
		},
		{
			name:      "insufficient scope",
			err:       &Error{Category: ErrInsufficientScope, Cause: ErrInsufficientScope, Description: "insufficient scope", Scope: "role:owner"},
			status:    403,
			challenge: `Bearer error="insufficient_scope", error_description="insufficient scope", scope="role:owner"`,
			body:      map[string]any{"error": "insufficient_scope", "error_description": "insufficient scope", "scope": "role:owner"},
		},
		{
			name:      "invalid request",
			err:       requestError(ErrTooManyHeaders, "several Authorization headers"),
			status:    400,
			challenge: `Bearer error="invalid_request", error_description="several Authorization headers"`,
			body:      map[string]any{"error": "invalid_request", "error_description": "several Authorization headers"},
		},
		{
			name:       "unavailable",
			err:        &Error{Category: ErrUnavailable, Cause: ErrUnavailable, Description: "key set unavailable", RetryAfter: 1500 * time.Millisecond},
			status:     503,
			retryAfter: "2",
			body:       map[string]any{"error": "temporarily_unavailable", "error_description": "key set unavailable"},
		},
		{
			name:       "unavailable without a hint",
			err:        &Error{Category: ErrUnavailable, Cause: ErrUnavailable, Description: "key set unavailable"},
			status:     503,
			retryAfter: "1",
			body:       map[string]any{"error": "temporarily_unavailable", "error_description": "key set unavailable"},
		},
		{
			name:      "foreign error never leaks its text",
			err:       errors.New("secret internal detail"),
			status:    401,
			challenge: `Bearer error="invalid_token", error_description="token rejected"`,
			body:      map[string]any{"error": "invalid_token", "error_description": "token rejected"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, tt.err, tt.realm)
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, tt.challenge, rec.Header().Get("WWW-Authenticate"))
			assert.Equal(t, tt.retryAfter, rec.Header().Get("Retry-After"))
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			var body map[string]any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
			assert.Equal(t, tt.body, body)
			assert.NotContains(t, rec.Body.String(), "secret internal detail")
		})
	}
}

func TestErrorIs(t *testing.T) {
	err := error(tokenError(ErrExpired, "token expired"))
	assert.ErrorIs(t, err, ErrInvalidToken)
	assert.ErrorIs(t, err, ErrExpired)
	assert.NotErrorIs(t, err, ErrAudience)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusUnauthorized, e.Status())
	assert.Equal(t, "middleware: invalid token: middleware: token expired", err.Error())
}
