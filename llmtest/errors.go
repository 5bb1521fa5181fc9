package llmtest

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
)

// errorSpec is an error answer before it takes its provider's shape.
type errorSpec struct {
	typ        string // provider-specific type; "" derives it from the status
	code       string // OpenAI error.code
	message    string // "" uses the provider's usual message for the status
	param      string // OpenAI error.param; "" sends null
	retryAfter time.Duration
}

// fail makes x an error answer with status, shaped like x's provider.
func (x *exchange) fail(status int, e errorSpec) {
	x.status = status
	x.header = x.errorHeader(status, e)
	switch x.api {
	case apiMessages:
		x.body = x.anthropicError(status, e)
	case apiGemini:
		x.body = x.geminiError(status, e)
	default:
		x.body = x.openAIError(status, e)
	}
	x.addFaultHeaders()
}

// failAuth answers a wrong or missing API key as each provider does.
func (x *exchange) failAuth() {
	switch x.api {
	case apiMessages:
		x.fail(http.StatusUnauthorized, errorSpec{message: "invalid x-api-key"})
	case apiGemini:
		x.fail(http.StatusBadRequest, errorSpec{message: "API key not valid. Please pass a valid API key."})
	default:
		x.fail(http.StatusUnauthorized, errorSpec{
			code:    "invalid_api_key",
			message: "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
		})
	}
}

func invalidJSONMessage(a api) string {
	switch a {
	case apiMessages:
		return "There was an error parsing the body of your request. Please make sure it is valid JSON."
	case apiGemini:
		return "Invalid JSON payload received. Unexpected token."
	}
	return "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)"
}

func keyMatches(a api, h http.Header, u *url.URL, key string) bool {
	switch a {
	case apiMessages:
		return h.Get("X-Api-Key") == key || h.Get("Authorization") == "Bearer "+key
	case apiGemini:
		return h.Get("X-Goog-Api-Key") == key || u.Query().Get("key") == key
	}
	return h.Get("Authorization") == "Bearer "+key || h.Get("Api-Key") == key
}

// openAIError is {"error":{"message","type","param","code"}}, laid out
// with four-space indentation as OpenAI sends its errors.
func (x *exchange) openAIError(status int, e errorSpec) []byte {
	typ, code, msg := e.typ, e.code, e.message
	quota := code == CodeInsufficientQuota
	switch {
	case quota:
		typ = or(typ, "insufficient_quota")
		msg = or(msg, "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.")
	case status == http.StatusTooManyRequests:
		typ = or(typ, "requests")
		code = or(code, "rate_limit_exceeded")
		wait := "20ms"
		if e.retryAfter > 0 {
			wait = e.retryAfter.String()
		}
		msg = or(msg, "Rate limit reached for "+or(x.model, "requests")+" in organization org-llmtest on requests per min (RPM): Limit 10000, Used 10000, Requested 1. Please try again in "+wait+". Visit https://platform.openai.com/account/rate-limits to learn more.")
	case status == http.StatusUnauthorized:
		typ = or(typ, "invalid_request_error")
		code = or(code, "invalid_api_key")
		msg = or(msg, "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.")
	case status == http.StatusNotFound && x.model != "":
		typ = or(typ, "invalid_request_error")
		code = or(code, "model_not_found")
		msg = or(msg, "The model `"+x.model+"` does not exist or you do not have access to it.")
	case status == http.StatusInternalServerError:
		typ = or(typ, "server_error")
		msg = or(msg, "The server had an error while processing your request. Sorry about that!")
	case status == http.StatusServiceUnavailable || status == StatusOverloaded:
		typ = or(typ, "server_error")
		msg = or(msg, "The server is overloaded or not ready yet.")
	case status >= 500:
		typ = or(typ, "server_error")
	default:
		typ = or(typ, "invalid_request_error")
	}
	msg = or(msg, statusText(status))
	b := make([]byte, 0, 256)
	b = append(b, `{"error":{"message":`...)
	b = jsonscan.AppendQuoteNoHTML(b, msg)
	b = append(b, `,"type":`...)
	b = jsonscan.AppendQuoteNoHTML(b, typ)
	b = append(b, `,"param":`...)
	b = appendNullable(b, e.param)
	b = append(b, `,"code":`...)
	b = appendNullable(b, code)
	b = append(b, `}}`...)
	return appendStyled(make([]byte, 0, len(b)+128), b, styleIndent4)
}

