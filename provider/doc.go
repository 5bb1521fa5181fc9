// Package provider knows the wire formats the gateway speaks: which API a
// request is for (Detect), the few request fields the stack needs
// (ParseRequest), how to ask an upstream for stream usage (WithStreamUsage),
// the usage, model and errors in a response as its bytes pass by
// (ResponseScanner, ClassifyEvent), how to answer in a provider's own error
// shape (NewErrorResponse), and the presets for the providers it knows
// (OpenAI, Azure OpenAI, Anthropic, Gemini and the OpenAI-compatible ones).
//
// It sits below every layer of the stack: the root package prepares a Call
// with Detect and ParseRequest, and scans each upstream response with a
// ResponseScanner. Nothing here uses encoding/json on the hot path: request
// and response bodies are read by internal/jsonscan, SSE streams are split by
// internal/sse, and scanning a stream allocates nothing per event.
//
// Usage is normalised across providers so that InputTokens includes cached
// input and OutputTokens includes reasoning, whatever the provider reports.
//
// All values here are immutable or owned by one goroutine (ResponseScanner);
// functions are safe for concurrent use.
package provider
