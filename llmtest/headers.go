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

// headerBuilder fills a copy of a provider's header template: one map
// sized for the final header and one slab for every value, instead of
// the map growth and per-value allocations of Clone then Set.
type headerBuilder struct {
	h    http.Header
	vals []string
}

// maxExtraHeaders bounds the headers set on top of a template.
const maxExtraHeaders = 12

func newHeaderBuilder(tmpl http.Header) headerBuilder {
	n := 0
	for _, v := range tmpl {
		n += len(v)
	}
	b := headerBuilder{
		h:    make(http.Header, len(tmpl)+maxExtraHeaders),
		vals: make([]string, n+maxExtraHeaders),
	}
	for k, v := range tmpl {
		n := copy(b.vals, v)
		b.h[k] = b.vals[:n:n]
		b.vals = b.vals[n:]
	}
	return b
}

// set sets the canonical key k to the single value v.
func (b *headerBuilder) set(k, v string) {
	if len(b.vals) == 0 {
		b.h[k] = []string{v}
		return
	}
	b.vals[0] = v
	b.h[k] = b.vals[:1:1]
	b.vals = b.vals[1:]
}

// successHeader is the header of a 200 answer.
func (x *exchange) successHeader() http.Header {
	stream := x.fields.stream
	var b headerBuilder
	switch x.api {
	case apiMessages:
		b = newHeaderBuilder(anthropicHeader)
		x.setAnthropicHeaders(&b, false)
		b.set("Content-Type", pick(stream, contentTypeEventStream, contentTypeJSON))
		if stream {
			b.set("Cache-Control", "no-cache")
		}
	case apiGemini:
		b = newHeaderBuilder(geminiHeader)
		ct := contentTypeGeminiJSON
		if stream && x.sse {
			ct = "text/event-stream"
		}
		b.set("Content-Type", ct)
	default:
		b = newHeaderBuilder(openAIHeader)
		x.setOpenAIHeaders(&b, false)
		b.set("Content-Type", pick(stream, contentTypeEventStream, contentTypeJSON))
	}
	b.set("Date", x.date)
	return b.h
}

// errorHeader is the header of an error answer.
func (x *exchange) errorHeader(status int, e errorSpec) http.Header {
	limited := status == http.StatusTooManyRequests
	var b headerBuilder
	switch x.api {
	case apiMessages:
		b = newHeaderBuilder(anthropicHeader)
		x.setAnthropicHeaders(&b, limited)
		b.set("Content-Type", contentTypeJSON)
	case apiGemini:
		b = newHeaderBuilder(geminiHeader)
		b.set("Content-Type", contentTypeGeminiJSON)
	default:
		b = newHeaderBuilder(openAIHeader)
		x.setOpenAIHeaders(&b, limited)
		if limited && e.retryAfter > 0 {
			b.set("X-Ratelimit-Reset-Requests", e.retryAfter.String())
		}
		b.set("Content-Type", contentTypeJSONUTF8)
	}
	b.set("Date", x.date)
	retryHeaders(b.h, e.retryAfter)
	return b.h
}

func (x *exchange) setOpenAIHeaders(b *headerBuilder, limited bool) {
	var id [4 + 32]byte
	b.set("X-Request-Id", string(x.appendOpenAIRequestID(id[:0])))
	if limited {
		b.set("X-Ratelimit-Remaining-Requests", "0")
		b.set("X-Ratelimit-Remaining-Tokens", "0")
		return
	}
	b.set("X-Ratelimit-Remaining-Tokens", strconv.FormatInt(max(0, openAIRequestTokens-x.usage.InputTokens), 10))
}

func (x *exchange) setAnthropicHeaders(b *headerBuilder, limited bool) {
	var buf [40]byte
	id := x.appendAnthropicRequestID(buf[:0])
	b.set("Request-Id", string(id[1:len(id)-1]))
	reset := x.now.Add(time.Second).UTC().Format(time.RFC3339)
	b.set("Anthropic-Ratelimit-Requests-Reset", reset)
	b.set("Anthropic-Ratelimit-Tokens-Reset", reset)
	b.set("Anthropic-Ratelimit-Input-Tokens-Reset", reset)
	b.set("Anthropic-Ratelimit-Output-Tokens-Reset", reset)
	if limited {
		b.set("Anthropic-Ratelimit-Requests-Remaining", "0")
		b.set("Anthropic-Ratelimit-Tokens-Remaining", "0")
		b.set("Anthropic-Ratelimit-Input-Tokens-Remaining", "0")
		return
	}
	in := x.usage.InputTokens
	b.set("Anthropic-Ratelimit-Tokens-Remaining", strconv.FormatInt(max(0, anthropicTokens-in), 10))
	b.set("Anthropic-Ratelimit-Input-Tokens-Remaining", strconv.FormatInt(max(0, anthropicInputTokens-in), 10))
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
