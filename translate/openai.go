package translate

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
	"github.com/aigateway-go/aigateway/internal/wire"
	"github.com/aigateway-go/aigateway/provider"
)

// openAICodec is the Codec of OpenAI chat completions (POST
// .../chat/completions), the format OpenAI-compatible providers speak too.
//
// Reading a request, what the other formats cannot honour is listed in
// Request.Unsupported, as OpenAI spells it: n > 1, logprobs and
// top_logprobs, a logit_bias, non-zero presence_penalty and
// frequency_penalty, seed, audio and non-text modalities, prediction,
// web_search_options, a verbosity other than the default "medium", the
// legacy functions and function_call, audio and file content parts,
// data URLs that are not base64, assistant audio, custom tools, and an
// allowed_tools tool choice that names one. Dropped because they cannot
// change the answer: store, metadata, service_tier, prompt_cache_key,
// prompt_cache_retention, stream_options other than include_usage, the
// name of a message, an image's detail, and members the format does not
// define (providers and clients add their own). A tool's strict is
// Tool.Strict; response_format json_schema keeps its name, description
// and strict (Request.ResponseName, ResponseDescription, ResponseStrict),
// written back as they came (a schema from another format is named
// "response", and strict when its format enforces schemas). strict is
// written only with a schema within OpenAI's strict subset (every object
// closed, every property required: openAIStrictSchema), which OpenAI
// refuses any other with: a schema another format enforced without those
// rules goes without it, as before strict crossed formats, and a tool
// without parameters has no arguments to hold to a schema. A
// refusal in an assistant turn of the history is what the model said:
// text. An allowed_tools tool choice (auto or required over the function
// tools it names) is ToolChoice.Allowed, with its mode; one whose list is
// empty or names no function is malformed (there is no subset to read).
// A subset is written back as allowed_tools, every tool still in tools,
// for OpenAI itself (or no target given); for the other providers of the
// format, which do not document allowed_tools, as the subset's tools
// alone with tool_choice auto or required; it is refused (naming
// tool_choice) when it names a tool the request does not define.
//
// Writing a request (a caller of another format reaching an OpenAI
// model): the system parts become one system message at the start,
// joined by a blank line, since not every OpenAI-compatible server takes
// an array there; thinking parts are dropped, as chat completions has no
// way to take reasoning back (the model answers the same without it);
// a tool result's IsError is dropped (its text says what failed); tool
// results become tool messages, ahead of the rest of their turn. The cap
// is max_completion_tokens for OpenAI's reasoning models (o1, o3, o4,
// gpt-5 ...), which refuse max_tokens, and for every Azure OpenAI target
// on an API version that takes it (a deployment's name does not reveal
// its model: see openAICompletionTokens), and max_tokens for every other
// model, the one name every OpenAI-compatible server accepts. A thinking
// budget becomes the nearest reasoning_effort (BudgetEffort); disabled
// thinking sends none (only some models take "none"), and asking for the
// thoughts back is dropped: chat completions never returns them. TopK is
// refused (chat completions has no top_k). tool_choice and
// parallel_tool_calls are sent only with tools, as OpenAI refuses them
// otherwise. A streamed request always asks for stream_options.
// include_usage: the stack needs the usage.
//
// Answers: a refusal (message.refusal) is read as text with
// FinishContentFilter, the nearest the other formats have (Anthropic's
// stop_reason "refusal"); a refusal written back for an OpenAI caller is
// content with finish_reason "content_filter". The reasoning_content (or
// reasoning) some compatible providers send is read as thinking, and
// never written for an OpenAI caller: it is no part of OpenAI's format.
// An answer keeps the upstream's id, or gets "chatcmpl-" and a random
// suffix when it has none. OpenAI has no finish reason for a failure:
// FinishError and FinishUnknown are written as "stop" ("tool_calls" after
// tool calls), the failure itself reaching the caller as an error.
type openAICodec struct{}

// errOpenAIMalformed is wrapped by the errors about a body that is not an
// OpenAI chat request, answer or stream chunk.
var errOpenAIMalformed = errors.New("translate: malformed OpenAI chat completions JSON")

func openAIBad(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%w: %s: %w", errOpenAIMalformed, what, err)
	}
	return fmt.Errorf("%w: %s", errOpenAIMalformed, what)
}

func (openAICodec) Format() provider.Format { return provider.FormatOpenAIChat }

// ---- reading JSON values ----

// openAIStr reads a string value; null and absent are "" (present false).
func openAIStr(v []byte, what string) (s string, present bool, err error) {
	if v == nil || jsonscan.IsNull(v) {
		return "", false, nil
	}
	b, ok := jsonscan.String(v)
	if !ok {
		return "", false, openAIBad(what+" is not a string", nil)
	}
	return string(b), true, nil
}

// openAIFloat reads a number; null and absent are not present.
func openAIFloat(v []byte, what string) (f float64, present bool, err error) {
	if v == nil || jsonscan.IsNull(v) {
		return 0, false, nil
	}
	if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return 0, false, openAIBad(what+" is not a number", nil)
	}
	f, err = strconv.ParseFloat(string(v), 64)
	if err != nil { // syntax, or beyond a float64 (1e400): no temperature or penalty
		return 0, false, openAIBad(what+" is not a finite number", nil)
	}
	return f, true, nil
}

// openAIInt reads a whole number (a fraction of zeros, "12.0", is one, as
// jsonscan.Int reads it).
func openAIInt(v []byte, what string) (n int64, present bool, err error) {
	if v == nil || jsonscan.IsNull(v) {
		return 0, false, nil
	}
	n, ok := jsonscan.Int(v)
	if !ok {
		return 0, false, openAIBad(what+" is not an integer", nil)
	}
	return n, true, nil
}

func openAIBool(v []byte, what string) (b, present bool, err error) {
	if v == nil || jsonscan.IsNull(v) {
		return false, false, nil
	}
	b, ok := jsonscan.Bool(v)
	if !ok {
		return false, false, openAIBad(what+" is not a boolean", nil)
	}
	return b, true, nil
}

// openAISet reports whether v is there and not null.
func openAISet(v []byte) bool { return v != nil && !jsonscan.IsNull(v) }

// ---- writing JSON strings ----

// ---- one-pass reading ----

// openAICursor reads one JSON document in a single pass, checking its
// structure as it goes, and descends into the values its caller wants.
// jsonscan.Iter checks each value it passes over, so that nested Iters
// read a body's nested bytes once per level (tool arguments, six levels
// down in a stream chunk, six times); the cursor reads each byte once,
// skipping what its caller does not want with jsonscan.SkipValue. Keys
// are read decoded, as the SDKs read them. Its first error stops it.
type openAICursor struct {
	data []byte
	pos  int
	err  error
	// The current member's key: data[keyStart:keyEnd], or keyBuf (a
	// decoded copy) when it has escapes (keyEnd < 0). Offsets rather
	// than a slice: an int costs no write barrier when the GC is
	// marking, and every key of a body is stored here.
	keyStart, keyEnd int
	keyBuf           []byte
}

// key is the current member's key, decoded.
func (c *openAICursor) key() []byte {
	if c.keyEnd < 0 {
		return c.keyBuf
	}
	return c.data[c.keyStart:c.keyEnd]
}

// function reads a tool call's function object, a request's or a stream
// chunk's: its name and arguments, raw (nil for a null function); notObject
// is the error when it is neither an object nor null.
func (c *openAICursor) function(notObject string) (name, args []byte) {
	if c.peek() == 'n' {
		c.value()
		return nil, nil
	}
	fn := c.enter('{', notObject)
	for c.next(&fn) {
		switch string(c.key()) {
		case "name":
			name = c.value()
		case "arguments":
			args = c.value()
		default:
			c.value()
		}
	}
	return name, args
}

// openAIFrame is one container the cursor is in.
type openAIFrame struct {
	close byte
	n     int
	open  bool
}

// fail stops the cursor with err (the first one wins).
func (c *openAICursor) fail(err error) {
	if c.err == nil {
		c.err = err
	}
	c.pos = len(c.data)
}

func (c *openAICursor) syntax(msg string) {
	c.fail(openAIBad("JSON", &jsonscan.SyntaxError{Offset: c.pos, Msg: msg}))
}

// peek returns the first byte of the next value, 0 at the end.
func (c *openAICursor) peek() byte {
	c.pos = openAISpace(c.data, c.pos)
	if c.pos < len(c.data) {
		return c.data[c.pos]
	}
	return 0
}

// enter opens the container ('{' or '[') at the cursor; what opens
// another value fails the cursor with what.
func (c *openAICursor) enter(open byte, what string) openAIFrame {
	if c.peek() != open {
		if c.err == nil {
			c.fail(openAIBad(what, nil))
		}
		return openAIFrame{}
	}
	c.pos++
	if open == '{' {
		return openAIFrame{close: '}', open: true}
	}
	return openAIFrame{close: ']', open: true}
}

// next moves to the next member (reading its key and colon) or element
// of f: false at its end, or once the cursor failed.
func (c *openAICursor) next(f *openAIFrame) bool {
	if !f.open || c.err != nil {
		return false
	}
	// Every key of the body comes through here: data and i stay in
	// registers, c.pos is written when the cursor moves on or fails.
	data := c.data
	i := openAISpace(data, c.pos)
	var b byte
	if i < len(data) {
		b = data[i]
	}
	switch {
	case b == f.close:
		c.pos = i + 1
		f.open = false
		return false
	case f.n > 0 && b != ',':
		c.pos = i
		c.syntax("expected ',' or '" + string(f.close) + "'")
		return false
	case f.n > 0:
		i = openAISpace(data, i+1)
		b = 0
		if i < len(data) {
			b = data[i]
		}
	}
	f.n++
	c.pos = i
	if f.close == ']' {
		if b == 0 {
			c.syntax("unexpected end of input")
			return false
		}
		return true
	}
	if b != '"' {
		c.syntax("expected object key")
		return false
	}
	// Keys are short and plain: one byte loop finds their end, or the
	// escape that makes them one to decode.
	end := i + 1
	for end < len(data) && data[end] != '"' && data[end] != '\\' {
		end++
	}
	if end < len(data) && data[end] == '"' {
		c.keyStart, c.keyEnd = i+1, end
		end++
	} else {
		var err error
		if end, err = jsonscan.SkipValue(data, i); err != nil {
			c.fail(openAIBad("JSON", err))
			return false
		}
		c.keyBuf, _ = jsonscan.AppendString(nil, data[i:end]) // keyBuf may be openAIKeyChoices: never written
		c.keyEnd = -1
	}
	end = openAISpace(data, end)
	if end >= len(data) || data[end] != ':' {
		c.pos = end
		c.syntax("expected ':'")
		return false
	}
	c.pos = end + 1
	return true
}

// value skips the value at the cursor, checking it, and returns it raw
// (nil once the cursor failed).
func (c *openAICursor) value() []byte {
	if c.err != nil {
		return nil
	}
	start := openAISpace(c.data, c.pos)
	end := openAISkip(c.data, start)
	if end < 0 {
		_, err := jsonscan.SkipValue(c.data, start)
		c.fail(openAIBad("JSON", err))
		return nil
	}
	c.pos = end
	return c.data[start:end]
}

// openAISpace returns the index of the first byte at or after i that is
// not whitespace: at once when data[i] is not (providers write compact
// JSON).
func openAISpace(data []byte, i int) int {
	if i < len(data) && data[i] > ' ' {
		return i
	}
	return jsonscan.SkipSpace(data, i)
}

// openAISkip returns the index past the value at data[i], as
// jsonscan.SkipValue ends it, or -1 when it is not well formed
// (SkipValue then says why). Strings, null and whole numbers,
// most of what a decoder passes over, are read here without a call.
func openAISkip(data []byte, i int) int {
	if i >= len(data) {
		return -1
	}
	switch c := data[i]; {
	case c == '"':
		return jsonscan.StringEnd(data, i)
	case c == 'n':
		if len(data)-i >= 4 && string(data[i:i+4]) == "null" {
			return i + 4
		}
	case c >= '0' && c <= '9':
		j := i + 1
		if c != '0' {
			for j < len(data) && data[j] >= '0' && data[j] <= '9' {
				j++
			}
		}
		if j == len(data) || data[j] != '.' && data[j] != 'e' && data[j] != 'E' {
			return j
		}
	}
	return jsonscan.ValueEnd(data, i)
}

// openAIStrictSchema reports whether schema is within the subset of JSON
// Schema OpenAI's strict mode takes (structured outputs): every object
// closed (additionalProperties false) with every property required, and
// no composition but anyOf. Another format's schema (Anthropic's and
// Gemini's, enforced by their providers without these rules) often is
// not, and OpenAI answers strict: true with such a schema 400 "Invalid
// schema": the encoder asks for strict only when it is. The check follows
// properties, items, anyOf, $defs and definitions, at most
// openAIStrictDepth deep; of duplicate type, properties, required and
// additionalProperties members the last counts, as in OpenAI's decoder,
// while every duplicate items, anyOf, $defs or definitions must pass.
func openAIStrictSchema(schema []byte) bool {
	return openAIStrictAt(schema, 0)
}

const openAIStrictDepth = 64

