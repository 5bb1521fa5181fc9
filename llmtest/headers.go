package llmtest

import (
	"net/http"
	"strconv"
	"time"
)

// The headers each provider sends with every answer; the per-answer ones
// (ids, dates, remaining tokens) are added to a clone.
var (
	openAIHeader = http.Header{
		"Access-Control-Expose-Headers":  {"X-Request-ID"},
		"Openai-Organization":            {"org-llmtest"},
		"Openai-Processing-Ms":           {"1"},
		"Openai-Project":                 {"proj_llmtest"},
		"Openai-Version":                 {"2020-10-01"},
		"X-Ratelimit-Limit-Requests":     {"10000"},
		"X-Ratelimit-Limit-Tokens":       {"30000000"},
		"X-Ratelimit-Remaining-Requests": {"9999"},
		"X-Ratelimit-Reset-Requests":     {"6ms"},
		"X-Ratelimit-Reset-Tokens":       {"0s"},
	}
	anthropicHeader = http.Header{
		"Anthropic-Organization-Id":                   {"00000000-0000-4000-8000-000000000000"},
		"Anthropic-Ratelimit-Requests-Limit":          {"4000"},
		"Anthropic-Ratelimit-Requests-Remaining":      {"3999"},
		"Anthropic-Ratelimit-Tokens-Limit":            {"2400000"},
		"Anthropic-Ratelimit-Input-Tokens-Limit":      {"2000000"},
		"Anthropic-Ratelimit-Output-Tokens-Limit":     {"400000"},
		"Anthropic-Ratelimit-Output-Tokens-Remaining": {"400000"},
	}
	geminiHeader = http.Header{
		"Server":                 {"scaffolding on HTTPServer2"},
		"Server-Timing":          {"gfet4t7; dur=1"},
		"Vary":                   {"Origin", "X-Origin", "Referer"},
		"X-Content-Type-Options": {"nosniff"},
		"X-Frame-Options":        {"SAMEORIGIN"},
		"X-Xss-Protection":       {"0"},
	}
)

const (
	openAIRequestTokens    = 30000000
	anthropicTokens        = 2400000
	anthropicInputTokens   = 2000000
	contentTypeJSON        = "application/json"
	contentTypeJSONUTF8    = "application/json; charset=utf-8"
	contentTypeGeminiJSON  = "application/json; charset=UTF-8"
	contentTypeEventStream = "text/event-stream; charset=utf-8"
)

// successHeader is the header of a 200 answer.
func (x *exchange) successHeader() http.Header {
	stream := x.fields.stream
	var h http.Header
	switch x.api {
	case apiMessages:
		h = anthropicHeader.Clone()
		x.setAnthropicHeaders(h, false)
		h["Content-Type"] = []string{pick(stream, contentTypeEventStream, contentTypeJSON)}
		if stream {
			h["Cache-Control"] = []string{"no-cache"}
		}
	case apiGemini:
		h = geminiHeader.Clone()
		ct := contentTypeGeminiJSON
		if stream && x.sse {
			ct = "text/event-stream"
		}
		h["Content-Type"] = []string{ct}
	default:
		h = openAIHeader.Clone()
		x.setOpenAIHeaders(h, false)
		h["Content-Type"] = []string{pick(stream, contentTypeEventStream, contentTypeJSON)}
	}
	h["Date"] = []string{x.now.UTC().Format(http.TimeFormat)}
	return h
}

// errorHeader is the header of an error answer.
func (x *exchange) errorHeader(status int, e errorSpec) http.Header {
	limited := status == http.StatusTooManyRequests
	var h http.Header
	switch x.api {
	case apiMessages:
		h = anthropicHeader.Clone()
		x.setAnthropicHeaders(h, limited)
		h["Content-Type"] = []string{contentTypeJSON}
	case apiGemini:
		h = geminiHeader.Clone()
		h["Content-Type"] = []string{contentTypeGeminiJSON}
	default:
		h = openAIHeader.Clone()
		x.setOpenAIHeaders(h, limited)
		if limited && e.retryAfter > 0 {
			h["X-Ratelimit-Reset-Requests"] = []string{e.retryAfter.String()}
		}
		h["Content-Type"] = []string{contentTypeJSONUTF8}
	}
	h["Date"] = []string{x.now.UTC().Format(http.TimeFormat)}
	retryHeaders(h, e.retryAfter)
	return h
}

func (x *exchange) setOpenAIHeaders(h http.Header, limited bool) {
	h["X-Request-Id"] = []string{string(x.appendOpenAIRequestID(nil))}
	if limited {
		h["X-Ratelimit-Remaining-Requests"] = []string{"0"}
		h["X-Ratelimit-Remaining-Tokens"] = []string{"0"}
		return
	}
	h["X-Ratelimit-Remaining-Tokens"] = []string{strconv.FormatInt(max(0, openAIRequestTokens-x.usage.InputTokens), 10)}
}

func (x *exchange) setAnthropicHeaders(h http.Header, limited bool) {
	id := x.appendAnthropicRequestID(nil)
	h["Request-Id"] = []string{string(id[1 : len(id)-1])}
	reset := x.now.Add(time.Second).UTC().Format(time.RFC3339)
	h["Anthropic-Ratelimit-Requests-Reset"] = []string{reset}
	h["Anthropic-Ratelimit-Tokens-Reset"] = []string{reset}
	h["Anthropic-Ratelimit-Input-Tokens-Reset"] = []string{reset}
	h["Anthropic-Ratelimit-Output-Tokens-Reset"] = []string{reset}
	if limited {
		h["Anthropic-Ratelimit-Requests-Remaining"] = []string{"0"}
		h["Anthropic-Ratelimit-Tokens-Remaining"] = []string{"0"}
		h["Anthropic-Ratelimit-Input-Tokens-Remaining"] = []string{"0"}
		return
	}
	in := x.usage.InputTokens
	h["Anthropic-Ratelimit-Tokens-Remaining"] = []string{strconv.FormatInt(max(0, anthropicTokens-in), 10)}
	h["Anthropic-Ratelimit-Input-Tokens-Remaining"] = []string{strconv.FormatInt(max(0, anthropicInputTokens-in), 10)}
}

// Ids derive from the request's sequence number, so that they repeat from
// one run to the next and tell answers apart.

func (x *exchange) appendOpenAIRequestID(b []byte) []byte {
	b = append(b, "req_"...)
	return appendHexPadded(b, x.seq, 32)
}

// appendAnthropicRequestID appends the request id as a JSON string.
func (x *exchange) appendAnthropicRequestID(b []byte) []byte {
	b = append(b, `"req_011Cllmtest`...)
	b = appendPadded(b, x.seq, 12)
	return append(b, '"')
}

func appendHexPadded(b []byte, n uint64, width int) []byte {
	var tmp [16]byte
	d := strconv.AppendUint(tmp[:0], n, 16)
	for i := len(d); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, d...)
}

func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}
