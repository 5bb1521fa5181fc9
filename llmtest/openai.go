package llmtest

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"strconv"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
)

const systemFingerprint = `"fp_llmtest01"`

func (x *exchange) appendChatID(b []byte) []byte {
	b = append(b, `"chatcmpl-llmtest`...)
	b = appendPadded(b, x.seq, 22)
	return append(b, '"')
}

func (x *exchange) finishReason() string {
	switch {
	case x.truncated:
		return "length"
	case len(x.calls) > 0:
		return "tool_calls"
	}
	return "stop"
}

// appendChatUsage appends a chat completion's usage object.
func (x *exchange) appendChatUsage(b []byte) []byte {
	u := x.usage
	b = append(b, `{"prompt_tokens":`...)
	b = appendInt(b, u.InputTokens)
	b = append(b, `,"completion_tokens":`...)
	b = appendInt(b, u.OutputTokens)
	b = append(b, `,"total_tokens":`...)
	b = appendInt(b, u.InputTokens+u.OutputTokens)
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
	b = appendInt(b, u.CacheReadTokens)
	b = append(b, `,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":`...)
	b = appendInt(b, u.ReasoningTokens)
	return append(b, `,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`...)
}

// chatCompletion is a chat.completion object, two-space indented like
// OpenAI's own bodies.
func (x *exchange) chatCompletion() []byte {
	return styled(styleIndent2, x.appendChatCompletion)
}

func (x *exchange) appendChatCompletion(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = x.appendChatID(b)
	b = append(b, `,"object":"chat.completion","created":`...)
	b = appendInt(b, x.now.Unix())
	b = append(b, `,"model":`...)
	b = jsonscan.AppendQuoteNoHTML(b, x.rmodel)
	b = append(b, `,"choices":[{"index":0,"message":{"role":"assistant","content":`...)
	if x.hasText() {
		b = jsonscan.AppendQuoteNoHTML(b, x.text)
	} else {
		b = append(b, "null"...)
	}
	if len(x.calls) > 0 {
		b = append(b, `,"tool_calls":[`...)
		for k, c := range x.calls {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			b = x.appendCallID(b, k)
			b = append(b, `,"type":"function","function":{"name":`...)
			b = jsonscan.AppendQuoteNoHTML(b, c.name)
			b = append(b, `,"arguments":`...)
			b = jsonscan.AppendQuoteNoHTML(b, c.args)
			b = append(b, `}}`...)
		}
		b = append(b, ']')
	}
	b = append(b, `,"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"`...)
	b = append(b, x.finishReason()...)
	b = append(b, `"}],"usage":`...)
	b = x.appendChatUsage(b)
	b = append(b, `,"service_tier":"default","system_fingerprint":`...)
	b = append(b, systemFingerprint...)
	return append(b, '}')
}

// chatChunks are the chat.completion.chunk events: the role chunk, one
// chunk per word, the finish chunk, the usage chunk when the request asked
// for it (stream_options.include_usage), then [DONE]. With include_usage
// every other chunk carries "usage":null; without it, no usage key at all.
//
// Tool calls come after the words, one after another: a chunk announcing
// the call (index, id, type, name, arguments ""), then a chunk per
// fragment of its arguments. Without a preamble there is no role chunk:
// the first call's chunk carries the role, content null, as OpenAI sends it.
func (x *exchange) chatChunks() [][]byte {
	n := len(x.words) + 4
	for _, c := range x.calls {
		n += 1 + len(c.args)/4
	}
	e := newEventBuilder(n, 300)
	head := func(b []byte) []byte {
		b = append(b, `{"id":`...)
		b = x.appendChatID(b)
		b = append(b, `,"object":"chat.completion.chunk","created":`...)
		b = appendInt(b, x.now.Unix())
		b = append(b, `,"model":`...)
		b = jsonscan.AppendQuoteNoHTML(b, x.rmodel)
		b = append(b, `,"service_tier":"default","system_fingerprint":`...)
		b = append(b, systemFingerprint...)
		return append(b, `,"choices":[`...)
	}
	tail := func(b []byte) []byte {
		if x.fields.includeUsage {
			return append(b, `],"usage":null}`...)
		}
		return append(b, `]}`...)
	}

	var b []byte
	if x.hasText() {
		b = head(e.json())
		b = append(b, `{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}`...)
		e.data(tail(b), "\n\n")
		for _, w := range x.words {
			b = head(e.json())
			b = append(b, `{"index":0,"delta":{"content":`...)
			b = jsonscan.AppendQuoteNoHTML(b, w)
			b = append(b, `},"logprobs":null,"finish_reason":null}`...)
			e.data(tail(b), "\n\n")
		}
	}
	for k, c := range x.calls {
		first := k == 0 && !x.hasText()
		b = head(e.json())
		b = append(b, `{"index":0,"delta":{`...)
		if first {
			b = append(b, `"role":"assistant","content":null,`...)
		}
		b = append(b, `"tool_calls":[{"index":`...)
		b = appendInt(b, int64(k))
		b = append(b, `,"id":`...)
		b = x.appendCallID(b, k)
		b = append(b, `,"type":"function","function":{"name":`...)
		b = jsonscan.AppendQuoteNoHTML(b, c.name)
		b = append(b, `,"arguments":""}}]`...)
		if first {
			b = append(b, `,"refusal":null`...)
		}
		b = append(b, `},"logprobs":null,"finish_reason":null}`...)
		e.data(tail(b), "\n\n")
		for _, frag := range splitArgs(c.args) {
			b = head(e.json())
			b = append(b, `{"index":0,"delta":{"tool_calls":[{"index":`...)
			b = appendInt(b, int64(k))
			b = append(b, `,"function":{"arguments":`...)
			b = jsonscan.AppendQuoteNoHTML(b, frag)
			b = append(b, `}}]},"logprobs":null,"finish_reason":null}`...)
			e.data(tail(b), "\n\n")
		}
	}
	b = head(e.json())
	b = append(b, `{"index":0,"delta":{},"logprobs":null,"finish_reason":"`...)
	b = append(b, x.finishReason()...)
	b = append(b, `"}`...)
	e.data(tail(b), "\n\n")
	if x.fields.includeUsage {
		b = head(e.json())
		b = append(b, `],"usage":`...)
		b = x.appendChatUsage(b)
		e.data(append(b, '}'), "\n\n")
	}
	e.raw([]byte("data: [DONE]\n\n"))
	return e.events()
}