func openAIStrictAt(v []byte, depth int) bool {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || v[0] != '{' {
		return len(v) > 0 // true, false: schemas without members
	}
	if depth >= openAIStrictDepth {
		return false
	}
	var typ, props, required, additional []byte
	type sub struct {
		v     []byte
		named bool // $defs, definitions: schemas by name
	}
	var subs []sub // the schemas under items, anyOf, $defs and definitions
	it := jsonscan.Members(v)
	for it.Next() {
		switch string(it.Key()) {
		case "type":
			typ = it.Value()
		case "properties":
			props = it.Value()
		case "required":
			required = it.Value()
		case "additionalProperties":
			additional = it.Value()
		case "items", "anyOf":
			subs = append(subs, sub{v: it.Value()})
		case "$defs", "definitions":
			subs = append(subs, sub{v: it.Value(), named: true})
		case "allOf", "oneOf", "not", "if", "then", "else", "patternProperties", "dependentSchemas", "prefixItems":
			return false // not in the strict subset
		}
	}
	if it.Err() != nil {
		return false
	}
	if props != nil || openAIObjectType(typ) {
		if string(bytes.TrimSpace(additional)) != "false" {
			return false
		}
		if props != nil {
			pit := jsonscan.Members(props)
			for pit.Next() {
				if !openAIRequires(required, pit.Key()) || !openAIStrictAt(pit.Value(), depth+1) {
					return false
				}
			}
			if pit.Err() != nil {
				return false
			}
		}
	}
	for _, sc := range subs {
		v := bytes.TrimSpace(sc.v)
		if !sc.named && len(v) > 0 && v[0] == '{' {
			if !openAIStrictAt(v, depth+1) { // items: one schema
				return false
			}
			continue
		}
		sit := jsonscan.Elements(v) // anyOf, or items as a list
		if sc.named {
			sit = jsonscan.Members(v)
		}
		for sit.Next() {
			if !openAIStrictAt(sit.Value(), depth+1) {
				return false
			}
		}
		if sit.Err() != nil {
			return false
		}
	}
	return true
}

// openAIObjectType reports whether a schema's type is, or includes,
// "object".
func openAIObjectType(typ []byte) bool {
	typ = bytes.TrimSpace(typ)
	if len(typ) > 0 && typ[0] == '[' {
		it := jsonscan.Elements(typ)
		for it.Next() {
			if s, ok := jsonscan.String(it.Value()); ok && string(s) == "object" {
				return true
			}
		}
		return false
	}
	s, ok := jsonscan.String(typ)
	return ok && string(s) == "object"
}

// openAIRequires reports whether the required array lists name.
func openAIRequires(required, name []byte) bool {
	it := jsonscan.Elements(bytes.TrimSpace(required))
	for len(required) > 0 && it.Next() {
		if s, ok := jsonscan.String(it.Value()); ok && bytes.Equal(s, name) {
			return true
		}
	}
	return false
}

// openAIValid reports whether v is one JSON value, with space around it
// or not, as jsonscan.Valid does (a tool's parameters, a schema).
func openAIValid(v []byte) bool {
	end := jsonscan.ValueEnd(v, 0)
	return end >= 0 && jsonscan.SkipSpace(v, end) == len(v)
}

// end checks that nothing but space follows the document.
func (c *openAICursor) end() {
	if c.err == nil && openAISpace(c.data, c.pos) != len(c.data) {
		c.syntax("data after the top-level value")
	}
}

// ---- requests ----

// openAIRequestMembers are the raw members of a request body that are
// read after it (each the last of duplicate keys, as OpenAI's server
// reads them).
type openAIRequestMembers struct {
	model, toolChoice, parallel                                []byte
	maxTokens, maxCompletion, temperature, topP, topK, stop    []byte
	user, safetyID, effort, responseFormat, stream, streamOpts []byte
	n, logprobs, topLogprobs, logitBias, presence, frequency   []byte
	seed, audio, modalities, prediction, webSearch, functions  []byte
	functionCall, verbosity                                    []byte
}

// openAIRequestBlock is a request and what it most often points to,
// allocated together: the Request, room for its first messages and
// parts, a system prompt and a tool, and its optional numbers. A request
// that needs more grows out of it (an append copies).
type openAIRequestBlock struct {
	r           Request
	messages    [8]Message
	parts       [8]Part
	system      [1]Part
	tools       [1]Tool
	temperature float64
	topP        float64
	topK        int64
	parallel    bool
}

// openAIRequestReader reads one request into r.
type openAIRequestReader struct {
	r           *Request
	blk         *openAIRequestBlock // r is blk.r
	c           openAICursor
	sawMessages bool
	// toolTurn: the last message read was a tool message, so the next
	// joins its user turn.
	toolTurn bool

	// The message being read (reused from one to the next), with its
	// raw content parts and tool calls: the first ones in the arrays,
	// past them all of them in the slices (see openAIFew).
	msg     openAIMessageMembers
	content openAIFew[openAIContentPart]
	calls   openAIFew[openAIToolCallRaw]

	// pool holds the parts of the request's messages, one after the
	// other: each message's Parts is a full slice of it (capped, so that
	// an append copies), so that a request costs one or two allocations
	// for its parts rather than one a message. turnStart is where the
	// parts of the last message start.
	pool      []Part
	turnStart int

	// arena holds the request's strings, decoded, one after the other:
	// one allocation for them all rather than one each. Its bytes are
	// never written again once a string points at them (a full arena
	// grows into a new array; the strings keep the old one).
	arena []byte
}

// str reads a string value into the arena; null and absent are ""
// (present false).
func (rd *openAIRequestReader) str(v []byte, what string) (s string, present bool, err error) {
	if v == nil || jsonscan.IsNull(v) {
		return "", false, nil
	}
	start := len(rd.arena)
	// Invalid bytes become U+FFFD, as the SDKs read them.
	buf, ok := jsonscan.AppendText(rd.arena, v)
	if !ok {
		return "", false, openAIBad(what+" is not a string", nil)
	}
	if unsafe.SliceData(buf) == unsafe.SliceData(rd.arena) {
		rd.arena = rd.arena[:len(buf)] // the length only: no write barrier
	} else {
		rd.arena = buf
	}
	decoded := rd.arena[start:]
	if len(decoded) == 0 {
		return "", true, nil
	}
	return unsafe.String(unsafe.SliceData(decoded), len(decoded)), true, nil
}

// word reads a string that names something (a role, a type), which the
// reader compares and never keeps: the body's own bytes when they are
// plain ASCII, rather than a copy in the arena; else as str reads it.
func (rd *openAIRequestReader) word(v []byte, what string) (s string, present bool, err error) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		if body := v[1 : len(v)-1]; jsonscan.PlainLen(body) == len(body) {
			return unsafe.String(unsafe.SliceData(body), len(body)), true, nil
		}
	}
	return rd.str(v, what)
}

// openAIMessageMembers are the raw members of one message. content is
// its value when it is a string or null; an array is read into the
// reader's content parts (openAIRequestReader.contents).
type openAIMessageMembers struct {
	role, content, toolCallID, refusal, reasoning, audio, functionCall openAISpan
	contentArray, hasToolCalls                                         bool
}

// openAISpan is a raw value of the body by its offsets (end 0: absent):
// the reader's scratch holds offsets, not slices, so that it holds no
// pointer and lives in the reader, on its caller's stack.
type openAISpan struct{ start, end int }

// span is v's place in the body (v is a slice of it, or nil).
func (rd *openAIRequestReader) span(v []byte) openAISpan {
	if v == nil {
		return openAISpan{}
	}
	start := cap(rd.c.data) - cap(v)
	return openAISpan{start, start + len(v)}
}

// raw is the value at s, nil when absent.
func (rd *openAIRequestReader) raw(s openAISpan) []byte {
	if s.end == 0 {
		return nil
	}
	return rd.c.data[s.start:s.end]
}

// openAIContentPart is one raw element of a content array.
type openAIContentPart struct {
	typ, text, refusal, url openAISpan
}

// openAIToolCallRaw is one raw element of an assistant's tool_calls.
type openAIToolCallRaw struct {
	id, typ, name, args openAISpan
}

// openAIFew holds the few items of a message (its content parts, its tool
// calls) in place, and spills into a slice kept from message to message
// when there are more.
type openAIFew[T any] struct {
	buf  [4]T
	more []T
	n    int
}

// items are the items added since the last reset.
func (f *openAIFew[T]) items() []T {
	if f.n <= len(f.buf) {
		return f.buf[:f.n]
	}
	return f.more
}

func (f *openAIFew[T]) add(v T) {
	switch n := f.n; {
	case n < len(f.buf):
		f.buf[n] = v
	case n == len(f.buf):
		f.more = append(append(f.more[:0], f.buf[:]...), v)
	default:
		f.more = append(f.more, v)
	}
	f.n++
}

func (rd *openAIRequestReader) fail(err error) { rd.c.fail(err) }

// keep copies raw JSON (a tool's parameters, a response schema) into
// the arena, capped so that an append to it copies.
func (rd *openAIRequestReader) keep(v []byte) []byte {
	start := len(rd.arena)
	rd.arena = append(rd.arena, v...)
	return rd.arena[start:len(rd.arena):len(rd.arena)]
}

func (rd *openAIRequestReader) unsupported(param string) {
	rd.r.addUnsupported(param)
}

func (openAICodec) DecodeRequest(body []byte, _ RequestMeta) (*Request, error) {
	var m openAIRequestMembers
	blk := &openAIRequestBlock{}
	r := &blk.r
	// The arena holds every string decoded, and raw JSON kept: no more
	// than the body, but for invalid UTF-8 (U+FFFD is longer).
	rd := openAIRequestReader{r: r, blk: blk, arena: make([]byte, 0, len(body))}
	rd.c.data = body
	c := &rd.c
	top := c.enter('{', "the request is not an object")
	for c.next(&top) {
		switch string(c.key()) {
		case "messages":
			rd.messages()
		case "tools":
			rd.tools()
		case "model":
			m.model = c.value()
		case "tool_choice":
			m.toolChoice = c.value()
		case "parallel_tool_calls":
			m.parallel = c.value()
		case "max_tokens":
			m.maxTokens = c.value()
		case "max_completion_tokens":
			m.maxCompletion = c.value()
		case "temperature":
			m.temperature = c.value()
		case "top_p":
			m.topP = c.value()
		case "top_k":
			m.topK = c.value()
		case "stop":
			m.stop = c.value()
		case "user":
			m.user = c.value()
		case "safety_identifier":
			m.safetyID = c.value()
		case "reasoning_effort":
			m.effort = c.value()
		case "response_format":
			m.responseFormat = c.value()
		case "stream":
			m.stream = c.value()
		case "stream_options":
			m.streamOpts = c.value()
		case "n":
			m.n = c.value()
		case "logprobs":
			m.logprobs = c.value()
		case "top_logprobs":
			m.topLogprobs = c.value()
		case "logit_bias":
			m.logitBias = c.value()
		case "presence_penalty":
			m.presence = c.value()
		case "frequency_penalty":
			m.frequency = c.value()
		case "seed":
			m.seed = c.value()
		case "audio":
			m.audio = c.value()
		case "modalities":
			m.modalities = c.value()
		case "prediction":
			m.prediction = c.value()
		case "web_search_options":
			m.webSearch = c.value()
		case "functions":
			m.functions = c.value()
		case "function_call":
			m.functionCall = c.value()
		case "verbosity":
			m.verbosity = c.value()
		default:
			c.value()
		}
	}
	c.end()
	if c.err != nil {
		return nil, c.err
	}
	if !rd.sawMessages {
		return nil, openAIBad("messages is not an array", nil)
	}
	if err := rd.members(&m); err != nil {
		return nil, err
	}
	return r, nil
}

func (rd *openAIRequestReader) members(m *openAIRequestMembers) error {
	r := rd.r
	var err error
	if r.Model, _, err = rd.str(m.model, "model"); err != nil {
		return err
	}
	if r.Stream, _, err = openAIBool(m.stream, "stream"); err != nil {
		return err
	}
	if r.Stream && openAISet(m.streamOpts) {
		v, _ := jsonscan.Get(m.streamOpts, "include_usage")
		if r.StreamUsage, _, err = openAIBool(v, "stream_options.include_usage"); err != nil {
			return err
		}
	}
	if err := rd.toolChoice(m.toolChoice); err != nil {
		return err
	}
	if b, ok, err := openAIBool(m.parallel, "parallel_tool_calls"); err != nil {
		return err
	} else if ok {
		rd.blk.parallel = b
		r.ParallelToolCalls = &rd.blk.parallel
	}
	// max_completion_tokens replaced max_tokens; a body with both means it.
	for _, v := range [...]struct {
		raw  []byte
		name string
	}{{m.maxTokens, "max_tokens"}, {m.maxCompletion, "max_completion_tokens"}} {
		n, ok, err := openAIInt(v.raw, v.name)
		if err != nil {
			return err
		}
		if ok {
			r.MaxTokens = n
		}
	}
	if f, ok, err := openAIFloat(m.temperature, "temperature"); err != nil {
		return err
	} else if ok {
		rd.blk.temperature = f
		r.Temperature = &rd.blk.temperature
	}
	if f, ok, err := openAIFloat(m.topP, "top_p"); err != nil {
		return err
	} else if ok {
		rd.blk.topP = f
		r.TopP = &rd.blk.topP
	}
	// top_k is no OpenAI parameter, but vLLM and others take it: read it,
	// so that a target that has it gets it.
	if n, ok, err := openAIInt(m.topK, "top_k"); err != nil {
		return err
	} else if ok {
		rd.blk.topK = n
		r.TopK = &rd.blk.topK
	}
	if r.Stop, err = rd.stop(m.stop); err != nil {
		return err
	}
	if r.User, _, err = rd.str(m.user, "user"); err != nil {
		return err
	}
	// safety_identifier replaced user.
	if s, ok, err := rd.str(m.safetyID, "safety_identifier"); err != nil {
		return err
	} else if ok {
		r.User = s
	}
	if s, _, err := rd.str(m.effort, "reasoning_effort"); err != nil {
		return err
	} else if s == "none" {
		r.Reasoning.Disabled = true
	} else {
		r.Reasoning.Effort = s
	}
	if err := rd.responseFormat(m.responseFormat); err != nil {
		return err
	}
	return rd.refusals(m)
}

