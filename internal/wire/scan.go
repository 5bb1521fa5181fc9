package wire

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
	"github.com/aigateway-go/aigateway/internal/sse"
	"github.com/aigateway-go/aigateway/provider"
)

// ResponseScanner extracts usage, response model and id, finish reasons,
// terminator and errors from the bytes of one upstream response as they pass
// by. The zero value is not
// ready; call Reset. No allocation per SSE event.
//
// SSE bodies are split into events by internal/sse; each event is looked at
// only when a cheap search finds a key that matters in it ("usage",
// "usageMetadata", "error", a non-null "finish_reason" ...) or a key that may
// be spelled with escapes, so a stream is scanned at memory speed. Keys are
// read as the SDK reads them: decoded, the last of duplicates winning. JSON
// bodies are followed by an incremental capturer that keeps only the
// top-level members needed (at most 64 KiB each), never the whole body.
//
// A ResponseScanner belongs to one goroutine at a time; Reset reuses its
// buffers for the next response.
type ResponseScanner struct {
	format provider.Format
	stream bool
	status int

	events sse.Scanner
	json   jsonscan.Capturer
	dirty  bool // JSON mode: bytes arrived since the captured members were read
	seen   int  // JSON mode: json.Completed() when the members were last read

	usage      provider.Usage
	haveUsage  bool
	usageBad   bool // a usage object out of bounds: the response's usage is unknown
	anthropic  anthropicUsage
	model      string
	lastModel  string // the previous response's model, reused to avoid an allocation
	id         string
	lastID     string   // the previous response's id, likewise
	reasons    []string // finish reason by choice index, "" where none; reused
	handed     []string // the slice FinishReasons last returned, never modified
	terminated bool
	malformed  bool // an event's data was not a whole JSON object
	err        *provider.Error

	head    [512]byte // the start of an error body, for errors that are not JSON
	headLen int
}

// Members captured from JSON bodies, per format. The choices (OpenAI chat)
// and candidates (Gemini) are not kept whole: their elements' index and
// finish reason are taken as the bytes pass (Capturer.WatchElements), not
// by reading the captured array again, message and all.
var (
	openAIMembers    = []string{"usage", "model", "error", "id"}
	responsesMembers = []string{"usage", "model", "error", "id", "status", "incomplete_details"}
	embeddingMembers = []string{"usage", "model", "error"}
	anthropicMembers = []string{"usage", "model", "error", "id", "stop_reason"}
	geminiMembers    = []string{"usageMetadata", "modelVersion", "error", "responseId"}
	errorMembers     = []string{"error", "type", "message", "code", "status", "detail"}

	openAIChoiceKeys    = []string{"index", "finish_reason"}
	geminiCandidateKeys = []string{"index", "finishReason"}
)

// Reset prepares s for a response of format f; stream says the body is SSE
// (Content-Type text/event-stream), else JSON. status is the HTTP status.
// An error status (>= 400) is always read as a JSON error body.
func (s *ResponseScanner) Reset(f provider.Format, stream bool, status int) {
	if s.model != "" {
		s.lastModel = s.model
	}
	if s.id != "" {
		s.lastID = s.id
	}
	s.id, s.reasons = "", s.reasons[:0]
	s.format, s.stream, s.status = f, stream && status < 400, status
	s.usage, s.haveUsage, s.usageBad, s.anthropic = provider.Usage{}, false, false, anthropicUsage{}
	// dirty: an error status has an Err even when its body is empty.
	s.model, s.terminated, s.malformed, s.err, s.dirty, s.headLen, s.seen = "", false, false, nil, !s.stream, 0, -1
	if s.stream {
		s.events.Reset()
		return
	}
	members := openAIMembers
	switch {
	case status >= 400:
		members = errorMembers
	case f == provider.FormatAnthropicMessages:
		members = anthropicMembers
	case f == provider.FormatGemini:
		members = geminiMembers
	case f == provider.FormatOpenAIResponses:
		members = responsesMembers
	case f == provider.FormatOpenAIEmbeddings:
		members = embeddingMembers
	}
	s.json.Reset(0, members)
	switch {
	case status >= 400:
	case f == provider.FormatOpenAIChat:
		s.json.WatchElements("choices", openAIChoiceKeys)
	case f == provider.FormatGemini:
		s.json.WatchElements("candidates", geminiCandidateKeys)
	}
	if status < 400 && (f == provider.FormatOpenAIChat || f == provider.FormatOpenAIResponses || f == provider.FormatOpenAIEmbeddings) {
		s.json.ReadWith("usage", readOpenAIUsage)
	}
}

