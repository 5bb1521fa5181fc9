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

// appendGeminiResponse appends a GenerateContentResponse carrying text;
// final adds the finish reason and the full usage.
func (x *exchange) appendGeminiResponse(b []byte, text string, final bool) []byte {
	b = append(b, `{"candidates":[{"content":{"parts":[{"text":`...)
	b = jsonscan.AppendQuoteNoHTML(b, text)
	b = append(b, `}],"role":"model"}`...)
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

// geminiBody is a whole GenerateContentResponse, two-space indented.
func (x *exchange) geminiBody() []byte {
	return styled(styleIndent2, func(b []byte) []byte { return x.appendGeminiResponse(b, x.text, true) })
}

// geminiChunks are the streamGenerateContent chunks, one per word (at
// least one); the last has the finish reason and the full usage. With
// alt=sse they are "data: " events separated by \r\n\r\n, with no
// terminator; without it, the elements of one JSON array.
func (x *exchange) geminiChunks() [][]byte {
	words := x.words
	if len(words) == 0 {
		words = []string{""}
	}
	e := newEventBuilder(len(words), 320)
	var framed []byte
	for i, w := range words {
		last := i == len(words)-1
		b := x.appendGeminiResponse(e.json(), w, last)
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