// refusals lists what no other format can honour.
func (rd *openAIRequestReader) refusals(m *openAIRequestMembers) error {
	if n, _, err := openAIInt(m.n, "n"); err != nil {
		return err
	} else if n > 1 {
		rd.unsupported("n")
	}
	if b, _, err := openAIBool(m.logprobs, "logprobs"); err != nil {
		return err
	} else if b {
		rd.unsupported("logprobs")
	}
	if n, _, err := openAIInt(m.topLogprobs, "top_logprobs"); err != nil {
		return err
	} else if n > 0 {
		rd.unsupported("top_logprobs")
	}
	if openAISet(m.logitBias) {
		if it := jsonscan.Members(m.logitBias); it.Next() {
			rd.unsupported("logit_bias")
		}
	}
	for _, p := range [...]struct {
		raw  []byte
		name string
	}{{m.presence, "presence_penalty"}, {m.frequency, "frequency_penalty"}} {
		f, _, err := openAIFloat(p.raw, p.name)
		if err != nil {
			return err
		}
		if f != 0 {
			rd.unsupported(p.name)
		}
	}
	for _, p := range [...]struct {
		raw  []byte
		name string
	}{{m.seed, "seed"}, {m.audio, "audio"}, {m.prediction, "prediction"},
		{m.webSearch, "web_search_options"}, {m.functions, "functions"}, {m.functionCall, "function_call"}} {
		if openAISet(p.raw) {
			rd.unsupported(p.name)
		}
	}
	if openAISet(m.modalities) {
		it := jsonscan.Elements(m.modalities)
		for it.Next() {
			if s, ok := jsonscan.String(it.Value()); !ok || string(s) != "text" {
				rd.unsupported("modalities")
			}
		}
		if it.Err() != nil {
			return openAIBad("modalities", it.Err())
		}
	}
	if s, ok, err := rd.str(m.verbosity, "verbosity"); err != nil {
		return err
	} else if ok && s != "medium" {
		rd.unsupported("verbosity")
	}
	return nil
}

func (rd *openAIRequestReader) stop(v []byte) ([]string, error) {
	if !openAISet(v) {
		return nil, nil
	}
	if v[0] == '"' {
		s, _, err := rd.str(v, "stop")
		return []string{s}, err
	}
	var stop []string
	it := jsonscan.Elements(v)
	for it.Next() {
		s, _, err := rd.str(it.Value(), "stop[]")
		if err != nil {
			return nil, err
		}
		stop = append(stop, s)
	}
	if it.Err() != nil {
		return nil, openAIBad("stop", it.Err())
	}
	return stop, nil
}

// tools reads the tools array at the cursor (a later "tools" replaces
// it).
func (rd *openAIRequestReader) tools() {
	c := &rd.c
	rd.r.Tools = rd.r.Tools[:0]
	if c.peek() == 'n' {
		c.value()
		return
	}
	list := c.enter('[', "tools is not an array")
	for c.next(&list) {
		var typ, name, desc, params, strict []byte
		tool := c.enter('{', "tools[] is not an object")
		for c.next(&tool) {
			switch string(c.key()) {
			case "type":
				typ = c.value()
			case "function":
				fn := c.enter('{', "tools[].function is not an object")
				for c.next(&fn) {
					switch string(c.key()) {
					case "name":
						name = c.value()
					case "description":
						desc = c.value()
					case "parameters":
						params = c.value()
					case "strict":
						strict = c.value()
					default:
						c.value()
					}
				}
			default:
				c.value()
			}
		}
		if c.err != nil {
			return
		}
		kind, _, err := rd.word(typ, "tools[].type")
		if err != nil {
			rd.fail(err)
			return
		}
		if kind != "function" && kind != "" {
			rd.unsupported("tools[]." + kind)
			continue
		}
		var t Tool
		if t.Name, _, err = rd.str(name, "tools[].function.name"); err != nil {
			rd.fail(err)
			return
		}
		if t.Description, _, err = rd.str(desc, "tools[].function.description"); err != nil {
			rd.fail(err)
			return
		}
		if openAISet(params) {
			t.Parameters = rd.keep(params)
		}
		if t.Strict, _, err = openAIBool(strict, "tools[].function.strict"); err != nil {
			rd.fail(err)
			return
		}
		if rd.r.Tools == nil {
			rd.r.Tools = rd.blk.tools[:0]
		}
		rd.r.Tools = append(rd.r.Tools, t)
	}
}

func (rd *openAIRequestReader) toolChoice(v []byte) error {
	if !openAISet(v) {
		return nil
	}
	tc := &rd.r.ToolChoice
	if v[0] == '"' {
		s, _, err := rd.str(v, "tool_choice")
		if err != nil {
			return err
		}
		switch s {
		case "auto":
			tc.Mode = ToolChoiceAuto
		case "none":
			tc.Mode = ToolChoiceNone
		case "required":
			tc.Mode = ToolChoiceRequired
		default:
			return openAIBad("tool_choice "+strconv.Quote(s), nil)
		}
		return nil
	}
	typ, _ := jsonscan.Get(v, "type")
	kind, _, err := rd.str(typ, "tool_choice.type")
	if err != nil {
		return err
	}
	switch kind {
	case "function":
	case "allowed_tools":
		return rd.allowedTools(v)
	default:
		rd.unsupported("tool_choice." + kind)
		return nil
	}
	name, _ := jsonscan.Get(v, "function", "name")
	if tc.Name, _, err = rd.str(name, "tool_choice.function.name"); err != nil {
		return err
	}
	tc.Mode = ToolChoiceTool
	return nil
}

// allowedTools reads an allowed_tools tool choice, v: auto or required
// over the function tools it names. A tool of another type (custom) is
// no function another format could be limited to: unsupported.
func (rd *openAIRequestReader) allowedTools(v []byte) error {
	at, _ := jsonscan.Get(v, "allowed_tools")
	if !jsonscan.IsObject(at) {
		return openAIBad("tool_choice.allowed_tools is not an object", nil)
	}
	modeRaw, _ := jsonscan.Get(at, "mode")
	mode, _, err := rd.word(modeRaw, "tool_choice.allowed_tools.mode")
	if err != nil {
		return err
	}
	tc := ToolChoice{}
	switch mode {
	case "auto":
		tc.Mode = ToolChoiceAuto
	case "required":
		tc.Mode = ToolChoiceRequired
	default:
		return openAIBad("tool_choice.allowed_tools.mode "+strconv.Quote(mode), nil)
	}
	tools, _ := jsonscan.Get(at, "tools")
	if len(tools) == 0 || tools[0] != '[' {
		return openAIBad("tool_choice.allowed_tools.tools is not an array", nil)
	}
	it := jsonscan.Elements(tools)
	for it.Next() {
		t := it.Value()
		typ, _ := jsonscan.Get(t, "type")
		kind, _, err := rd.word(typ, "tool_choice.allowed_tools.tools[].type")
		if err != nil {
			return err
		}
		if kind != "function" && kind != "" {
			rd.unsupported("tool_choice.allowed_tools.tools[]." + kind)
			return nil
		}
		nameRaw, _ := jsonscan.Get(t, "function", "name")
		name, _, err := rd.str(nameRaw, "tool_choice.allowed_tools.tools[].function.name")
		if err != nil {
			return err
		}
		if name == "" {
			return openAIBad("tool_choice.allowed_tools.tools[] names no function", nil)
		}
		tc.Allowed = appendAllowed(tc.Allowed, name)
	}
	if it.Err() != nil {
		return openAIBad("tool_choice.allowed_tools.tools", it.Err())
	}
	if len(tc.Allowed) == 0 {
		// No subset to read it as: every tool is the absence of one,
		// none is another mode. OpenAI requires the list.
		return openAIBad("tool_choice.allowed_tools.tools names no tool", nil)
	}
	rd.r.ToolChoice = tc
	return nil
}

func (rd *openAIRequestReader) responseFormat(v []byte) error {
	if !openAISet(v) {
		return nil
	}
	typ, _ := jsonscan.Get(v, "type")
	kind, _, err := rd.str(typ, "response_format.type")
	if err != nil {
		return err
	}
	switch kind {
	case "text", "json_object":
	case "json_schema":
		js, _ := jsonscan.Get(v, "json_schema")
		var name, desc, schema, strict []byte
		it := jsonscan.Members(js)
		for it.Next() {
			switch string(it.Key()) {
			case "name":
				name = it.Value()
			case "description":
				desc = it.Value()
			case "schema":
				schema = it.Value()
			case "strict":
				strict = it.Value()
			}
		}
		if openAISet(schema) {
			rd.r.ResponseSchema = rd.keep(schema)
		}
		if rd.r.ResponseName, _, err = rd.str(name, "response_format.json_schema.name"); err != nil {
			return err
		}
		if rd.r.ResponseDescription, _, err = rd.str(desc, "response_format.json_schema.description"); err != nil {
			return err
		}
		if rd.r.ResponseStrict, _, err = openAIBool(strict, "response_format.json_schema.strict"); err != nil {
			return err
		}
	default:
		rd.unsupported("response_format")
		return nil
	}
	rd.r.ResponseFormat = kind
	return nil
}

// messages reads the messages array at the cursor (a later "messages"
// replaces it).
func (rd *openAIRequestReader) messages() {
	c := &rd.c
	rd.r.Messages, rd.r.System, rd.toolTurn = rd.blk.messages[:0], nil, false
	list := c.enter('[', "messages is not an array")
	rd.sawMessages = c.err == nil
	for c.next(&list) {
		rd.message()
	}
}

// message reads one message, then makes a turn of it by its role (which
// may come last).
func (rd *openAIRequestReader) message() {
	c := &rd.c
	m := &rd.msg
	*m = openAIMessageMembers{}
	rd.content.n, rd.calls.n = 0, 0
	obj := c.enter('{', "messages[] is not an object")
	for c.next(&obj) {
		switch string(c.key()) {
		case "role":
			m.role = rd.span(c.value())
		case "content":
			rd.readContent()
		case "tool_calls":
			rd.readToolCalls()
		case "tool_call_id":
			m.toolCallID = rd.span(c.value())
		case "refusal":
			m.refusal = rd.span(c.value())
		case "reasoning_content":
			m.reasoning = rd.span(c.value())
		case "audio":
			m.audio = rd.span(c.value())
		case "function_call":
			m.functionCall = rd.span(c.value())
		default:
			c.value()
		}
	}
	if c.err != nil {
		return
	}
	role, _, err := rd.word(rd.raw(m.role), "messages[].role")
	if err != nil {
		rd.fail(err)
		return
	}
	tool := false
	switch role {
	case "system", "developer":
		err = rd.system()
	case "user":
		err = rd.user()
	case "assistant":
		err = rd.assistant()
	case "tool":
		err = rd.tool()
		tool = true
	case "function":
		rd.unsupported(`messages[].role "function"`)
	default:
		err = openAIBad("messages[].role "+strconv.Quote(role), nil)
	}
	if err != nil {
		rd.fail(err)
	}
	if role != "system" && role != "developer" {
		rd.toolTurn = tool
	}
}

// readContent reads a message's content: a string or null into
// msg.content, an array into rd.content.
func (rd *openAIRequestReader) readContent() {
	c := &rd.c
	m := &rd.msg
	rd.content.n = 0
	m.content, m.contentArray = openAISpan{}, false
	if c.peek() != '[' {
		m.content = rd.span(c.value())
		return
	}
	m.contentArray = true
	list := c.enter('[', "")
	for c.next(&list) {
		var p openAIContentPart
		part := c.enter('{', "messages[].content[] is not an object")
		for c.next(&part) {
			switch string(c.key()) {
			case "type":
				p.typ = rd.span(c.value())
			case "text":
				p.text = rd.span(c.value())
			case "refusal":
				p.refusal = rd.span(c.value())
			case "image_url":
				if c.peek() != '{' {
					p.url = rd.span(c.value()) // a bare URL, as some clients send it
					break
				}
				img := c.enter('{', "")
				for c.next(&img) {
					if string(c.key()) == "url" {
						p.url = rd.span(c.value())
					} else {
						c.value()
					}
				}
			default:
				c.value()
			}
		}
		rd.content.add(p)
	}
}