// openAIStreamError is the data of a chat stream's mid-stream error event.
func (x *exchange) openAIStreamError() []byte {
	b := make([]byte, 0, 192)
	b = append(b, `{"error":{"message":`...)
	b = jsonscan.AppendQuoteNoHTML(b, or(x.fault.Message, "The server had an error while processing your request. Sorry about that!"))
	b = append(b, `,"type":`...)
	b = jsonscan.AppendQuoteNoHTML(b, or(x.fault.Type, "server_error"))
	b = append(b, `,"param":null,"code":`...)
	b = appendNullable(b, x.fault.Code)
	return append(b, `}}`...)
}

func anthropicErrorType(status int) (typ, msg string) {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error", "Invalid request"
	case http.StatusUnauthorized:
		return "authentication_error", "invalid x-api-key"
	case http.StatusPaymentRequired:
		return "billing_error", "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."
	case http.StatusForbidden:
		return "permission_error", "Your API key does not have permission to use the specified resource."
	case http.StatusNotFound:
		return "not_found_error", "Not found"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large", "Request exceeds the maximum allowed number of bytes."
	case http.StatusTooManyRequests:
		return "rate_limit_error", "This request would exceed the rate limit for your organization of 4,000 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later."
	case http.StatusGatewayTimeout:
		return "timeout_error", "Request timed out"
	case StatusOverloaded:
		return "overloaded_error", "Overloaded"
	}
	if status >= 500 {
		return "api_error", "Internal server error"
	}
	return "invalid_request_error", statusText(status)
}

// anthropicError is {"type":"error","error":{"type","message"},"request_id"}.
func (x *exchange) anthropicError(status int, e errorSpec) []byte {
	typ, msg := anthropicErrorType(status)
	if status == http.StatusNotFound && x.model != "" {
		msg = "model: " + x.model
	}
	detail := e.code
	if detail == CodeInsufficientQuota {
		detail = "enforced_spend_limit_reached"
		msg = "You have reached your specified API usage limits. You will regain access on 2025-02-01 at 00:00 UTC."
	}
	b := make([]byte, 0, 256)
	b = append(b, `{"type":"error","error":{"type":`...)
	b = jsonscan.AppendQuoteNoHTML(b, or(e.typ, typ))
	b = append(b, `,"message":`...)
	b = jsonscan.AppendQuoteNoHTML(b, or(e.message, msg))
	if detail != "" {
		b = append(b, `,"details":{"error_code":`...)
		b = jsonscan.AppendQuoteNoHTML(b, detail)
		b = append(b, '}')
	}
	b = append(b, `},"request_id":`...)
	b = x.appendAnthropicRequestID(b)
	return append(b, '}')
}

// anthropicStreamError is the data of an Anthropic event: error.
func (x *exchange) anthropicStreamError() []byte {
	b := make([]byte, 0, 128)
	b = append(b, `{"type":"error","error":{"type":`...)
	b = jsonscan.AppendQuoteNoHTML(b, or(x.fault.Type, "overloaded_error"))
	b = append(b, `,"message":`...)
	b = jsonscan.AppendQuoteNoHTML(b, or(x.fault.Message, "Overloaded"))
	return append(b, `}}`...)
}

