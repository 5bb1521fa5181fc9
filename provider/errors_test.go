package provider_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aigateway-go/aigateway/internal/wire"
	"github.com/aigateway-go/aigateway/provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewErrorResponse(t *testing.T) {
	req, err := http.NewRequest("POST", "https://api.openai.com/v1/chat/completions", nil)
	require.NoError(t, err)
	cases := []struct {
		name   string
		f      provider.Format
		spec   provider.ErrorSpec
		body   string
		status string
	}{
		{"openai 429 derived", provider.FormatOpenAIChat, provider.ErrorSpec{Status: 429, Message: "local limit"},
			`{"error":{"message":"local limit","type":"requests","param":null,"code":"rate_limit_exceeded"}}`, "429 Too Many Requests"},
		{"openai explicit type", provider.FormatOpenAIResponses, provider.ErrorSpec{Status: 429, Type: "insufficient_quota", Code: "insufficient_quota", Message: "budget"},
			`{"error":{"message":"budget","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`, "429 Too Many Requests"},
		{"openai 413", provider.FormatOpenAIChat, provider.ErrorSpec{Status: 413, Message: "body too large"},
			`{"error":{"message":"body too large","type":"invalid_request_error","param":null,"code":null}}`, "413 Request Entity Too Large"},
		{"openai 401", provider.FormatOpenAIEmbeddings, provider.ErrorSpec{Status: 401, Code: "invalid_api_key"},
			`{"error":{"message":"Unauthorized","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`, "401 Unauthorized"},
		{"openai 403", provider.FormatOpenAIChat, provider.ErrorSpec{Status: 403, Message: "no"},
			`{"error":{"message":"no","type":"request_forbidden","param":null,"code":null}}`, "403 Forbidden"},
		{"openai 500 escaping", provider.FormatUnknown, provider.ErrorSpec{Status: 500, Message: "bad \"config\"\n<x>"},
			`{"error":{"message":"bad \"config\"\n\u003cx\u003e","type":"server_error","param":null,"code":null}}`, "500 Internal Server Error"},
		{"anthropic 429", provider.FormatAnthropicMessages, provider.ErrorSpec{Status: 429, Type: "rate_limit_exceeded", Message: "slow down"},
			`{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`, "429 Too Many Requests"},
		{"anthropic 413", provider.FormatAnthropicMessages, provider.ErrorSpec{Status: 413, Message: "too big"},
			`{"type":"error","error":{"type":"request_too_large","message":"too big"}}`, "413 Request Entity Too Large"},
		{"anthropic keeps its own type and code", provider.FormatAnthropicMessages, provider.ErrorSpec{Status: 429, Type: "rate_limit_error", Code: "enforced_spend_limit_reached", Message: "budget"},
			`{"type":"error","error":{"type":"rate_limit_error","message":"budget","details":{"error_code":"enforced_spend_limit_reached"}}}`, "429 Too Many Requests"},
		{"anthropic 529", provider.FormatAnthropicMessages, provider.ErrorSpec{Status: 529},
			`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, "529 Overloaded"},
		{"anthropic 500 from openai type", provider.FormatAnthropicMessages, provider.ErrorSpec{Status: 500, Type: "server_error", Message: "m"},
			`{"type":"error","error":{"type":"api_error","message":"m"}}`, "500 Internal Server Error"},
		{"gemini 429", provider.FormatGemini, provider.ErrorSpec{Status: 429, Message: "quota"},
			`{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}`, "429 Too Many Requests"},
		{"gemini 401 with code", provider.FormatGemini, provider.ErrorSpec{Status: 401, Code: "API_KEY_INVALID", Message: "key"},
			`{"error":{"code":401,"message":"key","status":"UNAUTHENTICATED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"aigateway"}]}}`, "401 Unauthorized"},
		{"gemini 503", provider.FormatGemini, provider.ErrorSpec{Status: 503, Message: "down"},
			`{"error":{"code":503,"message":"down","status":"UNAVAILABLE"}}`, "503 Service Unavailable"},
		{"bad status becomes 500", provider.FormatOpenAIChat, provider.ErrorSpec{Status: 200, Message: "x"},
			`{"error":{"message":"x","type":"server_error","param":null,"code":null}}`, "500 Internal Server Error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := provider.NewErrorResponse(req, tc.f, tc.spec)
			assert.Same(t, req, resp.Request)
			assert.Equal(t, tc.status, resp.Status)
			assert.Equal(t, "HTTP/1.1", resp.Proto)
			assert.Equal(t, 1, resp.ProtoMajor)
			assert.Equal(t, 1, resp.ProtoMinor)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Equal(t, "false", resp.Header.Get("x-should-retry"))
			assert.Empty(t, resp.Header.Get("Retry-After"))
			require.NotNil(t, resp.Body)
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, int64(len(b)), resp.ContentLength)
			assert.JSONEq(t, tc.body, string(b))
			assert.True(t, json.Valid(b))

			// The scanner reads back what was written.
			var s wire.ResponseScanner
			s.Reset(tc.f, false, resp.StatusCode)
			s.Write(b)
			s.Finish()
			e := s.Err()
			require.NotNil(t, e)
			assert.Equal(t, resp.StatusCode, e.Status)
			if tc.spec.Message != "" {
				assert.Equal(t, tc.spec.Message, e.Message)
			}
			if tc.spec.Code != "" {
				assert.Equal(t, tc.spec.Code, e.Code)
			}
		})
	}
}

func TestNewErrorResponseRetry(t *testing.T) {
	resp := provider.NewErrorResponse(nil, provider.FormatOpenAIChat, provider.ErrorSpec{Status: 429, RetryAfter: 1500 * time.Millisecond, Retry: true})
	assert.Equal(t, "true", resp.Header.Get("X-Should-Retry"))
	assert.Equal(t, "2", resp.Header.Get("Retry-After"))
	assert.Equal(t, "1500", resp.Header.Get("retry-after-ms"))

	resp = provider.NewErrorResponse(nil, provider.FormatAnthropicMessages, provider.ErrorSpec{Status: 429, RetryAfter: 10 * time.Second})
	assert.Equal(t, "false", resp.Header.Get("X-Should-Retry"))
	assert.Equal(t, "10", resp.Header.Get("Retry-After"))
	assert.Equal(t, "10000", resp.Header.Get("Retry-After-Ms"))

	resp = provider.NewErrorResponse(nil, provider.FormatGemini, provider.ErrorSpec{Status: 429, RetryAfter: time.Microsecond})
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.Equal(t, "1", resp.Header.Get("Retry-After-Ms"))
}
