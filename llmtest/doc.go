// Package llmtest provides fake OpenAI, Anthropic and Gemini upstreams for
// tests and benchmarks, with scripted faults.
//
// The fake answers like the real APIs, byte for byte where clients care:
// the same JSON objects and field names, the same SSE framing, usage
// chunks, error bodies and headers, so that openai-go, anthropic-sdk-go
// and go-genai parse its answers as they parse the real ones. It routes
// by path:
//
//	.../chat/completions                   OpenAI chat completions (also Azure, compatible providers)
//	.../responses                          OpenAI Responses
//	.../embeddings                         OpenAI embeddings (float or base64)
//	.../messages                           Anthropic messages (requires anthropic-version and max_tokens)
//	.../models/{model}:generateContent     Gemini
//	.../models/{model}:streamGenerateContent[?alt=sse]
//
// Answers are deterministic: the reply text is [DefaultReply] unless
// [WithReply] says otherwise; the model echoes the requested one; ids
// count up with each request; timestamps come from a fixed clock; usage
// is computed from the request (input tokens = body bytes / 4 rounded up,
// output tokens = reply words, cut at the request's max tokens, which also
// cuts the reply and reports finish_reason "length", stop_reason
// "max_tokens", finishReason "MAX_TOKENS" or status "incomplete") unless
// [WithUsage] sets it.
//
// Streams send the reply word by word. The events of each format, which
// [Fault] counts, are:
//
//	OpenAI chat    role chunk, a chunk per word, finish chunk,
//	               usage chunk (only with stream_options.include_usage), data: [DONE]
//	Responses      response.created, response.in_progress, response.output_item.added,
//	               response.content_part.added, response.output_text.delta per word,
//	               response.output_text.done, response.content_part.done,
//	               response.output_item.done, response.completed (or response.incomplete)
//	Anthropic      message_start, content_block_start, ping, content_block_delta per word,
//	               content_block_stop, message_delta, message_stop
//	Gemini         a chunk per word (at least one); the last has finishReason and full
//	               usageMetadata. SSE events end with \r\n\r\n; no terminator.
//
// Faults are queued with [Fake.Push] (one per request) or set for every
// request with [Fake.Always]: provider-shaped error statuses, delays before
// the headers and between events, streams cut mid-way, errors after HTTP
// 200, malformed JSON, and a [Gate] that holds a stream until the test lets
// each event go.
//
// The same fake runs over a loopback socket ([NewServer]) or in memory
// ([NewTransport], an http.RoundTripper without sockets or goroutines, for
// unit tests and benchmarks). Both send the same bytes, count requests
// ([Fake.Count], [Fake.CountPath]) and capture them ([Fake.Requests],
// [Fake.LastRequest]).
package llmtest
