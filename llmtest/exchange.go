package llmtest

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// exchange is one request and the answer prepared for it. The answer is
// computed in full before anything is sent, so a Server and a Transport
// send the same bytes; only the pacing (delays, gates, cuts) happens as it
// goes out.
type exchange struct {
	seq    uint64
	now    time.Time
	date   string // x.now for a Date header
	api    api
	fields fields
	fault  Fault
	model  string // as requested
	rmodel string // as answered
	sse    bool   // a stream framed as SSE (Gemini without alt=sse streams a JSON array)

	words     []string // a stream's reply, one chunk each
	nwords    int      // how many chunks the reply has
	text      string   // the reply
	truncated bool     // the reply was cut to max tokens
	usage     Usage

	calls      []toolCall // the tool calls after the text, if any
	thinks     bool       // the model thinks before it answers (WithThinking)
	thinking   string     // the thinking the answer shows; "" when it shows none
	thinkWords []string   // a stream's thinking, one chunk each
	signature  string     // of the thinking, when the model thinks

	status   int
	header   http.Header
	body     []byte   // a whole body; nil for a stream
	events   [][]byte // a stream's events, framed; nil for a whole body
	errEvent []byte   // the mid-stream error for fault.ErrorAt
}

// prepare records r and computes the whole answer to it.
func (f *Fake) prepare(r *http.Request, u *url.URL, body []byte) *exchange {
	x := &exchange{seq: f.seq.Add(1), now: f.now()}
	x.date = f.httpDate(x.now)
	a, gemModel, gemStream := detectAPI(u.Path)
	x.api = a

	rec := Request{Seq: int(x.seq), Method: r.Method, URL: u, Body: body, Format: a.String()}
	capture := f.cfg.captureLimit > 0
	if f.cfg.needsRequest() {
		rec.Header = r.Header.Clone()
	}
	x.fault = f.record(rec, capture)

	if a == apiUnknown {
		x.fail(http.StatusNotFound, errorSpec{message: "Invalid URL (" + r.Method + " " + u.Path + ")"})
		return x
	}
	if r.Method != http.MethodPost {
		x.fail(http.StatusMethodNotAllowed, errorSpec{message: "Invalid method for URL (" + r.Method + " " + u.Path + ")"})
		return x
	}
	if f.cfg.apiKey != "" && !keyMatches(a, r.Header, u, f.cfg.apiKey) {
		x.failAuth()
		return x
	}
	if a == apiMessages && r.Header.Get("Anthropic-Version") == "" {
		x.fail(http.StatusBadRequest, errorSpec{message: "anthropic-version: header is required"})
		return x
	}
	fl, ok := parseFields(a, body)
	if !ok {
		x.fail(http.StatusBadRequest, errorSpec{message: invalidJSONMessage(a)})
		return x
	}
	x.model = fl.model
	switch a {
	case apiGemini:
		x.model, fl.stream = gemModel, gemStream
		x.sse = u.Query().Get("alt") == "sse"
	case apiEmbeddings:
		fl.stream = false // embeddings do not stream, whatever the body says
	default:
		x.sse = fl.stream
	}
	x.fields = fl
	if x.model == "" {
		msg := "you must provide a model parameter"
		if a == apiMessages {
			msg = "model: Field required"
		}
		x.fail(http.StatusBadRequest, errorSpec{message: msg})
		return x
	}
	if a == apiMessages && !fl.hasMaxTokens {
		x.fail(http.StatusBadRequest, errorSpec{message: "max_tokens: Field required"})
		return x
	}
	if a == apiMessages && fl.thinkingEnabled {
		switch {
		case !fl.hasThinkingBudget:
			x.fail(http.StatusBadRequest, errorSpec{message: "thinking.enabled.budget_tokens: Field required"})
			return x
		case fl.thinkingBudget < 1024:
			x.fail(http.StatusBadRequest, errorSpec{message: "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"})
			return x
		case fl.maxTokens <= fl.thinkingBudget:
			x.fail(http.StatusBadRequest, errorSpec{message: "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size"})
			return x
		}
	}
	if a == apiMessages {
		fl.conv.anthropicThinkingRule(fl.thinkingOn)
	}
	if fl.conv.broken.message != "" {
		x.fail(http.StatusBadRequest, fl.conv.broken)
		return x
	}
	if a == apiEmbeddings && len(fl.inputs) == 0 {
		x.fail(http.StatusBadRequest, errorSpec{message: "'input' is a required property and must not be empty"})
		return x
	}
	x.rmodel = x.model
	if f.cfg.responseModel != nil {
		x.rmodel = f.cfg.responseModel(x.model)
	}

	if x.fault.isError() && x.fault.Body == nil {
		x.fail(x.fault.Status, errorSpec{typ: x.fault.Type, code: x.fault.Code, message: x.fault.Message, retryAfter: x.fault.RetryAfter})
		return x
	}

	nthink := 0
	if a != apiEmbeddings {
		calls := f.callsFor(a, rec, &fl)
		var reply string
		switch {
		case len(calls) > 0:
			reply = f.cfg.preamble
		case f.cfg.replyFunc != nil:
			reply = f.cfg.replyFunc(rec)
		default:
			reply = f.cfg.reply
		}
		x.nwords = countWords(reply)
		if fl.hasMaxTokens && fl.maxTokens < int64(x.nwords) {
			x.nwords, x.truncated = int(max(0, fl.maxTokens)), true
			reply = cutWords(reply, x.nwords)
			calls = nil // the model stopped before it could call
		}
		x.text = reply
		x.calls = calls
		if fl.stream {
			x.words = splitWords(reply)
		}
		x.think(f.cfg.thinking, &fl)
		if x.thinks {
			nthink = countWords(f.cfg.thinking)
		}
	}
	if f.cfg.usage != nil {
		x.usage = *f.cfg.usage
	} else {
		x.usage.InputTokens = max(1, int64(len(body)+3)/4)
		x.usage.ReasoningTokens = int64(nthink)
		x.usage.OutputTokens = int64(x.nwords) + toolTokens(x.calls) + x.usage.ReasoningTokens
	}

	x.status = http.StatusOK
	x.header = x.successHeader()
	switch {
	case x.fault.Body != nil:
		x.body = x.fault.Body
		if x.fault.Status != 0 {
			x.status = x.fault.Status
		}
	case !fl.stream:
		x.body = x.render()
	default:
		x.events = x.renderEvents()
		x.errEvent = x.midStreamError()
	}
	if x.fault.Malformed {
		x.malform()
	}
	x.addFaultHeaders()
	return x
}