// Write feeds the next bytes of the body. It never fails.
func (s *ResponseScanner) Write(p []byte) (int, error) {
	if !s.stream {
		if s.status >= 400 && s.headLen < len(s.head) {
			s.headLen += copy(s.head[s.headLen:], p)
		}
		s.json.Write(p)
		s.dirty = true
		return len(p), nil
	}
	s.events.Feed(p)
	s.drain()
	return len(p), nil
}

// Finish is called at EOF: a final event without a trailing blank line counts.
func (s *ResponseScanner) Finish() {
	if s.stream {
		s.events.Flush()
		s.drain()
	}
}

func (s *ResponseScanner) drain() {
	for s.events.Next() {
		ev := s.events.Event()
		s.event(ev.Name, ev.Data)
	}
}

// Usage returns the usage seen so far (last non-null wins; Anthropic
// cumulative rules; Gemini last-with-counts) and whether any was seen.
func (s *ResponseScanner) Usage() (provider.Usage, bool) {
	s.readJSON()
	switch {
	case s.usageBad:
		return provider.Usage{}, false
	case s.format == provider.FormatAnthropicMessages && s.haveUsage:
		return s.anthropic.usage(), true
	}
	return s.usage, s.haveUsage
}

// Model returns the model the response reports ("" if none seen).
func (s *ResponseScanner) Model() string {
	s.readJSON()
	return s.model
}

// Terminated reports whether the stream's terminator has been seen. For a
// JSON body it reports whether the whole JSON value has been seen.
func (s *ResponseScanner) Terminated() bool {
	s.readJSON()
	return s.terminated
}

// Malformed reports whether the answer is not one of its format's shape:
// a stream event whose data was not a whole JSON object (a truncated or
// garbled event), judged cheaply by its first and last bytes, not by a
// full parse; or a JSON body that is not one object (an array for Gemini's
// streamGenerateContent without SSE), with something beside it. An error
// body (status >= 400) is never malformed: its Err says what it could.
func (s *ResponseScanner) Malformed() bool {
	switch {
	case s.stream:
		return s.malformed
	case s.status >= 400:
		return false
	}
	root := s.json.Root()
	return s.json.Junk() || root == '[' && s.format != provider.FormatGemini
}

// looksLikeObject reports whether data starts with '{' and ends with '}',
// around optional whitespace.
func looksLikeObject(data []byte) bool {
	i, j := 0, len(data)-1
	for i <= j && isSpace(data[i]) {
		i++
	}
	for j >= i && isSpace(data[j]) {
		j--
	}
	return i < j && data[i] == '{' && data[j] == '}'
}

// Err returns the provider error seen: an error body (status >= 400) or a
// mid-stream error event; nil if none. For an error status it is never nil,
// even when the body could not be read as an error.
func (s *ResponseScanner) Err() *provider.Error {
	s.readJSON()
	return s.err
}

