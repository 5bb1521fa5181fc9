package llmtest

import "github.com/aigateway-go/aigateway/internal/jsonscan"

func (x *exchange) appendMessageID(b []byte) []byte {
	b = append(b, `"msg_01llmtest`...)
	b = appendPadded(b, x.seq, 16)
	return append(b, '"')
}

func (x *exchange) stopReason() string {
	switch {
	case x.truncated:
		return "max_tokens"
	case len(x.calls) > 0:
		return "tool_use"
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

// appendToolUse appends call k's tool_use block with input (the whole
// arguments, or {} to start a stream's block).
func (x *exchange) appendToolUse(b []byte, k int, input []byte) []byte {
	b = append(b, `{"type":"tool_use","id":`...)
	b = x.appendToolUseID(b, k)
	b = append(b, `,"name":`...)
	b = jsonscan.AppendQuoteNoHTML(b, x.calls[k].name)
	b = append(b, `,"input":`...)
	b = append(b, input...)
	return append(b, `,"caller":{"type":"direct"}}`...)
}

// message is a whole Message, compact as Anthropic sends it: its thinking
// block, if shown, its text block (but for tool calls without a
// preamble), its tool_use blocks.
func (x *exchange) message() []byte {
	b := make([]byte, 0, 512+x.textLen()+len(x.thinking))
	b = x.appendMessageHead(b)
	b = append(b, '[')
	if x.thinking != "" {
		b = append(b, `{"type":"thinking","thinking":`...)
		b = jsonscan.AppendQuoteNoHTML(b, x.thinking)
		b = append(b, `,"signature":`...)
		b = jsonscan.AppendQuoteNoHTML(b, x.signature)
		b = append(b, `},`...)
	}
	if x.hasText() {
		b = append(b, `{"type":"text","text":`...)
		b = jsonscan.AppendQuoteNoHTML(b, x.text)
		b = append(b, `},`...)
	}
	for k, c := range x.calls {
		b = append(x.appendToolUse(b, k, c.compact), ',')
	}
	b = b[:len(b)-1] // the last comma
	b = append(b, `],"stop_reason":"`...)
	b = append(b, x.stopReason()...)
	b = append(b, `","stop_sequence":null,"usage":`...)
	b = x.appendAnthropicUsage(b, x.usage.OutputTokens)
	return append(b, '}')
}

// messageEvents are the Messages stream: message_start (usage with the
// input and cache counts, output_tokens 1), then each block (a ping after
// the first block's start): content_block_start, its deltas (a
// thinking_delta per word and a signature_delta; a text_delta per word;
// input_json_delta fragments, the first one empty), content_block_stop;
// then message_delta (the cumulative output_tokens) and message_stop.
func (x *exchange) messageEvents() [][]byte {
	n := len(x.words) + 6
	if x.thinking != "" {
		n += len(x.thinkWords) + 3
	}
	for _, c := range x.calls {
		n += 3 + len(c.args)/4
	}
	e := newEventBuilder(n, 200)

	b := append(e.json(), `{"type":"message_start","message":`...)
	b = x.appendMessageHead(b)
	b = append(b, `[],"stop_reason":null,"stop_sequence":null,"usage":`...)
	b = x.appendAnthropicUsage(b, min(1, x.usage.OutputTokens))
	e.named("message_start", append(b, `}}`...))

	index := int64(0)
	start := func(block string, k int) {
		b := append(e.json(), `{"type":"content_block_start","index":`...)
		b = appendInt(b, index)
		b = append(b, `,"content_block":`...)
		if block == "tool_use" {
			b = x.appendToolUse(b, k, []byte("{}"))
		} else {
			b = append(b, block...)
		}
		e.named("content_block_start", append(b, '}'))
		if index == 0 {
			// Anthropic's pings carry a space after the colon.
			e.named("ping", append(e.json(), `{"type": "ping"}`...))
		}
	}
	delta := func(typ, field, value string) {
		b := append(e.json(), `{"type":"content_block_delta","index":`...)
		b = appendInt(b, index)
		b = append(b, `,"delta":{"type":"`...)
		b = append(b, typ...)
		b = append(b, `","`...)
		b = append(b, field...)
		b = append(b, `":`...)
		b = jsonscan.AppendQuoteNoHTML(b, value)
		e.named("content_block_delta", append(b, `}}`...))
	}
	stop := func() {
		b := append(e.json(), `{"type":"content_block_stop","index":`...)
		b = appendInt(b, index)
		e.named("content_block_stop", append(b, '}'))
		index++
	}

	if x.thinking != "" {
		start(`{"type":"thinking","thinking":"","signature":""}`, 0)
		for _, w := range x.thinkWords {
			delta("thinking_delta", "thinking", w)
		}
		delta("signature_delta", "signature", x.signature)
		stop()
	}
	if x.hasText() {
		start(`{"type":"text","text":""}`, 0)
		for _, w := range x.words {
			delta("text_delta", "text", w)
		}
		stop()
	}
	for k, c := range x.calls {
		start("tool_use", k)
		delta("input_json_delta", "partial_json", "")
		for _, frag := range splitArgs(c.args) {
			delta("input_json_delta", "partial_json", frag)
		}
		stop()
	}

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