func (rd *openAIRequestReader) readToolCalls() {
	c := &rd.c
	rd.calls.n = 0
	rd.msg.hasToolCalls = false
	if c.peek() == 'n' {
		c.value()
		return
	}
	rd.msg.hasToolCalls = true
	list := c.enter('[', "messages[].tool_calls is not an array")
	for c.next(&list) {
		var t openAIToolCallRaw
		call := c.enter('{', "messages[].tool_calls[] is not an object")
		for c.next(&call) {
			switch string(c.key()) {
			case "id":
				t.id = rd.span(c.value())
			case "type":
				t.typ = rd.span(c.value())
			case "function":
				name, args := c.function("messages[].tool_calls[].function is not an object")
				t.name, t.args = rd.span(name), rd.span(args)
			default:
				c.value()
			}
		}
		rd.calls.add(t)
	}
}

// texts appends the content to dst as text parts: a string, or an array
// of text (and, for an assistant, refusal) parts; other types are named
// in other.
func (rd *openAIRequestReader) texts(dst []Part, refusals bool) (parts []Part, other string, err error) {
	m := &rd.msg
	if !m.contentArray {
		content := rd.raw(m.content)
		if !openAISet(content) {
			return dst, "", nil
		}
		s, _, err := rd.str(content, "messages[].content")
		return append(dst, Part{Kind: PartText, Text: s}), "", err
	}
	for _, p := range rd.content.items() {
		typ, _, err := rd.word(rd.raw(p.typ), "messages[].content[].type")
		if err != nil {
			return nil, "", err
		}
		raw := rd.raw(p.text)
		switch {
		case typ == "refusal" && refusals:
			raw = rd.raw(p.refusal)
		case typ != "text":
			other = typ
			continue
		}
		s, _, err := rd.str(raw, "messages[].content[].text")
		if err != nil {
			return nil, "", err
		}
		dst = append(dst, Part{Kind: PartText, Text: s})
	}
	return dst, other, nil
}

func (rd *openAIRequestReader) system() error {
	var err error
	var other string
	sys := rd.r.System
	if sys == nil {
		sys = rd.blk.system[:0]
	}
	if sys, other, err = rd.texts(sys, false); err != nil {
		return err
	}
	if len(sys) > 0 {
		rd.r.System = sys
	}
	if other != "" {
		return openAIBad("messages[].content[].type "+strconv.Quote(other)+" in a system message", nil)
	}
	return nil
}

// open starts a message's parts in the pool.
func (rd *openAIRequestReader) open() {
	rd.turnStart = len(rd.pool)
	if rd.pool == nil {
		rd.pool = rd.blk.parts[:0]
	}
}

// add ends a message: its parts are the pool's since open.
func (rd *openAIRequestReader) add(role Role) {
	msg := Message{Role: role}
	if n := len(rd.pool); n > rd.turnStart {
		msg.Parts = rd.pool[rd.turnStart:n:n]
	}
	rd.r.Messages = append(rd.r.Messages, msg)
}

func (rd *openAIRequestReader) user() error {
	m := &rd.msg
	rd.open()
	if !m.contentArray {
		var err error
		if rd.pool, _, err = rd.texts(rd.pool, false); err != nil {
			return err
		}
		rd.add(RoleUser)
		return nil
	}
	for _, p := range rd.content.items() {
		typ, _, err := rd.word(rd.raw(p.typ), "messages[].content[].type")
		if err != nil {
			return err
		}
		switch typ {
		case "text":
			s, _, err := rd.str(rd.raw(p.text), "messages[].content[].text")
			if err != nil {
				return err
			}
			rd.pool = append(rd.pool, Part{Kind: PartText, Text: s})
		case "image_url":
			url, _, err := rd.str(rd.raw(p.url), "messages[].content[].image_url.url")
			if err != nil {
				return err
			}
			if url == "" {
				return openAIBad("messages[].content[].image_url has no url", nil)
			}
			part := Part{Kind: PartImage}
			if mt, data, ok := openAIDataURL(url); ok {
				part.MediaType, part.Data = mt, data
			} else if openAIHasPrefixFold(url, "data:") {
				rd.unsupported("messages[].content[].image_url")
				continue
			} else {
				part.URL = url
			}
			rd.pool = append(rd.pool, part)
		default:
			rd.unsupported("messages[].content[]." + typ)
		}
	}
	rd.add(RoleUser)
	return nil
}

// openAIValidUTF8 returns b with each byte that is not part of valid
// UTF-8 replaced by U+FFFD, as the SDKs read a string.
func openAIValidUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var s strings.Builder
	for _, r := range string(b) {
		s.WriteRune(r)
	}
	return s.String()
}

func openAIHasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// openAIDataURL splits a base64 data URL ("data:image/png;base64,...")
// into its media type (without parameters) and data.
func openAIDataURL(u string) (mediaType, data string, ok bool) {
	if !openAIHasPrefixFold(u, "data:") {
		return "", "", false
	}
	meta, data, found := strings.Cut(u[len("data:"):], ",")
	const b64 = ";base64"
	if !found || len(meta) < len(b64) || !strings.EqualFold(meta[len(meta)-len(b64):], b64) {
		return "", "", false
	}
	mediaType = meta[:len(meta)-len(b64)]
	if i := strings.IndexByte(mediaType, ';'); i >= 0 {
		mediaType = mediaType[:i]
	}
	return mediaType, data, true
}

func (rd *openAIRequestReader) assistant() error {
	m := &rd.msg
	rd.open()
	if s, _, err := rd.str(rd.raw(m.reasoning), "messages[].reasoning_content"); err != nil {
		return err
	} else if s != "" {
		rd.pool = append(rd.pool, Part{Kind: PartThinking, Text: s})
	}
	n := len(rd.pool)
	var err error
	var other string
	if rd.pool, other, err = rd.texts(rd.pool, true); err != nil {
		return err
	}
	if other != "" {
		rd.unsupported("messages[].content[]." + other)
	}
	// Empty text beside tool calls is the "content": "" of a turn that
	// only called tools.
	if m.hasToolCalls {
		kept := rd.pool[:n]
		for _, p := range rd.pool[n:] {
			if p.Text != "" {
				kept = append(kept, p)
			}
		}
		rd.pool = kept
	}
	if s, _, err := rd.str(rd.raw(m.refusal), "messages[].refusal"); err != nil {
		return err
	} else if s != "" {
		rd.pool = append(rd.pool, Part{Kind: PartText, Text: s})
	}
	if openAISet(rd.raw(m.audio)) {
		rd.unsupported("messages[].audio")
	}
	if openAISet(rd.raw(m.functionCall)) {
		rd.unsupported("messages[].function_call")
	}
	for _, t := range rd.calls.items() {
		kind, _, err := rd.word(rd.raw(t.typ), "messages[].tool_calls[].type")
		if err != nil {
			return err
		}
		if kind != "function" && kind != "" {
			rd.unsupported("messages[].tool_calls[]." + kind)
			continue
		}
		p := Part{Kind: PartToolCall}
		if p.ID, _, err = rd.str(rd.raw(t.id), "messages[].tool_calls[].id"); err != nil {
			return err
		}
		if p.Name, _, err = rd.str(rd.raw(t.name), "messages[].tool_calls[].function.name"); err != nil {
			return err
		}
		if args := rd.raw(t.args); jsonscan.IsObject(args) { // a client's object instead of its text: the same arguments
			p.Arguments = openAIValidUTF8(args)
		} else if p.Arguments, _, err = rd.str(args, "messages[].tool_calls[].function.arguments"); err != nil {
			return err
		}
		rd.pool = append(rd.pool, p)
	}
	rd.add(RoleAssistant)
	return nil
}

// callName is the name of the last call with id in the messages read so
// far: a tool message names only its call's id, and Gemini needs the
// tool's name.
func (rd *openAIRequestReader) callName(id string) string {
	msgs := rd.r.Messages
	for i := len(msgs) - 1; i >= 0; i-- {
		parts := msgs[i].Parts
		for j := len(parts) - 1; j >= 0; j-- {
			if parts[j].Kind == PartToolCall && parts[j].ID == id {
				return parts[j].Name
			}
		}
	}
	return ""
}

func (rd *openAIRequestReader) tool() error {
	p := Part{Kind: PartToolResult}
	var err error
	if p.ID, _, err = rd.str(rd.raw(rd.msg.toolCallID), "messages[].tool_call_id"); err != nil {
		return err
	}
	p.Name = rd.callName(p.ID)
	var buf [1]Part
	texts, other, err := rd.texts(buf[:0], false)
	if err != nil {
		return err
	}
	if other != "" {
		return openAIBad("messages[].content[].type "+strconv.Quote(other)+" in a tool message", nil)
	}
	if len(texts) == 1 {
		p.Text = texts[0].Text
	} else {
		var b strings.Builder
		for _, t := range texts {
			b.WriteString(t.Text)
		}
		p.Text = b.String()
	}
	msgs := rd.r.Messages
	if rd.toolTurn && len(msgs) > 0 {
		// The turn's parts end the pool: only system messages, which
		// add none, came since.
		rd.pool = append(rd.pool, p)
		n := len(rd.pool)
		msgs[len(msgs)-1].Parts = rd.pool[rd.turnStart:n:n]
		return nil
	}
	rd.open()
	rd.pool = append(rd.pool, p)
	rd.add(RoleUser)
	return nil
}

// openAIReasoningModel reports whether model is one of OpenAI's reasoning
// models, which refuse max_tokens for max_completion_tokens.
func openAIReasoningModel(model string) bool {
	for _, p := range [...]string{"o1", "o3", "o4", "gpt-5"} {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	return false
}

// openAICompletionTokens reports whether a request for model to target
// caps its output with max_completion_tokens rather than max_tokens. An
// Azure deployment is named by its owner ("my-o3-prod"), so its name
// does not tell a reasoning model, which refuses max_tokens: on the API
// versions that know max_completion_tokens (the v1 API, which takes no
// api-version or an undated one, and the previews from 2024-09-01-preview
// on, where Azure deprecated max_tokens for it) every Azure request gets
// it; on the GA versions (2024-10-21 and older, whose schema has only
// max_tokens) and older previews, which serve no reasoning model, the
// model name decides as for everyone else (see docs/wire.md).
func openAICompletionTokens(model string, target provider.Provider) bool {
	if target.Name() == provider.AzureOpenAIName {
		v := target.APIVersion()
		if v == "" || v[0] < '0' || v[0] > '9' {
			return true
		}
		if strings.HasSuffix(v, "-preview") && v >= "2024-09-01" {
			return true
		}
	}
	return openAIReasoningModel(model)
}

// EncodeRequest writes r for model, with no target provider known.
func (c openAICodec) EncodeRequest(r *Request, model string) ([]byte, error) {
	return c.encodeRequestFor(r, model, provider.Provider{})
}

// encodeRequestFor writes r for model at target (see targetEncoder).
func (openAICodec) encodeRequestFor(r *Request, model string, to provider.Provider) ([]byte, error) {
	target := provider.FormatOpenAIChat
	if len(r.Unsupported) > 0 {
		return nil, &UnsupportedError{Param: r.Unsupported[0], Target: target,
			Reason: "its value is not carried across formats"}
	}
	if r.TopK != nil {
		return nil, &UnsupportedError{Param: "top_k", Target: target, Reason: "chat completions has no top_k"}
	}
	if why := r.unknownAllowed(); why != "" {
		return nil, &UnsupportedError{Param: "tool_choice", Target: target, Reason: why}
	}
	if model == "" {
		model = r.Model
	}
	size := 256 + len(model)
	for _, p := range r.System {
		size += len(p.Text) + 8
	}
	for _, m := range r.Messages {
		for _, p := range m.Parts {
			size += 64 + len(p.Text) + len(p.Data) + len(p.URL) + len(p.Arguments) + len(p.ID) + len(p.Name)
		}
	}
	for _, t := range r.Tools {
		size += 64 + len(t.Name) + len(t.Description) + len(t.Parameters)
	}
	b := make([]byte, 0, size+len(r.ResponseSchema)+len(r.ResponseName)+len(r.ResponseDescription))
	b = append(b, `{"model":`...)
	b = jsonscan.AppendQuoteFast(b, model)
	b = append(b, `,"messages":[`...)
	b = openAIAppendSystem(b, r.System)
	var err error
	for i := range r.Messages {
		m := &r.Messages[i]
		switch m.Role {
		case RoleUser:
			b, err = openAIAppendUser(b, m)
		case RoleAssistant:
			b, err = openAIAppendAssistant(b, m)
		default:
			err = fmt.Errorf("translate: message %d has no role", i)
		}
		if err != nil {
			return nil, err
		}
	}
	b = append(b, ']')
	if b, err = openAIAppendTools(b, r, to.Name() == "" || to.Name() == provider.OpenAI.Name()); err != nil {
		return nil, err
	}
	if r.MaxTokens > 0 {
		if openAICompletionTokens(model, to) {
			b = append(b, `,"max_completion_tokens":`...)
		} else {
			b = append(b, `,"max_tokens":`...)
		}
		b = strconv.AppendInt(b, r.MaxTokens, 10)
	}
	for _, f := range [...]struct {
		v    *float64
		name string
	}{{r.Temperature, `,"temperature":`}, {r.TopP, `,"top_p":`}} {
		if f.v == nil {
			continue
		}
		if math.IsNaN(*f.v) || math.IsInf(*f.v, 0) {
			return nil, fmt.Errorf("translate: %s is not a finite number", strings.Trim(f.name, `,":`))
		}
		b = append(b, f.name...)
		b = strconv.AppendFloat(b, *f.v, 'g', -1, 64)
	}
	if len(r.Stop) > 0 {
		b = append(b, `,"stop":[`...)
		for i, s := range r.Stop {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonscan.AppendQuoteFast(b, s)
		}
		b = append(b, ']')
	}
	if r.User != "" {
		b = append(b, `,"user":`...)
		b = jsonscan.AppendQuoteFast(b, r.User)
	}
	effort := r.Reasoning.Effort
	if effort == "" && r.Reasoning.BudgetTokens > 0 && !r.Reasoning.Disabled {
		effort = BudgetEffort(r.Reasoning.BudgetTokens)
	}
	if effort != "" && !r.Reasoning.Disabled {
		b = append(b, `,"reasoning_effort":`...)
		b = jsonscan.AppendQuoteFast(b, effort)
	}
	switch r.ResponseFormat {
	case "":
	case "text", "json_object":
		b = append(b, `,"response_format":{"type":"`...)
		b = append(b, r.ResponseFormat...)
		b = append(b, `"}`...)
	case "json_schema":
		// OpenAI requires a name; the other formats have none, and
		// "response" stands in for theirs.
		b = append(b, `,"response_format":{"type":"json_schema","json_schema":{"name":`...)
		if r.ResponseName != "" {
			b = jsonscan.AppendQuoteFast(b, r.ResponseName)
		} else {
			b = append(b, `"response"`...)
		}
		if r.ResponseDescription != "" {
			b = append(b, `,"description":`...)
			b = jsonscan.AppendQuoteFast(b, r.ResponseDescription)
		}
		if r.ResponseStrict && openAIStrictSchema(r.ResponseSchema) {
			b = append(b, `,"strict":true`...)
		}
		if len(r.ResponseSchema) > 0 {
			if !openAIValid(r.ResponseSchema) {
				return nil, errors.New("translate: the response schema is not JSON")
			}
			b = append(b, `,"schema":`...)
			b = append(b, r.ResponseSchema...)
		}
		b = append(b, `}}`...)
	default:
		return nil, &UnsupportedError{Param: "response_format", Target: target,
			Reason: strconv.Quote(r.ResponseFormat) + " has no chat completions equivalent"}
	}
	if r.Stream {
		b = append(b, `,"stream":true,"stream_options":{"include_usage":true}`...)
	}
	return append(b, '}'), nil
}

// openAIComma appends the comma before a member or element, unless b
// ends where a container opens.
func openAIComma(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] != '[' && b[n-1] != '{' {
		b = append(b, ',')
	}
	return b
}