// callsFor returns the tool calls of the answer to rec: those of
// WithToolCallsFunc, or those of WithToolCalls when the request offers
// tools and does not end with tool results. Responses and embeddings
// requests get none.
func (f *Fake) callsFor(a api, rec Request, fl *fields) []toolCall {
	if a != apiChat && a != apiMessages && a != apiGemini {
		return nil
	}
	if f.cfg.toolCallsFunc != nil {
		return prepareCalls(f.cfg.toolCallsFunc(rec))
	}
	if fl.conv.offersTools && !fl.conv.endsWithResults {
		return f.cfg.toolCalls
	}
	return nil
}

// think sets whether the model thinks thinking before it answers, and
// what of it the answer shows, from what the request lets it do.
func (x *exchange) think(thinking string, fl *fields) {
	if thinking == "" {
		return
	}
	switch x.api {
	case apiMessages:
		x.thinks = fl.thinkingOn
		if x.thinks {
			x.thinking = thinking
		}
	case apiGemini:
		x.thinks = !fl.thinkingOff
		if x.thinks && fl.includeThoughts {
			x.thinking = thinking
		}
	case apiChat, apiResponses:
		x.thinks = !fl.thinkingOff
	}
	if x.thinks && x.api != apiChat && x.api != apiResponses {
		x.signature = thinkingSignature(thinking)
	}
	if fl.stream && x.thinking != "" {
		x.thinkWords = splitWords(x.thinking)
	}
}

// hasText reports whether the answer has a text part: always, but for
// tool calls without a preamble.
func (x *exchange) hasText() bool { return len(x.calls) == 0 || x.text != "" }

