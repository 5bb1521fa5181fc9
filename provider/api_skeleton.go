package provider

// THIS FILE IS THE CONTRACT the root package is written against. The helper
// implementing provider/ moves each declaration into its proper file
// (format.go, presets.go, request.go, usage.go, scan.go, errors.go ...),
// keeps every exported name and signature below, and deletes this file.

import (
	"net/http"
	"net/url"
	"time"
)

// Format is the wire format a request speaks.
type Format uint8

const (
	FormatUnknown           Format = iota
	FormatOpenAIChat               // POST .../chat/completions
	FormatOpenAIResponses          // POST .../responses
	FormatOpenAIEmbeddings         // POST .../embeddings
	FormatAnthropicMessages        // POST .../v1/messages
	FormatGemini                   // POST .../models/{model}:generateContent | :streamGenerateContent
)

// String: "unknown", "openai.chat", "openai.responses", "openai.embeddings", "anthropic.messages", "gemini".
func (f Format) String() string { panic("unimplemented") }

// Operation is the gen_ai.operation.name: "chat" (chat, responses, messages),
// "embeddings", "generate_content" (gemini); "" for FormatUnknown.
func (f Format) Operation() string { panic("unimplemented") }

// Terminated reports whether streams of this format end with an explicit
// terminator event ([DONE], message_stop, response.completed ...). Gemini: false.
func (f Format) Terminated() bool { panic("unimplemented") }

// AuthStyle is how a provider takes its API key.
type AuthStyle uint8

const (
	AuthBearer       AuthStyle = iota // Authorization: Bearer KEY
	AuthAPIKeyHeader                  // api-key: KEY (Azure OpenAI)
	AuthXAPIKey                       // x-api-key: KEY (Anthropic)
	AuthGoogAPIKey                    // x-goog-api-key: KEY (Gemini)
)

// Provider is an immutable description of one LLM provider endpoint.
type Provider struct {
	name        string // OpenTelemetry gen_ai.provider.name
	baseURL     string
	auth        AuthStyle
	family      Format // the native format family: FormatOpenAIChat for OpenAI-compatible, FormatAnthropicMessages, FormatGemini
	streamUsage bool   // accepts stream_options.include_usage
	apiVersion  string // Azure api-version, "" for none
}

func (p Provider) Name() string       { return p.name }
func (p Provider) BaseURL() string    { return p.baseURL }
func (p Provider) Auth() AuthStyle    { return p.auth }
func (p Provider) StreamUsage() bool  { return p.streamUsage }
func (p Provider) APIVersion() string { return p.apiVersion }
func (p Provider) IsZero() bool       { return p.name == "" }

// Presets (see WIRE.md for base URLs; names are gen_ai.provider.name values):
// OpenAI "openai", Anthropic "anthropic", Gemini "gcp.gemini", Groq "groq",
// Mistral "mistral_ai", DeepSeek "deepseek", Together "together",
// OpenRouter "openrouter", XAI "x_ai", Fireworks "fireworks", Ollama "ollama".
var OpenAI, Anthropic, Gemini, Groq, Mistral, DeepSeek, Together, OpenRouter, XAI, Fireworks, Ollama Provider

// AzureOpenAI is the preset for one Azure OpenAI resource, name "azure.ai.openai".
func AzureOpenAI(resource, apiVersion string) Provider { panic("unimplemented") }

// OpenAICompatible describes any other OpenAI-compatible endpoint.
func OpenAICompatible(name, baseURL string) Provider { panic("unimplemented") }

// ByName returns the preset with that gen_ai.provider.name.
func ByName(name string) (Provider, bool) { panic("unimplemented") }

// Detect recognises the provider and wire format of a request: from the host
// when it is a known provider's, else from the path (a fake on 127.0.0.1
// speaking OpenAI chat is OpenAI). Only POST requests are recognised.
func Detect(method string, u *url.URL) (Provider, Format) { panic("unimplemented") }

