package provider

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
)

// Error is a provider's error, parsed from an error body or a mid-stream error event.
type Error struct {
	Status  int    // HTTP status; 0 for a mid-stream error after 200
	Type    string // OpenAI error.type, Anthropic error.type, Gemini error.status
	Code    string // OpenAI error.code, Anthropic error.details.error_code, Gemini ErrorInfo reason
	Message string
}

// Error returns "provider: HTTP 429 rate_limit_error (code): message", leaving
// out the parts that are empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("provider: ")
	if e.Status > 0 {
		b.WriteString("HTTP ")
		b.WriteString(strconv.Itoa(e.Status))
	} else {
		b.WriteString("stream error")
	}
	if e.Type != "" {
		b.WriteByte(' ')
		b.WriteString(e.Type)
	}
	if e.Code != "" {
		b.WriteString(" (")
		b.WriteString(e.Code)
		b.WriteByte(')')
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// ErrorSpec describes an error response the stack makes itself.
type ErrorSpec struct {
	Status     int
	Type       string // OpenAI-style type ("invalid_request_error", "rate_limit_exceeded" ...); "" = derived from Status; mapped per format
	Code       string
	Message    string
	RetryAfter time.Duration // > 0: Retry-After (whole seconds, rounded up) and retry-after-ms
	Retry      bool          // false: x-should-retry: false
}

// NewErrorResponse builds a complete response shaped like format f's own
// errors (OpenAI {"error":{...}}, Anthropic {"type":"error","error":{...}},
// Gemini {"error":{"code","message","status"}}): Request set, JSON body,
// ContentLength, Content-Type.
//
// The OpenAI formats (and FormatUnknown) keep e.Type, or derive it from the
// status as OpenAI does: invalid_request_error for 4xx (401, 404 and 413
// included), request_forbidden for 403, type "requests" with code
// rate_limit_exceeded for 429, server_error for 5xx. Anthropic keeps e.Type
// when it is one of Anthropic's types, else derives it from the status
// (invalid_request_error 400, authentication_error 401, billing_error 402,
// permission_error 403, not_found_error 404, request_too_large 413,
// rate_limit_error 429, api_error 500, timeout_error 504, overloaded_error
// 529) and puts e.Code in error.details.error_code. Gemini uses e.Type when it
// is a canonical status name, else derives one (INVALID_ARGUMENT,
// UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, RESOURCE_EXHAUSTED,
// INTERNAL, UNAVAILABLE, DEADLINE_EXCEEDED ...) and carries e.Code as the
// reason of an ErrorInfo detail.
//
// A Status below 400 becomes 500; an empty Message becomes the status text.
// x-should-retry is "false" unless e.Retry, then "true".
func NewErrorResponse(req *http.Request, f Format, e ErrorSpec) *http.Response {
	if e.Status < 400 || e.Status > 599 {
		e.Status = http.StatusInternalServerError
	}
	text := statusText(e.Status)
	if e.Message == "" {
		e.Message = text
	}
	body := make([]byte, 0, 128+len(e.Message))
	switch f {
	case FormatAnthropicMessages:
		body = append(body, `{"type":"error","error":{"type":`...)
		body = jsonscan.AppendQuote(body, anthropicType(e.Type, e.Status))
		body = append(body, `,"message":`...)
		body = jsonscan.AppendQuote(body, e.Message)
		if e.Code != "" {
			body = append(body, `,"details":{"error_code":`...)
			body = jsonscan.AppendQuote(body, e.Code)
			body = append(body, '}')
		}
		body = append(body, "}}"...)
	case FormatGemini:
		body = append(body, `{"error":{"code":`...)
		body = strconv.AppendInt(body, int64(e.Status), 10)
		body = append(body, `,"message":`...)
		body = jsonscan.AppendQuote(body, e.Message)
		body = append(body, `,"status":`...)
		body = jsonscan.AppendQuote(body, geminiStatus(e.Type, e.Status))
		if e.Code != "" {
			body = append(body, `,"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":`...)
			body = jsonscan.AppendQuote(body, e.Code)
			body = append(body, `,"domain":"aigateway"}]`...)
		}
		body = append(body, "}}"...)
	default:
		typ, code := e.Type, e.Code
		if typ == "" {
			typ = openAIType(e.Status)
			if e.Status == http.StatusTooManyRequests && code == "" {
				code = "rate_limit_exceeded"
			}
		}
		body = append(body, `{"error":{"message":`...)
		body = jsonscan.AppendQuote(body, e.Message)
		body = append(body, `,"type":`...)
		body = jsonscan.AppendQuote(body, typ)
		body = append(body, `,"param":null,"code":`...)
		if code == "" {
			body = append(body, "null"...)
		} else {
			body = jsonscan.AppendQuote(body, code)
		}
		body = append(body, "}}"...)
	}

	h := make(http.Header, 5)
	h["Content-Type"] = []string{"application/json"}
	if e.Retry {
		h["X-Should-Retry"] = []string{"true"}
	} else {
		h["X-Should-Retry"] = []string{"false"}
	}
	if e.RetryAfter > 0 {
		secs := (e.RetryAfter + time.Second - 1) / time.Second
		ms := (e.RetryAfter + time.Millisecond - 1) / time.Millisecond
		h["Retry-After"] = []string{strconv.FormatInt(int64(secs), 10)}
		h["Retry-After-Ms"] = []string{strconv.FormatInt(int64(ms), 10)}
	}
	return &http.Response{
		Status:        strconv.Itoa(e.Status) + " " + text,
		StatusCode:    e.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

func statusText(status int) string {
	if status == 529 {
		return "Overloaded" // Anthropic's; net/http has no text for it
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}

func openAIType(status int) string {
	switch {
	case status == http.StatusForbidden:
		return "request_forbidden"
	case status == http.StatusTooManyRequests:
		return "requests"
	case status >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}

func anthropicType(typ string, status int) string {
	switch typ {
	case "invalid_request_error", "authentication_error", "billing_error", "permission_error",
		"not_found_error", "request_too_large", "rate_limit_error", "api_error",
		"timeout_error", "overloaded_error":
		return typ
	}
	switch status {
	case 400:
		return "invalid_request_error"
	case 401:
		return "authentication_error"
	case 402:
		return "billing_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 504:
		return "timeout_error"
	case 529:
		return "overloaded_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

func geminiStatus(typ string, status int) string {
	if isCanonicalStatus(typ) {
		return typ
	}
	switch status {
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 409:
		return "ABORTED"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case 501:
		return "UNIMPLEMENTED"
	case 503:
		return "UNAVAILABLE"
	case 504:
		return "DEADLINE_EXCEEDED"
	}
	if status >= 500 {
		return "INTERNAL"
	}
	return "INVALID_ARGUMENT"
}

func isCanonicalStatus(s string) bool {
	switch s {
	case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE", "UNAUTHENTICATED",
		"PERMISSION_DENIED", "NOT_FOUND", "ABORTED", "ALREADY_EXISTS", "RESOURCE_EXHAUSTED",
		"CANCELLED", "DATA_LOSS", "UNKNOWN", "INTERNAL", "UNIMPLEMENTED", "UNAVAILABLE",
		"DEADLINE_EXCEEDED":
		return true
	}
	return false
}
