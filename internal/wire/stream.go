package wire

import (
	"net/http"
	"strings"
)

// IsEventStream reports whether a response with header h is a Server-Sent
// Events stream (Content-Type text/event-stream, any parameters).
func IsEventStream(h http.Header) bool {
	const sse = "text/event-stream"
	ct := contentType(h)
	return len(ct) >= len(sse) && strings.EqualFold(ct[:len(sse)], sse)
}

// IsStreamAnswer reports whether a 2xx response with header h, to a request
// that asked to stream or not (requested), is a Server-Sent Events stream:
// labelled text/event-stream, or, when the request asked to stream,
// labelled anything but JSON. The SDKs read a streamed answer as SSE
// whatever its Content-Type (openai-go and anthropic-sdk-go decode event
// streams by default), and proxies label them text/plain or not at all;
// Gemini's streamGenerateContent without alt=sse answers a JSON array,
// labelled as JSON.
func IsStreamAnswer(requested bool, h http.Header) bool {
	if IsEventStream(h) {
		return true
	}
	if !requested {
		return false
	}
	ct := contentType(h)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	return !(strings.EqualFold(ct, "application/json") || hasSuffixFold(ct, "+json"))
}

// contentType is h.Get("Content-Type"), without canonicalizing a name that
// is canonical already: Get finds a key written otherwise no better.
func contentType(h http.Header) string {
	if vs := h["Content-Type"]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}