// readJSON interprets the members captured from a JSON body when new ones
// have completed since the last time (or, for an error body, new bytes came).
func (s *ResponseScanner) readJSON() {
	if s.stream || !s.dirty {
		return
	}
	s.dirty = false
	s.terminated = s.json.Done()
	if s.status >= 400 {
		s.err = s.errorBody()
		return
	}
	if s.json.Completed() == s.seen {
		return
	}
	s.seen = s.json.Completed()
	s.reasons = s.reasons[:0] // the last complete occurrence of each member wins
	switch s.format {
	case provider.FormatAnthropicMessages:
		s.haveUsage, s.usageBad = false, false
		if v, ok := s.json.Value("usage"); ok {
			s.anthropic = anthropicUsage{}
			st := s.anthropic.merge(v)
			s.haveUsage, s.usageBad = st == usageTaken, st == usageBad
		}
		if v, ok := s.json.Value("model"); ok {
			s.setModel(v)
		}
		if v, ok := s.json.Value("id"); ok {
			s.setID(v)
		}
		if v, ok := s.json.Value("stop_reason"); ok {
			s.setReasonValue(0, v)
		}
	case provider.FormatGemini:
		s.usage, s.haveUsage, s.usageBad = provider.Usage{}, false, false
		if v, ok := s.json.Value("usageMetadata"); ok {
			s.takeUsage(geminiUsage(v))
		}
		if v, ok := s.json.Value("modelVersion"); ok {
			s.setModel(v)
		}
		if v, ok := s.json.Value("responseId"); ok {
			s.setID(v)
		}
		s.elementReasons()
	default:
		s.usage, s.haveUsage, s.usageBad = provider.Usage{}, false, false
		if v, ok := s.json.Value("usage"); ok {
			if st, read := s.json.Read("usage"); read {
				var counts usageSlots
				counts.load(st)
				s.takeUsage(openAIUsageOf(&counts))
			} else {
				s.takeUsage(openAIUsage(v))
			}
		}
		if v, ok := s.json.Value("model"); ok {
			s.setModel(v)
		}
		if s.format == provider.FormatOpenAIEmbeddings {
			break
		}
		if v, ok := s.json.Value("id"); ok {
			s.setID(v)
		}
		if s.format == provider.FormatOpenAIResponses {
			status, _ := s.json.Value("status")
			details, _ := s.json.Value("incomplete_details")
			s.responsesReason(status, details, nil)
		} else {
			s.elementReasons()
		}
	}
	if v, ok := s.json.Value("error"); ok && s.err == nil {
		s.setErrMember(v)
	}
}

// errorBody reads an error response: {"error":{...}} (OpenAI, Gemini, and
// Anthropic inside {"type":"error"}), {"error":"text"}, or the flat
// {"message","type","code"} some OpenAI-compatible servers send.
func (s *ResponseScanner) errorBody() *provider.Error {
	var e *provider.Error
	if v, ok := s.json.Value("error"); ok {
		e = errorFrom(v, s.status)
	}
	if e == nil {
		e = &provider.Error{Status: s.status}
		if v, ok := s.json.Value("message"); ok {
			e.Message = text(v)
		} else if v, ok := s.json.Value("detail"); ok {
			e.Message = text(v)
		}
		if v, ok := s.json.Value("type"); ok && str(v) != "error" {
			e.Type = str(v)
		}
		if v, ok := s.json.Value("code"); ok {
			e.Code = str(v)
		}
	}
	if e.Message == "" {
		if head := bytes.TrimSpace(s.head[:s.headLen]); len(head) > 0 && head[0] != '{' && head[0] != '[' {
			e.Message = strings.ToValidUTF8(string(head), "\uFFFD")
		} else {
			e.Message = http.StatusText(s.status)
		}
	}
	return e
}

// text returns a string value, or any other value as raw JSON (validation
// errors put objects where a message would be), bounded.
func text(v []byte) string {
	if s, ok := jsonscan.String(v); ok {
		return string(s)
	}
	if len(v) > 1024 {
		v = v[:1024]
	}
	return strings.ToValidUTF8(string(v), "\uFFFD")
}

func (s *ResponseScanner) setModel(v []byte) {
	b, ok := jsonscan.PlainString(v)
	if !ok || len(b) == 0 {
		return
	}
	// Compared one by one: a switch on string(b) would copy b when it is
	// longer than 32 bytes.
	if string(b) == s.model {
		return
	}
	if string(b) == s.lastModel {
		s.model = s.lastModel
		return
	}
	s.model = string(b)
}