func openAIAppendSystem(b []byte, sys []Part) []byte {
	n := 0
	for _, p := range sys {
		if p.Kind == PartText {
			n++
		}
	}
	if n == 0 {
		return b
	}
	b = append(b, `{"role":"system","content":`...)
	if n == 1 {
		for _, p := range sys {
			if p.Kind == PartText {
				b = jsonscan.AppendQuoteFast(b, p.Text)
			}
		}
		return append(b, '}')
	}
	var joined strings.Builder
	for _, p := range sys {
		if p.Kind != PartText {
			continue
		}
		if joined.Len() > 0 {
			joined.WriteString("\n\n")
		}
		joined.WriteString(p.Text)
	}
	b = jsonscan.AppendQuoteFast(b, joined.String())
	return append(b, '}')
}

func openAIAppendUser(b []byte, m *Message) ([]byte, error) {
	results, rest := 0, 0
	for _, p := range m.Parts {
		switch p.Kind {
		case PartToolResult:
			results++
			b = openAIComma(b)
			b = append(b, `{"role":"tool","tool_call_id":`...)
			b = jsonscan.AppendQuoteFast(b, p.ID)
			b = append(b, `,"content":`...)
			b = jsonscan.AppendQuoteFast(b, p.Text)
			b = append(b, '}')
		case PartText, PartImage:
			rest++
		case PartToolCall:
			return nil, errors.New("translate: a tool call in a user turn")
		}
	}
	if rest == 0 && results > 0 {
		return b, nil
	}
	b = openAIComma(b)
	b = append(b, `{"role":"user","content":`...)
	if rest == 0 {
		return append(b, `""}`...), nil
	}
	if rest == 1 {
		for _, p := range m.Parts {
			if p.Kind == PartText {
				b = jsonscan.AppendQuoteFast(b, p.Text)
				return append(b, '}'), nil
			}
		}
	}
	b = append(b, '[')
	for _, p := range m.Parts {
		switch p.Kind {
		case PartText:
			b = openAIComma(b)
			b = append(b, `{"type":"text","text":`...)
			b = jsonscan.AppendQuoteFast(b, p.Text)
			b = append(b, '}')
		case PartImage:
			b = openAIComma(b)
			b = append(b, `{"type":"image_url","image_url":{"url":`...)
			switch {
			case p.Data != "":
				b = append(b, `"data:`...)
				b = openAIAppendEscaped(b, p.MediaType)
				b = append(b, ";base64,"...)
				b = openAIAppendEscaped(b, p.Data)
				b = append(b, '"')
			case p.URL != "":
				b = jsonscan.AppendQuoteFast(b, p.URL)
			default:
				return nil, errors.New("translate: an image with neither data nor URL")
			}
			b = append(b, `}}`...)
		}
	}
	return append(b, `]}`...), nil
}

// openAIAppendEscaped appends s as the inside of a JSON string, for a
// string written in pieces (a data URL).
func openAIAppendEscaped(b []byte, s string) []byte {
	n := len(b)
	b = jsonscan.AppendQuoteFast(b, s)
	copy(b[n:], b[n+1:len(b)-1])
	return b[:len(b)-2]
}

func openAIAppendAssistant(b []byte, m *Message) ([]byte, error) {
	b = openAIComma(b)
	b = append(b, `{"role":"assistant","content":`...)
	texts, calls := 0, 0
	for _, p := range m.Parts {
		switch p.Kind {
		case PartText:
			texts++
		case PartToolCall:
			calls++
		case PartImage:
			return nil, &UnsupportedError{Param: "an image in an assistant turn", Target: provider.FormatOpenAIChat,
				Reason: "chat completions takes images from the user only"}
		case PartToolResult:
			return nil, errors.New("translate: a tool result in an assistant turn")
		}
	}
	b = openAIAppendReply(b, m.Parts, texts, calls, false)
	return append(b, '}'), nil
}

// openAIAppendReply appends an assistant message's content and its
// tool_calls, from parts holding texts text parts and calls tool calls:
// the text parts joined, or null when there is none and the message has
// calls (or nullIfNoText: an answer's message says null for no text, a
// request's says ""). A request and an answer write their assistant
// messages alike.
func openAIAppendReply(b []byte, parts []Part, texts, calls int, nullIfNoText bool) []byte {
	switch {
	case texts == 0 && (calls > 0 || nullIfNoText):
		b = append(b, "null"...)
	case texts <= 1:
		text := ""
		for _, p := range parts {
			if p.Kind == PartText {
				text = p.Text
			}
		}
		b = jsonscan.AppendQuoteFast(b, text)
	default:
		var joined strings.Builder
		for _, p := range parts {
			if p.Kind == PartText {
				joined.WriteString(p.Text)
			}
		}
		b = jsonscan.AppendQuoteFast(b, joined.String())
	}
	if calls > 0 {
		b = append(b, `,"tool_calls":[`...)
		for _, p := range parts {
			if p.Kind != PartToolCall {
				continue
			}
			b = openAIComma(b)
			b = append(b, `{"id":`...)
			b = jsonscan.AppendQuoteFast(b, p.ID)
			b = append(b, `,"type":"function","function":{"name":`...)
			b = jsonscan.AppendQuoteFast(b, p.Name)
			b = append(b, `,"arguments":`...)
			args := p.Arguments
			if args == "" {
				args = "{}"
			}
			b = jsonscan.AppendQuoteFast(b, args)
			b = append(b, `}}`...)
		}
		b = append(b, ']')
	}
	return b
}

// openAIAppendTools appends the tools and the tool choice. A subset of the
// tools is an allowed_tools choice when named (OpenAI's own API, or no
// target given); the other providers that take the format do not document
// allowed_tools, and one that ignored it would let the model call any
// tool, so they are sent only the subset's tools, with the choice's mode.
func openAIAppendTools(b []byte, r *Request, named bool) ([]byte, error) {
	if len(r.Tools) == 0 {
		return b, nil
	}
	allowed := r.ToolChoice.subset()
	b = append(b, `,"tools":[`...)
	for _, t := range r.Tools {
		if !named && !r.ToolChoice.allows(t.Name) {
			continue
		}
		b = openAIComma(b)
		b = append(b, `{"type":"function","function":{"name":`...)
		b = jsonscan.AppendQuoteFast(b, t.Name)
		if t.Description != "" {
			b = append(b, `,"description":`...)
			b = jsonscan.AppendQuoteFast(b, t.Description)
		}
		if len(t.Parameters) > 0 {
			if !openAIValid(t.Parameters) {
				return nil, fmt.Errorf("translate: the parameters of tool %q are not JSON", t.Name)
			}
			b = append(b, `,"parameters":`...)
			b = append(b, t.Parameters...)
		}
		if t.Strict && openAIStrictSchema(t.Parameters) {
			b = append(b, `,"strict":true`...)
		}
		b = append(b, `}}`...)
	}
	b = append(b, ']')
	switch {
	case len(allowed) > 0 && named:
		b = append(b, `,"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":`...)
		if r.ToolChoice.Mode == ToolChoiceRequired {
			b = append(b, `"required"`...)
		} else {
			b = append(b, `"auto"`...)
		}
		b = append(b, `,"tools":[`...)
		for i, name := range allowed {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":"function","function":{"name":`...)
			b = jsonscan.AppendQuoteFast(b, name)
			b = append(b, `}}`...)
		}
		b = append(b, `]}}`...)
	case r.ToolChoice.Mode == ToolChoiceAuto:
		b = append(b, `,"tool_choice":"auto"`...)
	case r.ToolChoice.Mode == ToolChoiceNone:
		b = append(b, `,"tool_choice":"none"`...)
	case r.ToolChoice.Mode == ToolChoiceRequired:
		b = append(b, `,"tool_choice":"required"`...)
	case r.ToolChoice.Mode == ToolChoiceTool:
		if r.ToolChoice.Name == "" {
			return nil, errors.New("translate: a tool choice without the tool's name")
		}
		b = append(b, `,"tool_choice":{"type":"function","function":{"name":`...)
		b = jsonscan.AppendQuoteFast(b, r.ToolChoice.Name)
		b = append(b, `}}`...)
	}
	if r.ParallelToolCalls != nil {
		b = append(b, `,"parallel_tool_calls":`...)
		b = strconv.AppendBool(b, *r.ParallelToolCalls)
	}
	return b, nil
}

// ---- answers ----

// openAIAppendUsage appends u as a usage object: prompt_tokens counts
// every input token, cache reads and writes included (cached_tokens and
// cache_write_tokens are parts of it; the latter only when there are any,
// as most servers leave it out).
func openAIAppendUsage(b []byte, u provider.Usage) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, u.InputTokens, 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, u.OutputTokens, 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, u.InputTokens+u.OutputTokens, 10)
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
	b = strconv.AppendInt(b, u.CacheReadTokens, 10)
	if u.CacheCreationTokens > 0 {
		b = append(b, `,"cache_write_tokens":`...)
		b = strconv.AppendInt(b, u.CacheCreationTokens, 10)
	}
	b = append(b, `},"completion_tokens_details":{"reasoning_tokens":`...)
	b = strconv.AppendInt(b, u.ReasoningTokens, 10)
	return append(b, `}}`...)
}

// openAIFinish reads a finish_reason. "error" is OpenRouter's, for an
// upstream that failed mid-answer.
func openAIFinish(s string) Finish {
	switch s {
	case "stop":
		return FinishStop
	case "length":
		return FinishLength
	case "tool_calls", "function_call":
		return FinishToolCalls
	case "content_filter":
		return FinishContentFilter
	case "error":
		return FinishError
	}
	return FinishUnknown
}

// openAIFinishReason writes f as a finish_reason, from OpenAI's own set
// (clients with a closed enum of them, such as async-openai, refuse any
// other).
func openAIFinishReason(f Finish, calledTools bool) string {
	switch f {
	case FinishStop:
		return "stop"
	case FinishLength:
		return "length"
	case FinishToolCalls:
		return "tool_calls"
	case FinishContentFilter:
		return "content_filter"
	}
	if calledTools {
		return "tool_calls"
	}
	return "stop"
}

// openAIIsError reports whether the value of an "error" member says
// something: some OpenAI-compatible servers put an empty one
// ({"message":"","type":"","param":"","code":null}) in every success.
func openAIIsError(v []byte) bool {
	if !openAISet(v) {
		return false
	}
	e := openAIErrorFrom(v)
	return e.Message != "" || e.Type != "" || e.Code != ""
}

