package llmtest

import "github.com/aigateway-go/aigateway/internal/jsonscan"

func (x *exchange) appendResponseIDGemini(b []byte) []byte {
	b = append(b, `"llmtest`...)
	b = appendPadded(b, x.seq, 15)
	return append(b, '"')
}

func (x *exchange) geminiFinish() string {
	if x.truncated {
		return "MAX_TOKENS"
	}
	return "STOP"
}

// appendGeminiUsage appends usageMetadata: in full, or (early stream
// chunks) with the prompt counts only, as Gemini sends them.
func (x *exchange) appendGeminiUsage(b []byte, full bool) []byte {
	u := x.usage
	b = append(b, `{"promptTokenCount":`...)
	b = appendInt(b, u.InputTokens)
	total := u.InputTokens
	if full {
		b = append(b, `,"candidatesTokenCount":`...)
		b = appendInt(b, max(0, u.OutputTokens-u.ReasoningTokens))
		total += u.OutputTokens
	}
	b = append(b, `,"totalTokenCount":`...)
	b = appendInt(b, total)
	if u.CacheReadTokens > 0 {
		b = append(b, `,"cachedContentTokenCount":`...)
		b = appendInt(b, u.CacheReadTokens)
	}
	b = append(b, `,"promptTokensDetails":[{"modality":"TEXT","tokenCount":`...)
	b = appendInt(b, u.InputTokens)
	b = append(b, `}]`...)
	if full && u.ReasoningTokens > 0 {
		b = append(b, `,"thoughtsTokenCount":`...)
		b = appendInt(b, u.ReasoningTokens)
	}
	return append(b, '}')
}

// geminiPart is what one chunk of an answer carries.
type geminiPart uint8

const (
	partText    geminiPart = iota // a text part
	partThought                   // a thought part, {"text": ..., "thought": true}
	partCalls                     // all the functionCall parts
)

// appendGeminiParts appends the parts of kind with text.
func (x *exchange) appendGeminiParts(b []byte, kind geminiPart, text string) []byte {
	switch kind {
	case partText, partThought:
		b = append(b, `{"text":`...)
		b = jsonscan.AppendQuoteNoHTML(b, text)
		if kind == partThought {
			b = append(b, `,"thought":true`...)
		}
		return append(b, '}')
	}
	for k, c := range x.calls {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"functionCall":{"name":`...)
		b = jsonscan.AppendQuoteNoHTML(b, c.name)
		b = append(b, `,"args":`...)
		b = append(b, c.compact...)
		b = append(b, '}')
		if k == 0 && x.signature != "" {
			b = append(b, `,"thoughtSignature":`...)
			b = jsonscan.AppendQuoteNoHTML(b, x.signature)
		}
		b = append(b, '}')
	}
	return b
}

// appendGeminiResponse appends a GenerateContentResponse whose parts
// appends writes; final adds the finish reason and the full usage.
func (x *exchange) appendGeminiResponse(b []byte, parts func([]byte) []byte, final bool) []byte {
	b = append(b, `{"candidates":[{"content":{"parts":[`...)
	b = parts(b)
	b = append(b, `],"role":"model"}`...)
	if final {
		b = append(b, `,"finishReason":"`...)
		b = append(b, x.geminiFinish()...)
		b = append(b, '"')
	}
	b = append(b, `,"index":0}],"usageMetadata":`...)
	b = x.appendGeminiUsage(b, final)
	b = append(b, `,"modelVersion":`...)
	b = jsonscan.AppendQuoteNoHTML(b, x.rmodel)
	b = append(b, `,"responseId":`...)
	b = x.appendResponseIDGemini(b)
	return append(b, '}')
}

// geminiBody is a whole GenerateContentResponse, two-space indented: its
// thought part if shown, its text part (but for calls without a
// preamble), its functionCall parts.
func (x *exchange) geminiBody() []byte {
	parts := func(b []byte) []byte {
		if x.thinking != "" {
			b = append(x.appendGeminiParts(b, partThought, x.thinking), ',')
		}
		if x.hasText() {
			b = append(x.appendGeminiParts(b, partText, x.text), ',')
		}
		if len(x.calls) > 0 {
			b = append(x.appendGeminiParts(b, partCalls, ""), ',')
		}
		return b[:len(b)-1]
	}
	return styled(styleIndent2, func(b []byte) []byte { return x.appendGeminiResponse(b, parts, true) })
}

// geminiChunk is one streamGenerateContent chunk's parts.
type geminiChunk struct {
	kind geminiPart
	text string
}

// geminiChunks are the streamGenerateContent chunks: a thought part per
// word of the thinking shown, a text part per word (at least one, but for
// calls without a preamble), then all the functionCall parts in one
// chunk; the last chunk has the finish reason and the full usage. With
// alt=sse they are "data: " events separated by \r\n\r\n, with no
// terminator; without it, the elements of one JSON array.
func (x *exchange) geminiChunks() [][]byte {
	chunks := make([]geminiChunk, 0, len(x.thinkWords)+len(x.words)+1)
	for _, w := range x.thinkWords {
		chunks = append(chunks, geminiChunk{partThought, w})
	}
	if x.hasText() {
		for _, w := range x.words {
			chunks = append(chunks, geminiChunk{partText, w})
		}
		if len(x.words) == 0 {
			chunks = append(chunks, geminiChunk{partText, ""})
		}
	}
	if len(x.calls) > 0 {
		chunks = append(chunks, geminiChunk{kind: partCalls})
	}
	e := newEventBuilder(len(chunks), 320)
	var framed []byte
	for i, c := range chunks {
		last := i == len(chunks)-1
		parts := func(b []byte) []byte { return x.appendGeminiParts(b, c.kind, c.text) }
		b := x.appendGeminiResponse(e.json(), parts, last)
		e.scratch = b
		if x.sse {
			framed = appendStyled(framed[:0], b, styleColonSpace)
			e.buf = frameData(e.buf, framed, "\r\n\r\n")
		} else {
			if i == 0 {
				e.buf = append(e.buf, '[')
			} else {
				e.buf = append(e.buf, ",\r\n"...)
			}
			e.buf = appendStyled(e.buf, b, styleIndent2)
			if last {
				e.buf = append(e.buf, ']')
			}
		}
		e.ends = append(e.ends, len(e.buf))
	}
	return e.events()
}
