package llmtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// ToolCall is a function call the fake answers with (see [WithToolCalls]).
type ToolCall struct {
	// Name is the function's name.
	Name string
	// Arguments is the call's arguments: a JSON object, "" meaning {}.
	// OpenAI's arguments string and Anthropic's input_json_delta fragments
	// carry it byte for byte; Anthropic's input and Gemini's args, which
	// are objects, carry it compacted.
	Arguments string
}

// WithToolCalls makes the fake call tools the way a model does: a chat
// completion, Anthropic message or Gemini request that offers tools (a
// non-empty "tools") gets these calls in its answer instead of the reply,
// after the [WithToolPreamble] text if any, unless its last turn carries
// tool results (OpenAI role "tool" messages, Anthropic tool_result blocks,
// Gemini functionResponse parts): that one gets the reply, as a model
// answers once its tools ran. So a test's first request gets the calls
// and its second, carrying their results, the text.
//
// The calls go out as each API sends them: OpenAI message.tool_calls
// (ids "call_...", content null without a preamble) and finish_reason
// "tool_calls"; Anthropic tool_use blocks (ids "toolu_...") and
// stop_reason "tool_use"; Gemini functionCall parts (no id) and
// finishReason "STOP". In streams, OpenAI announces each call (index, id,
// name, arguments "") and then sends its arguments in fragments; Anthropic
// sends a tool_use block per call, its input in input_json_delta fragments
// (the first one empty); Gemini sends all the calls whole in the last
// chunk. Each call adds (len(Name)+len(Arguments)+3)/4 output tokens. A
// reply cut at the request's max tokens carries no calls. Responses and
// embeddings requests ignore the option.
//
// WithToolCalls panics when an Arguments is not a JSON object.
func WithToolCalls(calls ...ToolCall) Option {
	prepared := prepareCalls(calls)
	return func(c *config) { c.toolCalls = prepared }
}

// WithToolCallsFunc computes the tool calls of each answer from its
// request (chat completions, Anthropic messages and Gemini requests
// only), in place of [WithToolCalls] and its rule: none (nil) means a
// text answer; calls are sent even when the request offers no tools. fn
// must be safe for concurrent use, and return Arguments that are JSON
// objects (the fake panics otherwise).
func WithToolCallsFunc(fn func(Request) []ToolCall) Option {
	return func(c *config) { c.toolCallsFunc = fn }
}

// WithToolPreamble sets the text an answer says before its tool calls,
// as Claude often does ("Let me check the weather."): OpenAI's content
// next to tool_calls, an Anthropic text block before the tool_use ones, a
// Gemini text part before the functionCall ones; streams send it word by
// word before the calls. By default tool calls come alone.
func WithToolPreamble(text string) Option { return func(c *config) { c.preamble = text } }

// WithThinking makes the fake a reasoning model that thinks text before
// it answers, shown or counted as each API does, where the request lets
// it think:
//
//   - Anthropic, when the request's thinking.type is "enabled" or
//     "adaptive": a thinking block first, with a signature (stream:
//     content_block_start, a thinking_delta per word, a signature_delta,
//     content_block_stop), then the text and tool_use blocks.
//   - Gemini, unless thinkingConfig.thinkingBudget is 0:
//     usageMetadata.thoughtsTokenCount, a thoughtSignature on the first
//     functionCall part and, with thinkingConfig.includeThoughts, thought
//     parts ({"text": ..., "thought": true}) first (a chunk per word in
//     streams).
//   - OpenAI chat and Responses, unless reasoning_effort (reasoning.effort)
//     is "none": completion_tokens_details.reasoning_tokens
//     (output_tokens_details.reasoning_tokens); the text itself is never
//     shown, as OpenAI shows none.
//
// The thinking counts one output token per word, reported as reasoning
// tokens. Anthropic signatures derive from the thinking text, so the fake
// can check the ones it is sent back (see the package documentation).
func WithThinking(text string) Option { return func(c *config) { c.thinking = text } }

// toolCall is a ToolCall ready to send.
type toolCall struct {
	name    string
	args    string // as given ("{}" for "")
	compact []byte // args compacted, for the formats that send an object
}

// prepareCalls checks and compacts calls' arguments; it panics on
// arguments that are not a JSON object, a mistake in the test.
func prepareCalls(calls []ToolCall) []toolCall {
	if len(calls) == 0 {
		return nil
	}
	out := make([]toolCall, len(calls))
	for i, c := range calls {
		args := c.Arguments
		if args == "" {
			args = "{}"
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(args)); err != nil || buf.Len() == 0 || buf.Bytes()[0] != '{' {
			panic(fmt.Sprintf("llmtest: the Arguments of ToolCall %q are not a JSON object: %q", c.Name, c.Arguments))
		}
		out[i] = toolCall{name: c.Name, args: args, compact: buf.Bytes()}
	}
	return out
}

// toolTokens is the output tokens calls count for.
func toolTokens(calls []toolCall) int64 {
	var n int64
	for _, c := range calls {
		n += int64(len(c.name)+len(c.args)+3) / 4
	}
	return n
}

// appendCallID appends the OpenAI id of call k: "call_" and 24 characters.
func (x *exchange) appendCallID(b []byte, k int) []byte {
	b = append(b, `"call_llmtest`...)
	b = appendPadded(b, x.seq, 15)
	b = appendPadded(b, uint64(k), 2)
	return append(b, '"')
}

// appendToolUseID appends the Anthropic id of call k: "toolu_01" and 22
// characters.
func (x *exchange) appendToolUseID(b []byte, k int) []byte {
	b = append(b, `"toolu_01llmtest`...)
	b = appendPadded(b, x.seq, 13)
	b = appendPadded(b, uint64(k), 2)
	return append(b, '"')
}

// thinkingSignature is the signature of a thinking text, for Anthropic's
// thinking blocks and Gemini's thoughtSignature: opaque base64, as theirs,
// and a function of the text alone, so that a signature sent back can be
// checked against the text it came with.
func thinkingSignature(thinking string) string {
	sum := sha256.Sum256([]byte("llmtest thinking\x00" + thinking))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// splitArgs splits a call's arguments into stream fragments the way a
// tokenizer might: runs of JSON punctuation and spaces (`{"`, `":"`,
// `"}`) alternate with runs of anything else (`location`, `Paris`).
// Joined, the fragments give args back; UTF-8 sequences are never split.
func splitArgs(args string) []string {
	var out []string
	start := 0
	for i := 1; i <= len(args); i++ {
		if i == len(args) || isArgPunct(args[i]) != isArgPunct(args[i-1]) {
			out = append(out, args[start:i])
			start = i
		}
	}
	return out
}

func isArgPunct(c byte) bool {
	switch c {
	case '{', '}', '[', ']', '"', ':', ',', ' ', '\n', '\t':
		return true
	}
	return false
}