// splitWords splits text into chunks that each start with the spaces
// before a word, as model tokens do (" from"), so that joining them gives
// text back. Trailing spaces stay with the last word.
func splitWords(text string) []string {
	n := countWords(text)
	if n == 0 {
		return nil
	}
	words := make([]string, 0, n)
	for len(words) < n-1 {
		i := nextWord(text)
		words = append(words, text[:i])
		text = text[i:]
	}
	return append(words, text)
}

// nextWord returns where the chunk after text's first one starts: at the
// spaces before its second word, or len(text).
func nextWord(text string) int {
	i := 0
	for i < len(text) && isSpace(text[i]) { // leading spaces belong to the first word
		i++
	}
	for i < len(text) && !isSpace(text[i]) {
		i++
	}
	j := i
	for j < len(text) && isSpace(text[j]) {
		j++
	}
	if j == len(text) {
		return len(text) // only trailing spaces follow
	}
	return i
}

// countWords counts the chunks splitWords makes of text.
func countWords(text string) int {
	n := 0
	for len(text) > 0 {
		text = text[nextWord(text):]
		n++
	}
	return n
}

// cutWords returns text's first n chunks, joined.
func cutWords(text string, n int) string {
	end := 0
	for ; n > 0 && end < len(text); n-- {
		end += nextWord(text[end:])
	}
	return text[:end]
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' }

// malform makes the answer unparseable while keeping its framing: a
// whole body loses its second half; a stream's second event (its only
// one, if that) keeps its "data: " and separator around half its JSON.
func (x *exchange) malform() {
	if x.events == nil {
		x.body = x.body[:len(x.body)/2]
		return
	}
	i := min(1, len(x.events)-1)
	ev := string(x.events[i])
	prefix, sep := "", ""
	if j := strings.Index(ev, "data: "); j >= 0 && x.sse {
		prefix = ev[:j+len("data: ")]
		for _, s := range []string{"\r\n\r\n", "\n\n"} {
			if strings.HasSuffix(ev, s) {
				sep = s
				break
			}
		}
	}
	data := ev[len(prefix) : len(ev)-len(sep)]
	bad := prefix + data[:len(data)/2] + sep
	events := make([][]byte, len(x.events))
	copy(events, x.events)
	events[i] = []byte(bad)
	x.events = events
}

func (x *exchange) addFaultHeaders() {
	for k, vs := range x.fault.Header {
		x.header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
}

// holdHeaders waits, before the headers go out, for the fault's delay and,
// for a whole body, its gate.
func (x *exchange) holdHeaders(st stops) error {
	if err := st.sleep(x.fault.DelayHeaders); err != nil {
		return err
	}
	if g := x.fault.Gate; g != nil && x.events == nil {
		return g.pass(st)
	}
	return nil
}

// cutBody reports whether a whole body is to be cut in half mid-way.
func (x *exchange) cutBody() bool { return x.events == nil && x.fault.CutAt > 0 }

// errCut ends a stream abruptly: no terminator, a broken connection.
var errCut = errors.New("llmtest: stream cut")

// eventSource hands out a stream's events, paced by the fault: it waits
// before each event as the fault says, then returns it, the mid-stream
// error in its place, errCut, or io.EOF at the end.
type eventSource struct {
	x    *exchange
	st   stops
	i    int
	done bool
}

func (s *eventSource) next() ([]byte, error) {
	x := s.x
	if s.done || s.i >= len(x.events) {
		s.done = true
		return nil, io.EOF
	}
	if s.i > 0 {
		if err := s.st.sleep(x.fault.DelayChunks); err != nil {
			return nil, err
		}
	} else if err := s.st.check(); err != nil {
		return nil, err
	}
	if g := x.fault.Gate; g != nil {
		if err := g.pass(s.st); err != nil {
			return nil, err
		}
	}
	n := s.i + 1
	switch n {
	case x.fault.CutAt:
		s.done = true
		return nil, errCut
	case x.fault.ErrorAt:
		s.done = true
		return x.errEvent, nil
	}
	s.i++
	return x.events[s.i-1], nil
}