// takeUsage records what one usage object of the response said: its
// counts, or, for one out of bounds, that the response's usage is not to
// be trusted at all (Usage then reports none, whatever came before it).
func (s *ResponseScanner) takeUsage(u provider.Usage, st usageState) {
	switch st {
	case usageTaken:
		s.usage, s.haveUsage = u, true
	case usageBad:
		s.usageBad = true
	}
}

// takeAnthropic records what merging one Anthropic usage object found.
func (s *ResponseScanner) takeAnthropic(st usageState) {
	switch st {
	case usageTaken:
		s.haveUsage = true
	case usageBad:
		s.usageBad = true
	}
}

func (s *ResponseScanner) setErr(v []byte) {
	if e := errorFrom(v, 0); e != nil {
		s.err = e
	}
}

// setErrMember reads the "error" member of an answer that is otherwise a
// success (a JSON body, a chunk): an error only when it says something. A
// null, and an object whose message, type and code are all empty, which
// some OpenAI-compatible servers put in every success
// ({"message":"","type":"","param":"","code":null}), are no error: the SDK
// reads the answer.
func (s *ResponseScanner) setErrMember(v []byte) {
	if !isError(v) {
		return
	}
	if e := errorFrom(v, 0); e != nil {
		s.err = e
	}
}

// isError reports whether the value v of an "error" member in an answer
// that is otherwise a success is an error: not null (nor absent), and, for
// an object, one whose message, type or code says something.
func isError(v []byte) bool {
	if v == nil || jsonscan.IsNull(v) {
		return false
	}
	if !jsonscan.IsObject(v) {
		return true
	}
	e := errorFrom(v, 0)
	return e != nil && (e.Message != "" || e.Type != "" || e.Code != "")
}

var (
	keyUsage         = []byte(`"usage"`)
	keyModel         = []byte(`"model"`)
	keyError         = []byte(`"error"`)
	keyUsageMetadata = []byte(`"usageMetadata"`)
	keyModelVersion  = []byte(`"modelVersion"`)
	keyID            = []byte(`"id"`)
	keyResponseID    = []byte(`"responseId"`)
	keyFinishReasonG = []byte(`"finishReason"`)
	done             = []byte("[DONE]")
)

// event handles one SSE event of the upstream stream. Events after the
// terminator are not read: the SDK stops there, and so must the scan, or
// what the stack makes of a stream would depend on where the reads split it
// (the stack stops reading at the terminator when it ends a read).
func (s *ResponseScanner) event(name, data []byte) {
	if s.terminated {
		return
	}
	if !bytes.Equal(data, done) && !looksLikeObject(data) {
		s.malformed = true
	}
	switch s.format {
	case provider.FormatAnthropicMessages:
		s.anthropicEvent(name, data)
	case provider.FormatOpenAIResponses:
		s.responsesEvent(name, data)
	case provider.FormatGemini:
		s.geminiEvent(data)
	default:
		s.chatEvent(name, data)
	}
}