func geminiStatus(status int) (name, msg string) {
	switch status {
	case http.StatusBadRequest:
		return "INVALID_ARGUMENT", "Request contains an invalid argument."
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED", "Request had invalid authentication credentials."
	case http.StatusForbidden:
		return "PERMISSION_DENIED", "The caller does not have permission"
	case http.StatusNotFound:
		return "NOT_FOUND", "Requested entity was not found."
	case http.StatusConflict:
		return "ABORTED", "The operation was aborted."
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."
	case 499:
		return "CANCELLED", "The operation was cancelled."
	case http.StatusNotImplemented:
		return "UNIMPLEMENTED", "Method not found."
	case http.StatusServiceUnavailable, StatusOverloaded:
		return "UNAVAILABLE", "The model is overloaded. Please try again later."
	case http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."
	}
	if status >= 500 {
		return "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
	}
	return "FAILED_PRECONDITION", statusText(status)
}

// geminiError is {"error":{"code","message","status"}}, two-space indented.
func (x *exchange) geminiError(status int, e errorSpec) []byte {
	name, msg := geminiStatus(status)
	if status == http.StatusNotFound && x.model != "" {
		msg = "models/" + x.model + " is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."
	}
	if e.code == CodeInsufficientQuota {
		msg = "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
	}
	b := make([]byte, 0, 256)
	b = x.appendGeminiError(b, status, or(e.typ, name), or(e.message, msg), e.retryAfter)
	return appendStyled(make([]byte, 0, len(b)+96), b, styleIndent2)
}

func (x *exchange) appendGeminiError(b []byte, code int, status, msg string, retryAfter time.Duration) []byte {
	b = append(b, `{"error":{"code":`...)
	b = appendInt(b, int64(code))
	b = append(b, `,"message":`...)
	b = jsonscan.AppendQuoteNoHTML(b, msg)
	b = append(b, `,"status":`...)
	b = jsonscan.AppendQuoteNoHTML(b, status)
	if retryAfter > 0 {
		b = append(b, `,"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":`...)
		b = jsonscan.AppendQuoteNoHTML(b, strconv.FormatFloat(retryAfter.Seconds(), 'f', -1, 64)+"s")
		b = append(b, `}]`...)
	}
	return append(b, `}}`...)
}

// midStreamError is the framed error event for fault.ErrorAt.
func (x *exchange) midStreamError() []byte {
	if x.fault.ErrorAt <= 0 {
		return nil
	}
	switch x.api {
	case apiMessages:
		return frameNamed(nil, "error", x.anthropicStreamError())
	case apiResponses:
		b := make([]byte, 0, 192)
		b = append(b, `{"type":"error","sequence_number":`...)
		b = appendInt(b, int64(x.fault.ErrorAt-1))
		b = append(b, `,"code":`...)
		b = jsonscan.AppendQuoteNoHTML(b, or(x.fault.Code, "server_error"))
		b = append(b, `,"message":`...)
		b = jsonscan.AppendQuoteNoHTML(b, or(x.fault.Message, "The server had an error while processing your request. Sorry about that!"))
		b = append(b, `,"param":null}`...)
		return frameNamed(nil, "error", b)
	case apiGemini:
		status := or(x.fault.Type, "UNAVAILABLE")
		_, msg := geminiStatus(http.StatusServiceUnavailable)
		data := x.appendGeminiError(nil, http.StatusServiceUnavailable, status, or(x.fault.Message, msg), 0)
		if x.sse {
			return frameData(nil, appendStyled(nil, data, styleColonSpace), "\r\n\r\n")
		}
		lead := ",\r\n"
		if x.fault.ErrorAt == 1 {
			lead = "["
		}
		b := append([]byte(lead), appendStyled(nil, data, styleIndent2)...)
		return append(b, ']')
	}
	return frameData(nil, x.openAIStreamError(), "\n\n")
}

// retryHeaders sets Retry-After (whole seconds, rounded up) and retry-after-ms.
func retryHeaders(h http.Header, d time.Duration) {
	if d <= 0 {
		return
	}
	h["Retry-After"] = []string{strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)}
	h["Retry-After-Ms"] = []string{strconv.FormatInt(d.Milliseconds(), 10)}
}

func statusText(status int) string {
	if status == StatusOverloaded {
		return "Overloaded"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "status code " + strconv.Itoa(status)
}

func appendNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return jsonscan.AppendQuoteNoHTML(b, s)
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