// openAIErrorFrom reads an error object (or the bare string some servers
// send). A code that is not a string (the HTTP status, from some servers)
// says nothing new.
func openAIErrorFrom(v []byte) *provider.Error {
	if s, ok := jsonscan.String(v); ok {
		return &provider.Error{Message: string(s)}
	}
	var msg, typ, code []byte
	it := jsonscan.Members(v)
	for it.Next() {
		switch string(it.Key()) {
		case "message":
			msg = it.Value()
		case "type":
			typ = it.Value()
		case "code":
			code = it.Value()
		}
	}
	e := &provider.Error{}
	if s, ok := jsonscan.String(msg); ok {
		e.Message = string(s)
	}
	if s, ok := jsonscan.String(typ); ok {
		e.Type = string(s)
	}
	if s, ok := jsonscan.String(code); ok {
		e.Code = string(s)
	}
	return e
}

// openAIResponseMembers are the members of a chat.completion read.
type openAIResponseMembers struct {
	id, model, created, choices, usage, err []byte
}

func (openAICodec) DecodeResponse(body []byte) (*Response, error) {
	var m openAIResponseMembers
	it := jsonscan.Members(body)
	for it.Next() {
		switch string(it.Key()) {
		case "id":
			m.id = it.Value()
		case "model":
			m.model = it.Value()
		case "created":
			m.created = it.Value()
		case "choices":
			m.choices = it.Value()
		case "usage":
			m.usage = it.Value()
		case "error":
			m.err = it.Value()
		}
	}
	if it.Err() != nil {
		return nil, openAIBad("response", it.Err())
	}
	if openAIIsError(m.err) && !openAISet(m.choices) {
		return nil, openAIErrorFrom(m.err)
	}
	r := &Response{}
	var err error
	if r.ID, _, err = openAIStr(m.id, "id"); err != nil {
		return nil, err
	}
	if r.Model, _, err = openAIStr(m.model, "model"); err != nil {
		return nil, err
	}
	if r.Created, _, err = openAIInt(m.created, "created"); err != nil {
		return nil, err
	}
	r.Usage, r.UsageKnown = wire.OpenAIUsage(m.usage)
	if !openAISet(m.choices) {
		return r, nil
	}
	ci := jsonscan.Elements(m.choices)
	for ci.Next() {
		if idx, ok := jsonscan.Get(ci.Value(), "index"); ok && openAISet(idx) && string(idx) != "0" {
			continue // n > 1 is refused: the first choice is the answer
		}
		if err := openAIReadChoice(r, ci.Value()); err != nil {
			return nil, err
		}
		break
	}
	if ci.Err() != nil {
		return nil, openAIBad("choices", ci.Err())
	}
	return r, nil
}

func openAIReadChoice(r *Response, v []byte) error {
	var msg, finish []byte
	it := jsonscan.Members(v)
	for it.Next() {
		switch string(it.Key()) {
		case "message":
			msg = it.Value()
		case "finish_reason":
			finish = it.Value()
		}
	}
	if it.Err() != nil {
		return openAIBad("choices[]", it.Err())
	}
	reason, _, err := openAIStr(finish, "finish_reason")
	if err != nil {
		return err
	}
	r.Finish = openAIFinish(reason)
	var content, refusal, toolCalls, reasoning []byte
	mi := jsonscan.Members(msg)
	for mi.Next() {
		switch string(mi.Key()) {
		case "content":
			content = mi.Value()
		case "refusal":
			refusal = mi.Value()
		case "tool_calls":
			toolCalls = mi.Value()
		case "reasoning_content":
			reasoning = mi.Value()
		case "reasoning": // OpenRouter's and Groq's name for it
			if reasoning == nil || !openAISet(reasoning) {
				reasoning = mi.Value()
			}
		}
	}
	if openAISet(msg) && mi.Err() != nil {
		return openAIBad("choices[].message", mi.Err())
	}
	if s, _ := jsonscan.String(reasoning); len(s) > 0 {
		r.Parts = append(r.Parts, Part{Kind: PartThinking, Text: string(s)})
	}
	switch {
	case !openAISet(content):
	case content[0] == '"':
		s, _, err := openAIStr(content, "message.content")
		if err != nil {
			return err
		}
		if s != "" {
			r.Parts = append(r.Parts, Part{Kind: PartText, Text: s})
		}
	default: // Mistral's reasoning models answer an array of text and thinking chunks
		ci := jsonscan.Elements(content)
		for ci.Next() {
			openAIReadContentChunk(r, ci.Value())
		}
		if ci.Err() != nil {
			return openAIBad("message.content", ci.Err())
		}
	}
	if s, _, err := openAIStr(refusal, "message.refusal"); err != nil {
		return err
	} else if s != "" {
		r.Parts = append(r.Parts, Part{Kind: PartText, Text: s})
		r.Finish = FinishContentFilter
	}
	if !openAISet(toolCalls) {
		return nil
	}
	ti := jsonscan.Elements(toolCalls)
	for ti.Next() {
		id, _ := jsonscan.Get(ti.Value(), "id")
		name, _ := jsonscan.Get(ti.Value(), "function", "name")
		args, _ := jsonscan.Get(ti.Value(), "function", "arguments")
		p := Part{Kind: PartToolCall}
		p.ID, _, _ = openAIStr(id, "")
		p.Name, _, _ = openAIStr(name, "")
		p.Arguments, _, _ = openAIStr(args, "")
		r.Parts = append(r.Parts, p)
	}
	if ti.Err() != nil {
		return openAIBad("message.tool_calls", ti.Err())
	}
	return nil
}

// openAIReadContentChunk reads one element of an array content: a text
// chunk, or a Mistral thinking chunk (its own array of text chunks).
func openAIReadContentChunk(r *Response, v []byte) {
	typ, _ := jsonscan.Get(v, "type")
	switch t, _ := jsonscan.String(typ); string(t) {
	case "text":
		if s, _ := jsonscan.Get(v, "text"); len(s) > 0 {
			if text, _ := jsonscan.String(s); len(text) > 0 {
				r.Parts = append(r.Parts, Part{Kind: PartText, Text: string(text)})
			}
		}
	case "thinking":
		th, _ := jsonscan.Get(v, "thinking")
		var b strings.Builder
		it := jsonscan.Elements(th)
		for it.Next() {
			if s, ok := jsonscan.Get(it.Value(), "text"); ok {
				text, _ := jsonscan.String(s)
				b.Write(text)
			}
		}
		if b.Len() > 0 {
			r.Parts = append(r.Parts, Part{Kind: PartThinking, Text: b.String()})
		}
	}
}

// openAINewID is the id of an answer whose upstream gave none.
func openAINewID() string { return "chatcmpl-" + rand.Text() }

func (openAICodec) EncodeResponse(r *Response) ([]byte, error) {
	size := 384 + len(r.ID) + len(r.Model)
	calls := 0
	for _, p := range r.Parts {
		size += len(p.Text) + len(p.Arguments) + len(p.ID) + len(p.Name)
		if p.Kind == PartToolCall {
			calls++
			size += 64
		}
	}
	b := make([]byte, 0, size)
	b = append(b, `{"id":`...)
	id := r.ID
	if id == "" {
		id = openAINewID()
	}
	b = jsonscan.AppendQuoteFast(b, id)
	b = append(b, `,"object":"chat.completion","created":`...)
	created := r.Created
	if created == 0 {
		created = time.Now().Unix()
	}
	b = strconv.AppendInt(b, created, 10)
	b = append(b, `,"model":`...)
	b = jsonscan.AppendQuoteFast(b, r.Model)
	b = append(b, `,"choices":[{"index":0,"message":{"role":"assistant","content":`...)
	texts := 0
	for _, p := range r.Parts {
		if p.Kind == PartText {
			texts++
		}
	}
	b = openAIAppendReply(b, r.Parts, texts, calls, true)
	b = append(b, `,"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"`...)
	b = append(b, openAIFinishReason(r.Finish, calls > 0)...)
	b = append(b, `"}]`...)
	if r.UsageKnown {
		b = append(b, `,"usage":`...)
		b = openAIAppendUsage(b, r.Usage)
	}
	return append(b, '}'), nil
}

// ---- streams ----

func (openAICodec) NewStreamDecoder() StreamDecoder { return &openAIStreamDecoder{} }

var openAIKeyChoices = []byte("choices")

// openAIStreamDecoder reads chat.completion.chunk events, each in one
// pass (openAICursor) into raw slices of its data, then emits what the
// chunk says: so a malformed chunk emits nothing, and duplicate keys read
// as the SDKs read them (the last wins). The Text of the events it emits
// points into the event's data, or into a buffer it reuses (so that a
// delta costs no allocation): it is valid during emit only, and a
// consumer that keeps it clones it (strings.Clone). IDs, models and
// names are strings of their own.
type openAIStreamDecoder struct {
	ev      Event
	started bool
	done    bool
	// refused: a refusal came, so that "stop" means content_filter (see
	// openAICodec).
	refused bool
	tools   []openAIToolSlot
	buf     []byte

	// The chunk being read: its choice 0, choice[pick] (see chosen), and
	// the choice being read, the other one; they change places (pick
	// flips) when the one read turns out to be choice 0.
	choice    [2]openAIChoice
	pick      uint8
	hasChoice bool

	// slowOnly turns the quick reading off (see quickRest), for tests
	// that hold it to the cursor's.
	slowOnly bool

	// prefix is the start of the last chunk up to its "choices": key, when
	// nothing before it mattered once the answer started (id, object,
	// created, model, system_fingerprint ...). A provider starts every
	// chunk of a stream with the same bytes there; a chunk that does is
	// read from its choices on, as the bytes it shares were read before.
	prefix []byte
}

// chosen is choice 0 of the chunk being read.
func (d *openAIStreamDecoder) chosen() *openAIChoice { return &d.choice[d.pick] }

// reading is the choice being read.
func (d *openAIStreamDecoder) reading() *openAIChoice { return &d.choice[d.pick^1] }

// openAIChoice is the raw content of one choice of a chunk.
type openAIChoice struct {
	content, refusal, reasoning, reasoningAlt, finish []byte
	calls                                             []openAICallDelta
}

func (ch *openAIChoice) reset() {
	*ch = openAIChoice{calls: ch.calls[:0]}
}

// openAICallDelta is one raw element of a delta's tool_calls.
type openAICallDelta struct {
	index, id, name, args []byte
}

// openAIToolSlot is one tool call of the answer: its place in tools is
// its ordinal (Event.Tool), index OpenAI's index for it.
type openAIToolSlot struct {
	index    int64
	hasIndex bool
	id       string
}

func (d *openAIStreamDecoder) emit(emit func(*Event), e Event) {
	d.ev = e
	emit(&d.ev)
}

func (d *openAIStreamDecoder) Decode(name, data []byte, emit func(*Event)) error {
	if d.done {
		return nil // the SDKs stop reading at [DONE]
	}
	if string(data) == "[DONE]" {
		d.done = true
		d.emit(emit, Event{Kind: EventDone})
		return nil
	}
	if d.prefix != nil && !d.slowOnly && string(name) != "error" && bytes.HasPrefix(data, d.prefix) {
		// Most chunks: the start read before, choices, a usage or
		// nothing after.
		if usage, ok := d.quickRest(data, len(d.prefix)); ok {
			if d.hasChoice {
				d.emitChoice(d.chosen(), emit)
			}
			if u, ok := wire.OpenAIUsage(usage); ok {
				d.emit(emit, Event{Kind: EventUsage, Usage: u})
			}
			return nil
		}
	}
	var id, model, usage, errv, groq []byte
	d.hasChoice = false
	d.chosen().reset()
	c := openAICursor{data: data}
	var top openAIFrame
	plain := d.started // no member so far matters
	resume := len(d.prefix) > 0 && bytes.HasPrefix(data, d.prefix)
	if resume {
		c.pos, c.keyBuf, c.keyEnd, plain = len(d.prefix), openAIKeyChoices, -1, false
		top = openAIFrame{close: '}', n: 1, open: true}
	} else {
		top = c.enter('{', "the chunk is not an object")
	}
	for resume || c.next(&top) {
		resume = false
		switch string(c.key()) {
		case "id":
			id = c.value()
		case "model":
			model = c.value()
		case "choices":
			if plain {
				d.prefix = append(d.prefix[:0], data[:c.pos]...)
			}
			plain = false
			d.hasChoice = false
			d.chosen().reset()
			d.choices(&c)
		case "usage":
			usage, plain = c.value(), false
		case "error":
			errv, plain = c.value(), false
		case "x_groq": // older Groq streams put the usage there
			groq, plain = c.value(), false
		default:
			c.value()
		}
	}
	c.end()
	if c.err != nil {
		return c.err
	}
	if string(name) == "error" && errv == nil {
		errv = data
	}
	if openAIIsError(errv) {
		d.emit(emit, Event{Kind: EventError, Err: openAIErrorFrom(errv)})
		return nil
	}
	if !d.started {
		idStr, _ := jsonscan.String(id)
		modelStr, _ := jsonscan.String(model)
		if len(idStr) == 0 && len(modelStr) == 0 && !d.hasChoice && !openAISet(usage) && groq == nil {
			// A chunk that says nothing, such as the prompt_filter_results
			// chunk Azure OpenAI opens its streams with (empty id and
			// model, no choices): the answer starts with the next one.
			return nil
		}
		d.started = true
		d.emit(emit, Event{Kind: EventStart, ID: string(idStr), Model: string(modelStr)})
	}
	if d.hasChoice {
		d.emitChoice(d.chosen(), emit)
	}
	if !openAISet(usage) && groq != nil {
		usage, _ = jsonscan.Get(groq, "usage")
	}
	if u, ok := wire.OpenAIUsage(usage); ok {
		d.emit(emit, Event{Kind: EventUsage, Usage: u})
	}
	return nil
}

