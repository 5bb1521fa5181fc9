package llmtest

import "github.com/aigateway-go/aigateway/internal/jsonscan"

func (x *exchange) appendMessageID(b []byte) []byte {
	b = append(b, `"msg_01llmtest`...)
	b = appendPadded(b, x.seq, 16)
	return append(b, '"')
}

func (x *exchange) stopReason() string {
	if x.truncated {
		return "max_tokens"
	}
	return "end_turn"
}

// appendAnthropicInput appends the input fields of an Anthropic usage
// object; input_tokens excludes the cached input.
func (x *exchange) appendAnthropicInput(b []byte) []byte {
	u := x.usage
	b = append(b, `"input_tokens":`...)
	b = appendInt(b, max(0, u.InputTokens-u.CacheReadTokens-u.CacheCreationTokens))
	b = append(b, `,"cache_creation_input_tokens":`...)
	b = appendInt(b, u.CacheCreationTokens)
	b = append(b, `,"cache_read_input_tokens":`...)
	return appendInt(b, u.CacheReadTokens)
}

// appendAnthropicUsage appends a full usage object with output tokens out.
func (x *exchange) appendAnthropicUsage(b []byte, out int64) []byte {
	u := x.usage
	b = append(b, '{')
	b = x.appendAnthropicInput(b)
	b = append(b, `,"cache_creation":{"ephemeral_5m_input_tokens":`...)
	b = appendInt(b, max(0, u.CacheCreationTokens-u.CacheCreation1hTokens))
	b = append(b, `,"ephemeral_1h_input_tokens":`...)
	b = appendInt(b, u.CacheCreation1hTokens)
	b = append(b, `},"output_tokens":`...)
	b = appendInt(b, out)
	return append(b, `,"service_tier":"standard"}`...)
}

// appendMessageHead appends a Message's fields up to its content.
func (x *exchange) appendMessageHead(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = x.appendMessageID(b)
	b = append(b, `,"type":"message","role":"assistant","model":`...)
	b = jsonscan.AppendQuoteNoHTML(b, x.rmodel)
	return append(b, `,"content":`...)
}

// message is a whole Message, compact as Anthropic sends it.
func (x *exchange) message() []byte {
	b := make([]byte, 0, 512+x.textLen())
	b = x.appendMessageHead(b)
	b = append(b, `[{"type":"text","text":`...)
	b = jsonscan.AppendQuoteNoHTML(b, x.text)
	b = append(b, `}],"stop_reason":"`...)
	b = append(b, x.stopReason()...)
	b = append(b, `","stop_sequence":null,"usage":`...)
	b = x.appendAnthropicUsage(b, x.usage.OutputTokens)
	return append(b, '}')
}

// messageEvents are the Messages stream: message_start (usage with the
// input and cache counts, output_tokens 1), content_block_start, ping, one
// content_block_delta per word, content_block_stop, message_delta (the
// cumulative output_tokens) and message_stop.
func (x *exchange) messageEvents() [][]byte {
	e := newEventBuilder(len(x.words)+6, 200)

	b := append(e.json(), `{"type":"message_start","message":`...)
	b = x.appendMessageHead(b)
	b = append(b, `[],"stop_reason":null,"stop_sequence":null,"usage":`...)
	b = x.appendAnthropicUsage(b, min(1, x.usage.OutputTokens))
	e.named("message_start", append(b, `}}`...))

	e.named("content_block_start", append(e.json(), `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`...))
	// Anthropic's pings carry a space after the colon.
	e.named("ping", append(e.json(), `{"type": "ping"}`...))

	for _, w := range x.words {
		b = append(e.json(), `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`...)
		b = jsonscan.AppendQuoteNoHTML(b, w)
		e.named("content_block_delta", append(b, `}}`...))
	}
	e.named("content_block_stop", append(e.json(), `{"type":"content_block_stop","index":0}`...))

	b = append(e.json(), `{"type":"message_delta","delta":{"stop_reason":"`...)
	b = append(b, x.stopReason()...)
	b = append(b, `","stop_sequence":null},"usage":{`...)
	b = x.appendAnthropicInput(b)
	b = append(b, `,"output_tokens":`...)
	b = appendInt(b, x.usage.OutputTokens)
	e.named("message_delta", append(b, `}}`...))

	e.named("message_stop", append(e.json(), `{"type":"message_stop"}`...))
	return e.events()
}
