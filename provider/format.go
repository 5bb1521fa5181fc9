package provider

import (
	"net/http"
	"strings"
)

// Format is the wire format a request speaks.
type Format uint8

// The wire formats Detect recognises.
const (
	FormatUnknown           Format = iota
	FormatOpenAIChat               // POST .../chat/completions
	FormatOpenAIResponses          // POST .../responses
	FormatOpenAIEmbeddings         // POST .../embeddings
	FormatAnthropicMessages        // POST .../v1/messages
	FormatGemini                   // POST .../models/{model}:generateContent | :streamGenerateContent
)

// String returns "unknown", "openai.chat", "openai.responses",
// "openai.embeddings", "anthropic.messages" or "gemini".
func (f Format) String() string {
	switch f {
	case FormatOpenAIChat:
		return "openai.chat"
	case FormatOpenAIResponses:
		return "openai.responses"
	case FormatOpenAIEmbeddings:
		return "openai.embeddings"
	case FormatAnthropicMessages:
		return "anthropic.messages"
	case FormatGemini:
		return "gemini"
	}
	return "unknown"
}

// Operation is the gen_ai.operation.name: "chat" (chat, responses, messages),
// "embeddings", "generate_content" (gemini); "" for FormatUnknown.
func (f Format) Operation() string {
	switch f {
	case FormatOpenAIChat, FormatOpenAIResponses, FormatAnthropicMessages:
		return "chat"
	case FormatOpenAIEmbeddings:
		return "embeddings"
	case FormatGemini:
		return "generate_content"
	}
	return ""
}

// Terminated reports whether streams of this format end with an explicit
// terminator event ([DONE], message_stop, response.completed ...). Gemini
// streams simply end, and embeddings never stream: both false.
func (f Format) Terminated() bool {
	switch f {
	case FormatOpenAIChat, FormatOpenAIResponses, FormatAnthropicMessages:
		return true
	}
	return false
}

// IsEventStream reports whether a response with header h is a Server-Sent
// Events stream (Content-Type text/event-stream, any parameters).
func IsEventStream(h http.Header) bool {
	const sse = "text/event-stream"
	ct := h.Get("Content-Type")
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
	ct := h.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	return !(strings.EqualFold(ct, "application/json") || hasSuffixFold(ct, "+json"))
}
