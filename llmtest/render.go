package llmtest

// render builds a whole (non-stream) body for x.
func (x *exchange) render() []byte {
	switch x.api {
	case apiChat:
		return x.chatCompletion()
	case apiResponses:
		return x.responseBody()
	case apiEmbeddings:
		return x.embeddings()
	case apiMessages:
		return x.message()
	case apiGemini:
		return x.geminiBody()
	}
	return nil
}

// renderEvents builds a stream's events for x.
func (x *exchange) renderEvents() [][]byte {
	switch x.api {
	case apiChat:
		return x.chatChunks()
	case apiResponses:
		return x.responseEvents()
	case apiMessages:
		return x.messageEvents()
	case apiGemini:
		return x.geminiChunks()
	}
	return nil
}

// eventBuilder frames a stream's events into one buffer.
type eventBuilder struct {
	buf     []byte
	ends    []int
	scratch []byte // one event's JSON, reused
}

func newEventBuilder(n, size int) *eventBuilder {
	return &eventBuilder{
		buf:     make([]byte, 0, n*size),
		ends:    make([]int, 0, n),
		scratch: make([]byte, 0, size),
	}
}

// json starts a new event's JSON in the scratch buffer.
func (e *eventBuilder) json() []byte { return e.scratch[:0] }

// data adds "data: {json}" + sep.
func (e *eventBuilder) data(json []byte, sep string) {
	e.scratch = json
	e.buf = frameData(e.buf, json, sep)
	e.ends = append(e.ends, len(e.buf))
}

// named adds "event: name\ndata: {json}\n\n".
func (e *eventBuilder) named(name string, json []byte) {
	e.scratch = json
	e.buf = frameNamed(e.buf, name, json)
	e.ends = append(e.ends, len(e.buf))
}

// raw adds p as an event as it is.
func (e *eventBuilder) raw(p []byte) {
	e.buf = append(e.buf, p...)
	e.ends = append(e.ends, len(e.buf))
}

func (e *eventBuilder) events() [][]byte {
	out := make([][]byte, len(e.ends))
	start := 0
	for i, end := range e.ends {
		out[i] = e.buf[start:end:end]
		start = end
	}
	return out
}

func frameData(b, json []byte, sep string) []byte {
	b = append(b, "data: "...)
	b = append(b, json...)
	return append(b, sep...)
}

func frameNamed(b []byte, name string, json []byte) []byte {
	b = append(b, "event: "...)
	b = append(b, name...)
	b = append(b, "\ndata: "...)
	b = append(b, json...)
	return append(b, "\n\n"...)
}

// textLen is the byte length of the reply, for sizing buffers.
func (x *exchange) textLen() int { return len(x.text) }