// chatEvent handles OpenAI chat chunks and those of OpenAI-compatible
// providers: the last non-null usage anywhere wins (a top-level usage, or
// the x_groq.usage of older Groq streams; the top-level one when a chunk has
// both); a top-level "error" is a mid-stream error. Within a chunk the last
// of duplicate keys is the one read, as the SDK reads it.
func (s *ResponseScanner) chatEvent(name, data []byte) {
	if bytes.Equal(data, done) {
		s.terminated = true
		return
	}
	if string(name) == "error" {
		if v, ok := jsonscan.Get(data, "error"); ok {
			s.setErr(v)
		} else {
			s.setErr(data)
		}
		return
	}
	esc := mayHaveEscapedKey(data)
	if s.model == "" && (esc || bytes.Contains(data, keyModel)) {
		if v, ok := jsonscan.Get(data, "model"); ok {
			s.setModel(v)
		}
	}
	if s.id == "" && (esc || bytes.Contains(data, keyID)) {
		if v, ok := jsonscan.Get(data, "id"); ok {
			s.setID(v)
		}
	}
	u := indexUsage(data)
	parse := esc || errorOrFinish(data)
	if !parse && (u < 0 || onlyNullUsage(data, u)) {
		return
	}
	var choices, usage, groq, errv []byte
	it := jsonscan.Members(data)
	for it.Next() {
		switch string(it.Key()) {
		case "choices":
			choices = it.Value()
		case "usage":
			usage = it.Value()
		case "x_groq":
			groq = it.Value()
		case "error":
			errv = it.Value()
		}
	}
	if parse && choices != nil {
		s.choiceReasons(choices, "finish_reason")
	}
	if jsonscan.IsObject(groq) {
		if g, ok := jsonscan.Get(groq, "usage"); ok {
			s.takeUsage(openAIUsage(g))
		}
	}
	s.takeUsage(openAIUsage(usage))
	s.setErrMember(errv)
}

// mayHaveEscapedKey reports whether data may spell a key with a \u escape
// of an ASCII letter or underscore (\u0041 to \u007f), as no encoder does
// unasked but a client or upstream may: the searches for "usage", "error"
// and the like would miss such a key, so the event is parsed instead. Escapes
// encoders do write (\u003c, \u0026, control characters, non-ASCII such as
// \u00e9) do not count, so real traffic keeps the fast path.
func mayHaveEscapedKey(data []byte) bool {
	for {
		i := bytes.IndexByte(data, '\\')
		if i < 0 {
			return false
		}
		data = data[i+1:]
		if len(data) > 0 && data[0] == '\\' { // an escaped backslash: "\\u0065" is text
			data = data[1:]
			continue
		}
		if len(data) >= 4 && data[0] == 'u' && data[1] == '0' && data[2] == '0' && data[3] >= '4' && data[3] <= '7' {
			return true
		}
	}
}

// onlyNullUsage reports whether the "usage" key found at data[i:] is
// followed by null and is the only one in data: the common OpenAI chunk
// with "usage":null needs no parsing.
func onlyNullUsage(data []byte, i int) bool {
	j := jsonscan.SkipSpace(data, i+len(keyUsage))
	if j >= len(data) || data[j] != ':' {
		return false
	}
	j = jsonscan.SkipSpace(data, j+1)
	if !bytes.HasPrefix(data[j:], []byte("null")) {
		return false
	}
	return indexUsage(data[j:]) < 0
}

var usageName = []byte(`usage"`)

// indexUsage returns the index of the first `"usage"` in data, or -1. It
// searches without the opening quote, one of the most frequent bytes of
// JSON: from a rarer first byte the search skips ahead at memory speed.
func indexUsage(data []byte) int {
	off := 0
	for {
		i := bytes.Index(data[off:], usageName)
		if i < 0 {
			return -1
		}
		if i += off; i > 0 && data[i-1] == '"' {
			return i - 1
		}
		off = i + len(usageName)
	}
}

// eventType returns the event's name, or the "type" member of its data.
func eventType(name, data []byte) []byte {
	if len(name) > 0 {
		return name
	}
	if v, ok := jsonscan.Get(data, "type"); ok {
		if t, ok := jsonscan.String(v); ok {
			return t
		}
	}
	return nil
}