func (x *exchange) appendResponseID(b []byte) []byte {
	b = append(b, `"resp_llmtest`...)
	b = appendPadded(b, x.seq, 36)
	return append(b, '"')
}

func (x *exchange) appendItemID(b []byte) []byte {
	b = append(b, `"msg_llmtest`...)
	b = appendPadded(b, x.seq, 36)
	return append(b, '"')
}

func (x *exchange) responseStatus() string {
	if x.truncated {
		return "incomplete"
	}
	return "completed"
}

// appendOutputItem appends the one message output item, in its final
// state (done) or as first announced.
func (x *exchange) appendOutputItem(b []byte, done bool) []byte {
	b = append(b, `{"id":`...)
	b = x.appendItemID(b)
	if !done {
		return append(b, `,"type":"message","status":"in_progress","content":[],"role":"assistant"}`...)
	}
	b = append(b, `,"type":"message","status":"`...)
	b = append(b, x.responseStatus()...)
	b = append(b, `","content":[`...)
	b = x.appendOutputText(b, x.text)
	return append(b, `],"role":"assistant"}`...)
}

func (x *exchange) appendOutputText(b []byte, text string) []byte {
	b = append(b, `{"type":"output_text","annotations":[],"logprobs":[],"text":`...)
	b = jsonscan.AppendQuoteNoHTML(b, text)
	return append(b, '}')
}

// appendResponse appends a Responses API response object: in progress
// (no output, usage null) or final.
func (x *exchange) appendResponse(b []byte, final bool) []byte {
	status := "in_progress"
	if final {
		status = x.responseStatus()
	}
	b = append(b, `{"id":`...)
	b = x.appendResponseID(b)
	b = append(b, `,"object":"response","created_at":`...)
	b = appendInt(b, x.now.Unix())
	b = append(b, `,"status":"`...)
	b = append(b, status...)
	b = append(b, `","background":false,"error":null,"incomplete_details":`...)
	if final && x.truncated {
		b = append(b, `{"reason":"max_output_tokens"}`...)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"instructions":null,"max_output_tokens":`...)
	if x.fields.hasMaxTokens {
		b = appendInt(b, x.fields.maxTokens)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"max_tool_calls":null,"model":`...)
	b = jsonscan.AppendQuoteNoHTML(b, x.rmodel)
	b = append(b, `,"output":[`...)
	if final {
		b = x.appendOutputItem(b, true)
	}
	b = append(b, `],"parallel_tool_calls":true,"previous_response_id":null,"prompt_cache_key":null,"reasoning":{"effort":null,"summary":null},"safety_identifier":null,"service_tier":"default","store":true,"temperature":1.0,"text":{"format":{"type":"text"},"verbosity":"medium"},"tool_choice":"auto","tools":[],"top_logprobs":0,"top_p":1.0,"truncation":"disabled","usage":`...)
	if final {
		u := x.usage
		b = append(b, `{"input_tokens":`...)
		b = appendInt(b, u.InputTokens)
		b = append(b, `,"input_tokens_details":{"cached_tokens":`...)
		b = appendInt(b, u.CacheReadTokens)
		b = append(b, `},"output_tokens":`...)
		b = appendInt(b, u.OutputTokens)
		b = append(b, `,"output_tokens_details":{"reasoning_tokens":`...)
		b = appendInt(b, u.ReasoningTokens)
		b = append(b, `},"total_tokens":`...)
		b = appendInt(b, u.InputTokens+u.OutputTokens)
		b = append(b, '}')
	} else {
		b = append(b, "null"...)
	}
	return append(b, `,"user":null,"metadata":{}}`...)
}

