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
// "max_tokens", finishReason "MAX_TOKENS" or status "incomplete"; plus
// the tool calls' and the thinking's tokens, if any) unless [WithUsage]
// sets it.
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
// Tool calls and thinking, when an answer has them, add their own events
// as the real APIs send them: OpenAI a chunk announcing each call and a
// chunk per fragment of its arguments (after the words; without text they
// replace the role chunk), Anthropic a block per call and a thinking block
// first, Gemini a chunk per thought word first and one chunk with all the
// calls last. [WithToolCalls], [WithToolCallsFunc] and [WithToolPreamble]
// make the fake call tools; [WithThinking] makes it think. Requests that
// carry tool results are answered with the reply.
//
// A chat request is checked as its provider checks it where a translation
// between formats can go wrong, and answered with the provider's own 400:
// OpenAI tool messages must answer, by tool_call_id, every call of the
// assistant message before them; Anthropic tool_result blocks must answer
// every tool_use of the message before them, thinking blocks must keep
// the signature the fake gave them, a thinking request that ends with
// tool results must keep the thinking block first in the assistant
// message that called the tools, and thinking.budget_tokens must be at
// least 1024 and below max_tokens; Gemini functionResponse parts must
// name their function and follow a turn of as many functionCall parts.
// The captured [Request] keeps the body as sent, for tests to check what
// the fake saw.
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