// choices reads the choices array at the cursor, keeping choice 0 (the
// last of them, should there be several): n > 1 is refused.
func (d *openAIStreamDecoder) choices(c *openAICursor) {
	if !d.slowOnly {
		if end := d.quickChoices(c.data, c.pos); end >= 0 {
			c.pos = end
			return
		}
	}
	if c.peek() == 'n' {
		c.value()
		return
	}
	list := c.enter('[', "choices is not an array")
	for c.next(&list) {
		cur := d.reading()
		cur.reset()
		index := []byte(nil)
		obj := c.enter('{', "choices[] is not an object")
		for c.next(&obj) {
			switch string(c.key()) {
			case "index":
				index = c.value()
			case "delta":
				d.delta(c, cur)
			case "finish_reason":
				cur.finish = c.value()
			default:
				c.value()
			}
		}
		if n, ok := jsonscan.Int(index); c.err == nil && (!openAISet(index) || ok && n == 0) {
			d.pick ^= 1
			d.hasChoice = true
		}
	}
}

func (d *openAIStreamDecoder) delta(c *openAICursor, cur *openAIChoice) {
	calls := cur.calls[:0]
	*cur = openAIChoice{finish: cur.finish, calls: calls}
	if c.peek() == 'n' {
		c.value()
		return
	}
	obj := c.enter('{', "delta is not an object")
	for c.next(&obj) {
		switch string(c.key()) {
		case "content":
			cur.content = c.value()
		case "refusal":
			cur.refusal = c.value()
		case "reasoning_content":
			cur.reasoning = c.value()
		case "reasoning":
			cur.reasoningAlt = c.value()
		case "tool_calls":
			cur.calls = cur.calls[:0]
			if c.peek() == 'n' {
				c.value()
				break
			}
			list := c.enter('[', "tool_calls is not an array")
			for c.next(&list) {
				var t openAICallDelta
				call := c.enter('{', "tool_calls[] is not an object")
				for c.next(&call) {
					switch string(c.key()) {
					case "index":
						t.index = c.value()
					case "id":
						t.id = c.value()
					case "function":
						t.name, t.args = c.function("tool_calls[].function is not an object")
					default:
						c.value()
					}
				}
				cur.calls = append(cur.calls, t)
			}
		default:
			c.value()
		}
	}
}

// ---- the quick reading of a chunk ----
//
// A provider writes its chunks alike: after the start every chunk shares
// (see openAIStreamDecoder.prefix), the choices array (one choice, its
// delta of text or tool arguments), then perhaps "usage":null or an
// "obfuscation" string. The quick reading reads that as Decode's cursor
// does, into the same raw slices (so that the same code emits what they
// say), for JSON whose keys have no escape and whose choices are
// objects, skipping the values it does not need with openAISkip; it
// gives up (-1, or ok false) on anything else, before it has emitted
// anything, and the cursor reads the chunk again, with its errors. So
// whatever it reads, it reads as the cursor does, only faster.

// openAIQuickMember reads what follows data[i] inside an object (i is
// past its '{' when first, else past a member's value): the next
// member's key, which must have no escape, and the index of its value
// (more), or the object's end (more false, j past its '}'). j is -1 for
// anything else.
func openAIQuickMember(data []byte, i int, first bool) (key []byte, j int, more bool) {
	i = openAISpace(data, i)
	if i >= len(data) {
		return nil, -1, false
	}
	switch data[i] {
	case '}':
		return nil, i + 1, false
	case ',':
		if first {
			return nil, -1, false
		}
		i = openAISpace(data, i+1)
	default:
		if !first {
			return nil, -1, false
		}
	}
	if i >= len(data) || data[i] != '"' {
		return nil, -1, false
	}
	// Keys are short: a byte loop finds their end, or the escape that
	// makes them the cursor's to read.
	k := i + 1
	for k < len(data) && data[k] != '"' && data[k] != '\\' {
		k++
	}
	if k >= len(data) || data[k] != '"' {
		return nil, -1, false
	}
	key = data[i+1 : k]
	k = openAISpace(data, k+1)
	if k >= len(data) || data[k] != ':' {
		return nil, -1, false
	}
	return key, openAISpace(data, k+1), true
}

// openAIQuickElement reads what follows data[i] inside an array (i is
// past its '[' when first, else past an element): the index of the next
// element (more), or the array's end (more false, j past its ']'); -1 for
// anything else.
func openAIQuickElement(data []byte, i int, first bool) (j int, more bool) {
	i = openAISpace(data, i)
	if i >= len(data) {
		return -1, false
	}
	if data[i] == ']' {
		return i + 1, false
	}
	if !first {
		if data[i] != ',' {
			return -1, false
		}
		if i = openAISpace(data, i+1); i >= len(data) {
			return -1, false
		}
	}
	return i, true
}

// quickRest reads a chunk from data[i], the value of the "choices" its
// start (d.prefix) ends with, to its end: the choices, then members that
// are not choices, error or x_groq (usage is returned). ok is false for
// anything else.
func (d *openAIStreamDecoder) quickRest(data []byte, i int) (usage []byte, ok bool) {
	if i = d.quickChoices(data, i); i < 0 {
		return nil, false
	}
	for {
		key, j, more := openAIQuickMember(data, i, false)
		if j < 0 {
			return nil, false
		}
		if !more {
			return usage, openAISpace(data, j) == len(data)
		}
		switch string(key) {
		case "usage":
			i = openAISkip(data, j)
			if i >= 0 {
				usage = data[j:i]
			}
		case "choices", "error", "x_groq":
			return nil, false
		default:
			i = openAISkip(data, j)
		}
		if i < 0 {
			return nil, false
		}
	}
}

// quickChoices reads the choices array at data[i] (space allowed before
// it) as choices does, and returns the index past it; -1 for what it does
// not read (see openAIQuickMember), choices then reading it.
func (d *openAIStreamDecoder) quickChoices(data []byte, i int) int {
	d.hasChoice = false
	d.chosen().reset()
	i = openAISpace(data, i)
	if i >= len(data) || data[i] != '[' {
		return -1
	}
	i++
	for first := true; ; first = false {
		j, more := openAIQuickElement(data, i, first)
		if j < 0 || !more {
			return j
		}
		if data[j] != '{' {
			return -1
		}
		cur := d.reading()
		cur.reset()
		var index []byte
		i = j + 1
		member, closed := true, false
		// A choice as OpenAI writes it, its members compared whole
		// (the loop below reads them the same, one by one).
		const head, tail = `"index":0,"delta":`, `,"logprobs":null,"finish_reason":null}`
		if len(data)-i > len(head) && string(data[i:i+len(head)]) == head {
			index = data[i+len(`"index":`) : i+len(`"index":0`)]
			if i = d.quickDelta(data, i+len(head), cur); i < 0 {
				return -1
			}
			member = false
			if len(data)-i >= len(tail) && string(data[i:i+len(tail)]) == tail {
				cur.finish = data[i+len(tail)-len(`null}`) : i+len(tail)-1]
				i += len(tail)
				closed = true
			}
		}
		for ; !closed; member = false {
			key, j, more := openAIQuickMember(data, i, member)
			if j < 0 {
				return -1
			}
			if !more {
				i = j
				break
			}
			switch string(key) {
			case "index":
				i = openAISkip(data, j)
				if i >= 0 {
					index = data[j:i]
				}
			case "delta":
				i = d.quickDelta(data, j, cur)
			case "finish_reason":
				i = openAISkip(data, j)
				if i >= 0 {
					cur.finish = data[j:i]
				}
			default:
				i = openAISkip(data, j)
			}
			if i < 0 {
				return -1
			}
		}
		if n, ok := jsonscan.Int(index); !openAISet(index) || ok && n == 0 {
			d.pick ^= 1
			d.hasChoice = true
		}
	}
}

// quickDelta reads a delta at data[i] into cur as delta does, returning
// the index past it (-1: see quickChoices).
func (d *openAIStreamDecoder) quickDelta(data []byte, i int, cur *openAIChoice) int {
	calls := cur.calls[:0]
	*cur = openAIChoice{finish: cur.finish, calls: calls}
	if i >= len(data) || data[i] != '{' {
		return -1
	}
	i++
	first := true
	// The text delta, most of a stream: {"content":"..."}.
	const head = `"content":"`
	if len(data)-i > len(head) && string(data[i:i+len(head)]) == head {
		j := i + len(head) - 1
		end := jsonscan.StringEnd(data, j)
		if end < 0 {
			return -1
		}
		cur.content = data[j:end]
		if end < len(data) && data[end] == '}' {
			return end + 1
		}
		i, first = end, false
	} else if end := openAIQuickToolArgs(data, i, cur); end >= 0 {
		return end
	}
	for ; ; first = false {
		key, j, more := openAIQuickMember(data, i, first)
		if j < 0 || !more {
			return j
		}
		if string(key) == "tool_calls" {
			cur.calls = cur.calls[:0]
			if i = d.quickCalls(data, j, cur); i < 0 {
				return -1
			}
			continue
		}
		if i = openAISkip(data, j); i < 0 {
			return -1
		}
		switch string(key) {
		case "content":
			cur.content = data[j:i]
		case "refusal":
			cur.refusal = data[j:i]
		case "reasoning_content":
			cur.reasoning = data[j:i]
		case "reasoning":
			cur.reasoningAlt = data[j:i]
		}
	}
}

// openAIQuickToolArgs reads, at data[i] (past a delta's '{'), a delta
// of one call's arguments as OpenAI writes it, whole:
// "tool_calls":[{"index":N,"function":{"arguments":"..."}}]}, into cur
// as quickDelta reads it, returning the index past the delta; -1 (cur
// as it was) for anything else.
func openAIQuickToolArgs(data []byte, i int, cur *openAIChoice) int {
	const head, mid, tail = `"tool_calls":[{"index":`, `,"function":{"arguments":"`, `}}]}`
	if len(data)-i <= len(head) || string(data[i:i+len(head)]) != head {
		return -1
	}
	k := i + len(head)
	n := k
	for n < len(data) && data[n] >= '0' && data[n] <= '9' {
		n++
	}
	// A whole number as openAISkip reads one: no leading zero.
	if n == k || data[k] == '0' && n > k+1 || len(data)-n <= len(mid) || string(data[n:n+len(mid)]) != mid {
		return -1
	}
	a := n + len(mid) - 1
	end := jsonscan.StringEnd(data, a)
	if end < 0 || len(data)-end < len(tail) || string(data[end:end+len(tail)]) != tail {
		return -1
	}
	cur.calls = append(cur.calls[:0], openAICallDelta{index: data[k:n], args: data[a:end]})
	return end + len(tail)
}

// quickCalls reads a delta's tool_calls array (or null) at data[i] into
// cur.calls, returning the index past it (-1: see quickChoices).
func (d *openAIStreamDecoder) quickCalls(data []byte, i int, cur *openAIChoice) int {
	if i < len(data) && data[i] == 'n' {
		return openAISkip(data, i)
	}
	if i >= len(data) || data[i] != '[' {
		return -1
	}
	i++
	for first := true; ; first = false {
		j, more := openAIQuickElement(data, i, first)
		if j < 0 || !more {
			return j
		}
		if data[j] != '{' {
			return -1
		}
		var t openAICallDelta
		i = j + 1
		for first := true; ; first = false {
			key, j, more := openAIQuickMember(data, i, first)
			if j < 0 {
				return -1
			}
			if !more {
				i = j
				break
			}
			if string(key) == "function" {
				if i = openAIQuickFunction(data, j, &t); i < 0 {
					return -1
				}
				continue
			}
			if i = openAISkip(data, j); i < 0 {
				return -1
			}
			switch string(key) {
			case "index":
				t.index = data[j:i]
			case "id":
				t.id = data[j:i]
			}
		}
		cur.calls = append(cur.calls, t)
	}
}

// openAIQuickFunction reads a tool call's function object (or null) at
// data[i] into t as openAICursor.function does, returning the index past
// it (-1: see quickChoices).
func openAIQuickFunction(data []byte, i int, t *openAICallDelta) int {
	t.name, t.args = nil, nil
	if i < len(data) && data[i] == 'n' {
		return openAISkip(data, i)
	}
	if i >= len(data) || data[i] != '{' {
		return -1
	}
	i++
	for first := true; ; first = false {
		key, j, more := openAIQuickMember(data, i, first)
		if j < 0 || !more {
			return j
		}
		if i = openAISkip(data, j); i < 0 {
			return -1
		}
		switch string(key) {
		case "name":
			t.name = data[j:i]
		case "arguments":
			t.args = data[j:i]
		}
	}
}