// responseBody is a whole Responses API response, two-space indented.
func (x *exchange) responseBody() []byte {
	return styled(styleIndent2, func(b []byte) []byte { return x.appendResponse(b, true) })
}

// responseEvents are the Responses API stream: response.created,
// response.in_progress, response.output_item.added,
// response.content_part.added, one response.output_text.delta per word,
// response.output_text.done, response.content_part.done,
// response.output_item.done, then response.completed (or
// response.incomplete when max_output_tokens cut the reply).
func (x *exchange) responseEvents() [][]byte {
	n := len(x.words) + 8
	e := newEventBuilder(n, 400)
	seq := int64(0)
	start := func(typ string) []byte {
		b := e.json()
		b = append(b, `{"type":"`...)
		b = append(b, typ...)
		b = append(b, `","sequence_number":`...)
		b = appendInt(b, seq)
		seq++
		return b
	}
	part := func(b []byte) []byte {
		b = append(b, `,"item_id":`...)
		b = x.appendItemID(b)
		return append(b, `,"output_index":0,"content_index":0`...)
	}

	for _, typ := range [...]string{"response.created", "response.in_progress"} {
		b := start(typ)
		b = append(b, `,"response":`...)
		b = x.appendResponse(b, false)
		e.named(typ, append(b, '}'))
	}
	b := start("response.output_item.added")
	b = append(b, `,"output_index":0,"item":`...)
	b = x.appendOutputItem(b, false)
	e.named("response.output_item.added", append(b, '}'))

	b = part(start("response.content_part.added"))
	b = append(b, `,"part":`...)
	b = x.appendOutputText(b, "")
	e.named("response.content_part.added", append(b, '}'))

	for _, w := range x.words {
		b = part(start("response.output_text.delta"))
		b = append(b, `,"delta":`...)
		b = jsonscan.AppendQuoteNoHTML(b, w)
		e.named("response.output_text.delta", append(b, `,"logprobs":[]}`...))
	}

	b = part(start("response.output_text.done"))
	b = append(b, `,"text":`...)
	b = jsonscan.AppendQuoteNoHTML(b, x.text)
	e.named("response.output_text.done", append(b, `,"logprobs":[]}`...))

	b = part(start("response.content_part.done"))
	b = append(b, `,"part":`...)
	b = x.appendOutputText(b, x.text)
	e.named("response.content_part.done", append(b, '}'))

	b = start("response.output_item.done")
	b = append(b, `,"output_index":0,"item":`...)
	b = x.appendOutputItem(b, true)
	e.named("response.output_item.done", append(b, '}'))

	final := "response.completed"
	if x.truncated {
		final = "response.incomplete"
	}
	b = start(final)
	b = append(b, `,"response":`...)
	b = x.appendResponse(b, true)
	e.named(final, append(b, '}'))
	return e.events()
}

// embeddings is an embeddings list: one vector per input, deterministic
// in the input's text, as floats or (encoding_format base64) as base64 of
// little-endian float32s. Two-space indented like OpenAI's bodies.
func (x *exchange) embeddings() []byte {
	return styled(styleIndent2, x.appendEmbeddings)
}

func (x *exchange) appendEmbeddings(b []byte) []byte {
	dims := int(x.fields.dimensions)
	if dims <= 0 {
		dims = DefaultEmbeddingDimensions
	}
	b = append(b, `{"object":"list","data":[`...)
	vec := make([]float32, dims)
	var raw []byte
	for i, in := range x.fields.inputs {
		if i > 0 {
			b = append(b, ',')
		}
		vector(vec, in)
		b = append(b, `{"object":"embedding","index":`...)
		b = appendInt(b, int64(i))
		b = append(b, `,"embedding":`...)
		if x.fields.base64 {
			raw = raw[:0]
			for _, v := range vec {
				raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
			}
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, raw)
			b = append(b, '"')
		} else {
			b = append(b, '[')
			for j, v := range vec {
				if j > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendFloat(b, float64(v), 'f', -1, 32)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	b = append(b, `],"model":`...)
	b = jsonscan.AppendQuoteNoHTML(b, x.rmodel)
	b = append(b, `,"usage":{"prompt_tokens":`...)
	b = appendInt(b, x.usage.InputTokens)
	b = append(b, `,"total_tokens":`...)
	b = appendInt(b, x.usage.InputTokens)
	return append(b, `}}`...)
}

// vector fills v with values in (-0.1, 0.1) derived from seed.
func vector(v []float32, seed []byte) {
	s := uint64(14695981039346656037) // FNV-1a
	for _, c := range seed {
		s ^= uint64(c)
		s *= 1099511628211
	}
	s |= 1
	for i := range v {
		// xorshift64*
		s ^= s >> 12
		s ^= s << 25
		s ^= s >> 27
		r := s * 2685821657736338717
		v[i] = float32(int64(r>>40)-(1<<23)) / float32(1<<23) / 10
	}
}