// responsesEvent handles the Responses API stream: usage, model, id, status
// and incomplete_details in the "response" of the terminal event
// (response.completed, .incomplete, .failed), the model and id early from
// response.created.
func (s *ResponseScanner) responsesEvent(name, data []byte) {
	switch t := eventType(name, data); string(t) {
	case "response.completed", "response.incomplete", "response.failed":
		s.terminated = true
		resp, ok := jsonscan.Get(data, "response")
		if !ok || !jsonscan.IsObject(resp) {
			return
		}
		var id, status, details, usage, model, errv []byte
		it := jsonscan.Members(resp)
		for it.Next() {
			switch v := it.Value(); string(it.Key()) {
			case "id":
				id = v
			case "status":
				status = v
			case "incomplete_details":
				details = v
			case "usage":
				usage = v
			case "model":
				model = v
			case "error":
				errv = v
			}
		}
		if s.id == "" {
			s.setID(id)
		}
		s.takeUsage(openAIUsage(usage))
		s.setModel(model)
		s.setErrMember(errv)
		s.responsesReason(status, details, t[len("response."):])
	case "response.created", "response.in_progress", "response.queued":
		if s.model == "" {
			if v, ok := jsonscan.Get(data, "response", "model"); ok {
				s.setModel(v)
			}
		}
		if s.id == "" {
			if v, ok := jsonscan.Get(data, "response", "id"); ok {
				s.setID(v)
			}
		}
	case "error":
		if v, ok := jsonscan.Get(data, "error"); ok && jsonscan.IsObject(v) {
			s.setErr(v)
		} else {
			s.setErr(data) // {"type":"error","code","message","param"}
		}
		if s.err != nil && s.err.Type == "error" {
			s.err.Type = ""
		}
	}
}

// anthropicEvent handles the Messages stream: message_start carries the
// model, the id and the first usage (input and cache counts, output 1); each
// message_delta replaces the counts it carries (output_tokens is cumulative)
// and the stop_reason.
func (s *ResponseScanner) anthropicEvent(name, data []byte) {
	switch t := eventType(name, data); string(t) {
	case "message_start":
		msg, ok := jsonscan.Get(data, "message")
		if !ok || !jsonscan.IsObject(msg) {
			return
		}
		var model, id, reason, usage []byte
		it := jsonscan.Members(msg)
		for it.Next() {
			switch v := it.Value(); string(it.Key()) {
			case "model":
				model = v
			case "id":
				id = v
			case "stop_reason":
				reason = v
			case "usage":
				usage = v
			}
		}
		s.setModel(model)
		s.setID(id)
		s.setReasonValue(0, reason)
		if usage != nil {
			s.anthropic = anthropicUsage{}
			s.takeAnthropic(s.anthropic.merge(usage))
		}
	case "message_delta":
		if v, ok := jsonscan.Get(data, "usage"); ok {
			s.takeAnthropic(s.anthropic.merge(v))
		}
		if v, ok := jsonscan.Get(data, "delta", "stop_reason"); ok {
			s.setReasonValue(0, v)
		}
	case "message_stop":
		s.terminated = true
	case "error":
		if v, ok := jsonscan.Get(data, "error"); ok {
			s.setErr(v)
		}
	}
}

// geminiEvent handles one GenerateContentResponse chunk: the last
// usageMetadata with counts wins; modelVersion is the model, responseId the
// id; the last finishReason of each candidate is its finish reason.
func (s *ResponseScanner) geminiEvent(data []byte) {
	esc := mayHaveEscapedKey(data)
	hasUsage := bytes.Contains(data, keyUsageMetadata)
	wantModel := s.model == "" && bytes.Contains(data, keyModelVersion)
	wantID := s.id == "" && bytes.Contains(data, keyResponseID)
	finish := esc || bytes.Contains(data, keyFinishReasonG)
	hasErr := bytes.Contains(data, keyError)
	if !hasUsage && !wantModel && !wantID && !finish && !hasErr {
		return
	}
	var usage, model, id, candidates, errv []byte
	it := jsonscan.Members(data)
	for it.Next() {
		switch v := it.Value(); string(it.Key()) {
		case "usageMetadata":
			usage = v
		case "modelVersion":
			model = v
		case "responseId":
			id = v
		case "candidates":
			candidates = v
		case "error":
			errv = v
		}
	}
	s.takeUsage(geminiUsage(usage))
	s.setModel(model)
	if s.id == "" {
		s.setID(id)
	}
	if finish && candidates != nil {
		s.choiceReasons(candidates, "finishReason")
	}
	s.setErrMember(errv)
}