// emitChoice emits what choice 0 of a chunk says, in the order a reader
// meets it: reasoning, text, tool calls, the finish.
func (d *openAIStreamDecoder) emitChoice(ch *openAIChoice, emit func(*Event)) {
	reasoning := ch.reasoning
	if !openAISet(reasoning) {
		reasoning = ch.reasoningAlt
	}
	if s := d.str(reasoning); s != "" {
		d.emit(emit, Event{Kind: EventThinking, Text: s})
	}
	if s := d.str(ch.content); s != "" {
		d.emit(emit, Event{Kind: EventText, Text: s})
	}
	if s := d.str(ch.refusal); s != "" {
		d.refused = true
		d.emit(emit, Event{Kind: EventText, Text: s})
	}
	for i := range ch.calls {
		d.toolCall(&ch.calls[i], emit)
	}
	if openAISet(ch.finish) {
		f := openAIFinish(d.str(ch.finish))
		if f == FinishStop && d.refused {
			f = FinishContentFilter
		}
		d.emit(emit, Event{Kind: EventFinish, Finish: f})
	}
}

// str returns the contents of the string value v without allocating:
// v's own bytes when it has no escapes, else d.buf's (see
// openAIStreamDecoder). Anything but a string is "".
func (d *openAIStreamDecoder) str(v []byte) string {
	if len(v) < 2 || v[0] != '"' {
		return ""
	}
	if body := v[1 : len(v)-1]; jsonscan.PlainLen(body) == len(body) {
		return unsafe.String(unsafe.SliceData(body), len(body))
	}
	var ok bool
	d.buf, ok = jsonscan.AppendText(d.buf[:0], v) // invalid bytes become U+FFFD, as an SDK reads them
	if !ok {
		return ""
	}
	return unsafe.String(unsafe.SliceData(d.buf), len(d.buf))
}

func (d *openAIStreamDecoder) toolCall(t *openAICallDelta, emit func(*Event)) {
	idx, hasIndex := jsonscan.Int(t.index)
	callID := d.str(t.id)
	ord := d.slot(idx, hasIndex, callID)
	if ord < 0 {
		ord = len(d.tools)
		d.tools = append(d.tools, openAIToolSlot{index: idx, hasIndex: hasIndex, id: strings.Clone(callID)})
		n, _ := jsonscan.String(t.name)
		d.emit(emit, Event{Kind: EventToolStart, Tool: ord, ID: d.tools[ord].id, Name: string(n)})
	}
	if s := d.str(t.args); s != "" {
		d.emit(emit, Event{Kind: EventToolArgs, Tool: ord, Text: s})
	}
}

// slot finds the call a tool_calls delta continues: the one with its
// index, unless it names another id (some servers give every parallel
// call index 0); without an index (Gemini's compatible endpoint), the one
// with its id, or the last one when it has none. -1: a new call.
func (d *openAIStreamDecoder) slot(index int64, hasIndex bool, id string) int {
	if hasIndex {
		for i := len(d.tools) - 1; i >= 0; i-- {
			t := &d.tools[i]
			if t.hasIndex && t.index == index {
				if id != "" && t.id != "" && id != t.id {
					return -1
				}
				return i
			}
		}
		return -1
	}
	if id == "" {
		return len(d.tools) - 1
	}
	for i := len(d.tools) - 1; i >= 0; i-- {
		if d.tools[i].id == id {
			return i
		}
	}
	return -1
}

func (openAICodec) NewStreamEncoder(req *Request) StreamEncoder {
	return &openAIStreamEncoder{streamUsage: req != nil && req.StreamUsage, now: time.Now}
}

// openAIStreamEncoder writes chat.completion.chunk events. Every chunk
// has the same id, created and model, from EventStart (OpenAI's stream
// has a created time, the others do not: the encoder's clock gives it).
// The usage chunk comes only when the caller asked (Request.StreamUsage):
// after the finish chunk, when the usage arrives (again if a later one
// changes it: the last one is the stream's), or at the end with the last
// seen. After an error event nothing more is written: OpenAI ends its
// stream there, without [DONE], and the SDKs stop at the error.
type openAIStreamEncoder struct {
	streamUsage bool
	now         func() time.Time

	head     []byte // `data: {"id":...,"choices":[`
	started  bool
	finished bool
	closed   bool
	// tools holds, per tool index, openAIToolStarted and openAIToolArgs.
	tools []uint8

	usage     provider.Usage
	usageSeen bool
	sent      provider.Usage
	usageSent bool
}

const (
	openAIToolStarted uint8 = 1 << iota
	openAIToolArgs
	// openAIMaxTools bounds the tools an encoder tracks: ordinals come
	// from a decoder, one per call.
	openAIMaxTools = 1 << 12
)

func (s *openAIStreamEncoder) Encode(dst []byte, e *Event) []byte {
	if s.closed {
		return dst
	}
	switch e.Kind {
	case EventStart:
		if !s.started {
			dst = s.start(dst, e.ID, e.Model)
		}
	case EventText:
		if e.Text == "" {
			break
		}
		dst = s.open(dst)
		dst = append(dst, `{"index":0,"delta":{"content":`...)
		dst = jsonscan.AppendQuoteFast(dst, e.Text)
		dst = s.close(append(dst, `},"logprobs":null,"finish_reason":null}`...))
	case EventToolStart:
		s.mark(e.Tool, openAIToolStarted)
		dst = s.open(dst)
		dst = append(dst, `{"index":0,"delta":{"tool_calls":[{"index":`...)
		dst = strconv.AppendInt(dst, int64(e.Tool), 10)
		dst = append(dst, `,"id":`...)
		dst = jsonscan.AppendQuoteFast(dst, e.ID)
		dst = append(dst, `,"type":"function","function":{"name":`...)
		dst = jsonscan.AppendQuoteFast(dst, e.Name)
		dst = s.close(append(dst, `,"arguments":""}}]},"logprobs":null,"finish_reason":null}`...))
	case EventToolArgs:
		if e.Text == "" {
			break
		}
		s.mark(e.Tool, openAIToolArgs)
		dst = s.args(dst, e.Tool, e.Text)
	case EventFinish:
		// A call without arguments gets "{}", as OpenAI sends for one:
		// an empty string is not JSON, and clients parse it.
		calls := false
		for i, f := range s.tools {
			if f&openAIToolStarted != 0 {
				calls = true
				if f&openAIToolArgs == 0 {
					s.tools[i] |= openAIToolArgs
					dst = s.args(dst, i, "{}")
				}
			}
		}
		dst = s.open(dst)
		dst = append(dst, `{"index":0,"delta":{},"logprobs":null,"finish_reason":"`...)
		dst = append(dst, openAIFinishReason(e.Finish, calls)...)
		dst = s.close(append(dst, `"}`...))
		// The usage waits for the next EventUsage (or EventDone): one
		// seen before the finish may be an earlier count (Gemini's come
		// with every chunk).
		s.finished = true
	case EventUsage:
		s.usage, s.usageSeen = e.Usage, true
		if s.finished {
			dst = s.usageChunk(dst)
		}
	case EventError:
		dst = append(dst, "data: "...)
		dst = openAIAppendError(dst, e.Err)
		dst = append(dst, "\n\n"...)
		s.closed = true
	case EventDone:
		if s.usageSeen {
			dst = s.usageChunk(dst)
		}
		dst = append(dst, "data: [DONE]\n\n"...)
		s.closed = true
	}
	return dst
}

func (s *openAIStreamEncoder) mark(tool int, flag uint8) {
	if tool < 0 || tool >= openAIMaxTools {
		return
	}
	for len(s.tools) <= tool {
		s.tools = append(s.tools, 0)
	}
	s.tools[tool] |= flag
}

func (s *openAIStreamEncoder) args(dst []byte, tool int, args string) []byte {
	dst = s.open(dst)
	dst = append(dst, `{"index":0,"delta":{"tool_calls":[{"index":`...)
	dst = strconv.AppendInt(dst, int64(tool), 10)
	dst = append(dst, `,"function":{"arguments":`...)
	dst = jsonscan.AppendQuoteFast(dst, args)
	return s.close(append(dst, `}}]},"logprobs":null,"finish_reason":null}`...))
}

// start writes the first chunk, which opens the assistant's message as
// OpenAI's does.
func (s *openAIStreamEncoder) start(dst []byte, id, model string) []byte {
	s.started = true
	if id == "" {
		id = openAINewID()
	}
	h := append(s.head[:0], `data: {"id":`...)
	h = jsonscan.AppendQuoteFast(h, id)
	h = append(h, `,"object":"chat.completion.chunk","created":`...)
	h = strconv.AppendInt(h, s.now().Unix(), 10)
	h = append(h, `,"model":`...)
	h = jsonscan.AppendQuoteFast(h, model)
	s.head = append(h, `,"choices":[`...)
	dst = append(dst, s.head...)
	dst = append(dst, `{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}`...)
	return s.close(dst)
}

// open begins a chunk (after the first, if none came yet).
func (s *openAIStreamEncoder) open(dst []byte) []byte {
	if !s.started {
		dst = s.start(dst, "", "")
	}
	return append(dst, s.head...)
}

// close ends a chunk that has choices: with "usage":null when the caller
// asked for the usage, as OpenAI's chunks have it then.
func (s *openAIStreamEncoder) close(dst []byte) []byte {
	if s.streamUsage {
		return append(dst, "],\"usage\":null}\n\n"...)
	}
	return append(dst, "]}\n\n"...)
}

// usageChunk writes the usage chunk, when the caller asked for it and it
// says something new.
func (s *openAIStreamEncoder) usageChunk(dst []byte) []byte {
	if !s.streamUsage || s.usageSent && s.sent == s.usage {
		return dst
	}
	s.sent, s.usageSent = s.usage, true
	dst = s.open(dst)
	dst = append(dst, `],"usage":`...)
	dst = openAIAppendUsage(dst, s.usage)
	return append(dst, "}\n\n"...)
}

// ---- errors ----

func (openAICodec) EncodeError(e *provider.Error) []byte {
	if e == nil {
		e = &provider.Error{}
	}
	return openAIAppendError(make([]byte, 0, 96+len(e.Message)+len(e.Type)+len(e.Code)), e)
}

// openAIAppendError appends OpenAI's error object. The SDKs choose their
// error type from the status, and callers read type and code: an
// Anthropic or Gemini type becomes OpenAI's nearest (openAIErrorType).
func openAIAppendError(b []byte, e *provider.Error) []byte {
	if e == nil {
		e = &provider.Error{}
	}
	typ, code := openAIErrorType(e)
	msg := e.Message
	if msg == "" {
		msg = "The server had an error while processing your request."
		if e.Status >= 400 && e.Status < 500 {
			msg = openAIStatusText(e.Status)
		}
	}
	b = append(b, `{"error":{"message":`...)
	b = jsonscan.AppendQuoteFast(b, msg)
	b = append(b, `,"type":`...)
	b = jsonscan.AppendQuoteFast(b, typ)
	b = append(b, `,"param":null,"code":`...)
	if code == "" {
		b = append(b, "null"...)
	} else {
		b = jsonscan.AppendQuoteFast(b, code)
	}
	return append(b, `}}`...)
}

func openAIStatusText(status int) string {
	switch status {
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 413:
		return "Request Entity Too Large"
	case 429:
		return "Too Many Requests"
	}
	return "Error " + strconv.Itoa(status)
}

// openAIErrorType maps an error's type to OpenAI's: Anthropic's
// rate_limit_error and Gemini's RESOURCE_EXHAUSTED are a rate limit
// (type "requests", code rate_limit_exceeded), billing_error and
// Anthropic's enforced_spend_limit_reached are OpenAI's
// insufficient_quota (a 429 not worth retrying), authentication and
// request errors are invalid_request_error (code invalid_api_key for
// authentication, as OpenAI's 401), permission errors request_forbidden,
// overloaded, timeout and internal errors server_error. Types that are
// not Anthropic's or Gemini's (OpenAI's own, a compatible server's) stay;
// an empty one comes from the status, as provider.NewErrorResponse
// derives it (a mid-stream error has none: server_error).
func openAIErrorType(e *provider.Error) (typ, code string) {
	code = e.Code
	if code == "enforced_spend_limit_reached" || e.Type == "billing_error" {
		return "insufficient_quota", "insufficient_quota"
	}
	switch e.Type {
	case "rate_limit_error", "RESOURCE_EXHAUSTED":
		return "requests", cmp.Or(code, "rate_limit_exceeded")
	case "authentication_error", "UNAUTHENTICATED":
		return "invalid_request_error", cmp.Or(code, "invalid_api_key")
	case "permission_error", "PERMISSION_DENIED":
		return "request_forbidden", code
	case "invalid_request_error", "not_found_error", "request_too_large",
		"INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE", "NOT_FOUND",
		"ALREADY_EXISTS", "UNIMPLEMENTED", "CANCELLED":
		return "invalid_request_error", code
	case "api_error", "overloaded_error", "timeout_error",
		"INTERNAL", "UNAVAILABLE", "DEADLINE_EXCEEDED", "UNKNOWN", "DATA_LOSS", "ABORTED":
		return "server_error", code
	case "":
	default:
		return e.Type, code
	}
	switch {
	case e.Status == 403:
		return "request_forbidden", code
	case e.Status == 429:
		return "requests", cmp.Or(code, "rate_limit_exceeded")
	case e.Status >= 400 && e.Status < 500:
		return "invalid_request_error", code
	}
	return "server_error", code
}
