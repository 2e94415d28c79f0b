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
			err:       refuse(ErrNoToken, nil),
			realm:     "api",
			status:    401,
			challenge: `Bearer realm="api"`,
			body:      map[string]any{"error": "unauthorized", "error_description": "authentication required"},
		},
		{
			name:      "no token, no realm",
			err:       refuse(ErrNoToken, nil),
			status:    401,
			challenge: `Bearer`,
			body:      map[string]any{"error": "unauthorized", "error_description": "authentication required"},
		},
		{
			name:      "invalid token",
			err:       refuse(ErrExpired, nil),
			realm:     "api",
			status:    401,
			challenge: `Bearer realm="api", error="invalid_token", error_description="token expired"`,
			body:      map[string]any{"error": "invalid_token", "error_description": "token expired"},
		},
		{
			name:      "quoted-string escaping",
			err:       &Error{Reason: ErrExpired, Description: `say "hi" \ bye` + "\r\nX-Injected: 1"},
			realm:     `my "realm"`,
			status:    401,
			challenge: `Bearer realm="my \"realm\"", error="invalid_token", error_description="say \"hi\" \\ byeX-Injected: 1"`,
			body:      map[string]any{"error": "invalid_token", "error_description": "say \"hi\" \\ bye\r\nX-Injected: 1"},
		},
		{
			name:      "insufficient scope",
			err:       &Error{Reason: ErrInsufficientScope, Description: "insufficient scope", Scope: "documents:read"},
			status:    403,
			challenge: `Bearer error="insufficient_scope", error_description="insufficient scope", scope="documents:read"`,
			body:      map[string]any{"error": "insufficient_scope", "error_description": "insufficient scope", "scope": "documents:read"},
		},
		{
			name:      "invalid request",
			err:       refuse(ErrTooManyHeaders, nil),
			status:    400,
			challenge: `Bearer error="invalid_request", error_description="several Authorization headers"`,
			body:      map[string]any{"error": "invalid_request", "error_description": "several Authorization headers"},
		},
		{
			name:       "unavailable",
			err:        &Error{Reason: ErrUnavailable, Description: "key set unavailable", RetryAfter: 1500 * time.Millisecond},
			status:     503,
			retryAfter: "2",
			body:       map[string]any{"error": "temporarily_unavailable", "error_description": "key set unavailable"},
		},
		{
			name:       "unavailable without a hint",
			err:        refuse(ErrUnavailable, nil),
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
	cause := errors.New("cause")
	err := error(refuse(ErrExpired, cause))
	assert.ErrorIs(t, err, ErrInvalidToken)
	assert.ErrorIs(t, err, ErrExpired)
	assert.ErrorIs(t, err, cause)
	assert.NotErrorIs(t, err, ErrAudience)
	assert.NotErrorIs(t, err, ErrInvalidRequest)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusUnauthorized, e.Status())
	assert.Equal(t, "expired", e.Reason.String())
	assert.Equal(t, "middleware: token expired: cause", err.Error())
	// A category is its own reason.
	assert.ErrorIs(t, refuse(ErrNoToken, nil), ErrNoToken)
	assert.NotErrorIs(t, refuse(ErrNoToken, nil), ErrInvalidToken)
}

// The table of reasons is complete: every reason has a category, a label
// and a description, and the labels are distinct (they are metric labels).
func TestReasonsTable(t *testing.T) {
	labels := map[string]Reason{}
	for r := Reason(1); r < numReasons; r++ {
		info := reasons[r]
		assert.NotZero(t, info.category, "reason %d has no category", r)
		assert.NotEmpty(t, info.label, "reason %d has no label", r)
		assert.NotEmpty(t, info.desc, "reason %d has no description", r)
		assert.Equal(t, info.category, reasons[info.category].category, "the category of %s is a category", info.label)
		if other, dup := labels[info.label]; dup {
			t.Errorf("label %q of %d and %d", info.label, other, r)
		}
		labels[info.label] = r
		assert.Equal(t, "middleware: "+info.desc, r.Error())
		assert.Equal(t, info.label, r.String())
	}
	assert.Equal(t, "invalid_token", Reason(0).String(), "an unknown reason reads as a refused token")
}