// Request holds the facts read from a request body (and, for Gemini, the path).
type Request struct {
	Model        string
	Stream       bool
	MaxTokens    int64 // max_tokens | max_completion_tokens | max_output_tokens | generationConfig.maxOutputTokens; 0 if absent
	IncludeUsage bool  // stream_options.include_usage is true
}

// ParseRequest reads the request facts without encoding/json. It returns an
// error when body is not a JSON object.
func ParseRequest(f Format, u *url.URL, body []byte) (Request, error) { panic("unimplemented") }

// WithStreamUsage returns body with stream_options.include_usage set to true
// (other stream_options members kept), as a new slice; body is not modified.
func WithStreamUsage(body []byte) ([]byte, error) { panic("unimplemented") }

// Usage is normalised across providers: InputTokens INCLUDES cached input,
// OutputTokens INCLUDES reasoning (see WIRE.md).
type Usage struct {
	InputTokens           int64 `json:"input_tokens"`
	OutputTokens          int64 `json:"output_tokens"`
	CacheReadTokens       int64 `json:"cache_read_tokens,omitempty"`
	CacheCreationTokens   int64 `json:"cache_creation_tokens,omitempty"`
	CacheCreation1hTokens int64 `json:"cache_creation_1h_tokens,omitempty"`
	ReasoningTokens       int64 `json:"reasoning_tokens,omitempty"`
}

// Add returns the field-wise sum.
func (u Usage) Add(v Usage) Usage { panic("unimplemented") }

// Error is a provider's error, parsed from an error body or a mid-stream error event.
type Error struct {
	Status  int    // HTTP status; 0 for a mid-stream error after 200
	Type    string // OpenAI error.type, Anthropic error.type, Gemini error.status
	Code    string // OpenAI error.code, Anthropic error.details.error_code
	Message string
}

func (e *Error) Error() string { panic("unimplemented") }

// ResponseScanner extracts usage, response model, terminator and errors from
// the bytes of one upstream response as they pass by. The zero value is not
// ready; call Reset. No allocation per SSE event.
type ResponseScanner struct {
	// implementation-defined
}

// Reset prepares s for a response of format f; stream says the body is SSE
// (Content-Type text/event-stream), else JSON. status is the HTTP status.
func (s *ResponseScanner) Reset(f Format, stream bool, status int) { panic("unimplemented") }

// Write feeds the next bytes of the body. It never fails.
func (s *ResponseScanner) Write(p []byte) (int, error) { panic("unimplemented") }

// Finish is called at EOF: a final event without a trailing blank line counts.
func (s *ResponseScanner) Finish() { panic("unimplemented") }

// Usage returns the usage seen so far (last non-null wins; Anthropic
// cumulative rules; Gemini last-with-counts) and whether any was seen.
func (s *ResponseScanner) Usage() (Usage, bool) { panic("unimplemented") }

// Model returns the model the response reports ("" if none seen).
func (s *ResponseScanner) Model() string { panic("unimplemented") }

// Terminated reports whether the stream's terminator has been seen.
func (s *ResponseScanner) Terminated() bool { panic("unimplemented") }

// Err returns the provider error seen: an error body (status >= 400) or a
// mid-stream error event; nil if none.
func (s *ResponseScanner) Err() *Error { panic("unimplemented") }

// EventKind classifies one SSE event of a client-facing stream.
type EventKind uint8

const (
	EventOther      EventKind = iota // comments, pings, retry:
	EventChunk                       // a content-bearing data event
	EventUsageOnly                   // OpenAI chat chunk with "choices":[] and a non-null usage
	EventTerminator                  // [DONE], message_stop, response.completed|incomplete|failed
	EventError                       // a mid-stream error event
)

// ClassifyEvent tells what one SSE event (its event: name and joined data) is,
// for format f, without allocating.
func ClassifyEvent(f Format, name, data []byte) EventKind { panic("unimplemented") }

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
func NewErrorResponse(req *http.Request, f Format, e ErrorSpec) *http.Response {
	panic("unimplemented")
}
