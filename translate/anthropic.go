package translate

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
	"github.com/aigateway-go/aigateway/provider"
)

// anthropicCodec is the Codec of Anthropic's Messages API (POST
// /v1/messages).
//
// What it drops, since it cannot change the answer: cache_control (on the
// request, the system blocks, the content blocks and the tools: it changes
// what a call costs, not what it says), service_tier, inference_geo,
// container, citations of request text blocks, and members it does not
// know. A custom tool's strict (structured outputs: its input is
// guaranteed to match input_schema) is Tool.Strict, and
// output_config.format, always enforced, is read as a strict
// json_schema. What it marks unsupported (so that another format's
// encoder refuses the request): content blocks other than text, image,
// tool_use, tool_result, thinking and redacted_thinking (document,
// search_result, server tools' blocks ...), images by file id, images or
// documents inside a tool_result, server tools (a tool with a "type" other
// than "custom"), mcp_servers and context_management.
type anthropicCodec struct{}

// Format returns provider.FormatAnthropicMessages.
func (anthropicCodec) Format() provider.Format { return provider.FormatAnthropicMessages }

// anthropicRequestError says why a body is not an Anthropic request.
func anthropicRequestError(format string, args ...any) error {
	return fmt.Errorf("translate: not an anthropic messages request: "+format, args...)
}

// anthropicString returns the string value v; ok is false for anything
// else. v must be in memory the codec owns and never writes (its copy of
// a body): the string is a view of it, or of the new bytes unescaping
// made, so that decoding a body costs one copy of it rather than one
// allocation per string.
func anthropicString(v []byte) (string, bool) {
	s, ok := jsonscan.String(v)
	return anthropicView(s), ok
}

// anthropicReader reads a request body in one pass: each value is checked
// once, as the reader passes over it, where jsonscan's iterators would
// check a nested value again at each level (a content block's bytes five
// times), which costs more than the translation's budget.
type anthropicReader struct {
	data []byte
	pos  int
	err  error
}

// fail notes the first error; every read after it does nothing.
func (rd *anthropicReader) fail(format string, args ...any) {
	if rd.err == nil {
		rd.err = anthropicRequestError(format, args...)
	}
}

// next returns the first byte of the next value (0 at the end or after an
// error), past whitespace.
func (rd *anthropicReader) next() byte {
	if rd.err != nil {
		return 0
	}
	rd.pos = jsonscan.SkipSpace(rd.data, rd.pos)
	if rd.pos >= len(rd.data) {
		return 0
	}
	return rd.data[rd.pos]
}

// null reads a null when one is next.
func (rd *anthropicReader) null() bool {
	if rd.next() != 'n' {
		return false
	}
	rd.raw()
	return true
}

// raw returns the next value as it is, checked, and moves past it. A
// string is only looked at for its end (its escapes are checked when it
// is decoded): strings are most of a request's bytes, and two vectorised
// searches cost a fraction of a byte-by-byte check.
func (rd *anthropicReader) raw() []byte {
	switch rd.next() {
	case 0:
		rd.fail("a value is missing")
		return nil
	case '"':
		start := rd.pos
		end := anthropicStringEnd(rd.data, start)
		if end < 0 {
			rd.fail("a string is not closed")
			return nil
		}
		rd.pos = end
		return rd.data[start:end]
	}
	start := rd.pos
	end, err := jsonscan.SkipValue(rd.data, start)
	if err != nil {
		rd.fail("%v", err)
		return nil
	}
	rd.pos = end
	return rd.data[start:end]
}

// anthropicStringEnd returns the index just past the string that starts at
// data[i] (a quote), -1 when it does not end: the first quote not escaped
// by an odd run of backslashes.
func anthropicStringEnd(data []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			return -1
		}
		k += j
		n := 0
		for k-1-n > i && data[k-1-n] == '\\' {
			n++
		}
		if n%2 == 0 {
			return k + 1
		}
		j = k + 1
	}
}

// str reads a string (what names it in errors); null is "".
func (rd *anthropicReader) str(what string) string {
	if rd.null() {
		return ""
	}
	if rd.next() != '"' {
		rd.fail("%s is not a string", what)
		return ""
	}
	s, ok := anthropicString(rd.raw())
	if !ok {
		rd.fail("%s is not a string", what)
	}
	return s
}

// key reads an object key and its colon, decoded.
func (rd *anthropicReader) key() []byte {
	if rd.next() != '"' {
		rd.fail("an object key is missing")
		return nil
	}
	data, start := rd.data, rd.pos
	var k []byte
	i := start + 1
	for i < len(data) && data[i] != '"' && data[i] != '\\' {
		i++
	}
	if i < len(data) && data[i] == '"' {
		k, rd.pos = data[start+1:i], i+1
	} else {
		s, ok := jsonscan.String(rd.raw())
		if !ok {
			rd.fail("an object key is not a string")
			return nil
		}
		k = s
	}
	if rd.pos < len(data) && data[rd.pos] == ':' {
		rd.pos++
		return k
	}
	if rd.next() != ':' {
		rd.fail("an object key is not followed by ':'")
		return nil
	}
	rd.pos++
	return k
}

// object reads an object (what names it in errors), calling member with
// each key: member reads the value, or leaves it to be passed over.
func (rd *anthropicReader) object(what string, member func(key []byte)) {
	if rd.next() != '{' {
		rd.fail("%s is not an object", what)
		return
	}
	rd.pos++
	if rd.next() == '}' {
		rd.pos++
		return
	}
	for rd.err == nil {
		k := rd.key()
		if rd.next() == 0 {
			rd.fail("%s is cut short", what)
			return
		}
		at := rd.pos
		member(k)
		if rd.err == nil && rd.pos == at {
			rd.raw()
		}
		switch rd.next() {
		case ',':
			rd.pos++
		case '}':
			rd.pos++
			return
		default:
			rd.fail("%s is not a well-formed object", what)
		}
	}
}

// array reads an array, calling elem for each element, which it must
// read.
func (rd *anthropicReader) array(what string, elem func()) {
	if rd.next() != '[' {
		rd.fail("%s is not an array", what)
		return
	}
	rd.pos++
	if rd.next() == ']' {
		rd.pos++
		return
	}
	for rd.err == nil {
		at := rd.pos
		elem()
		if rd.err == nil && rd.pos == at {
			rd.raw()
		}
		switch rd.next() {
		case ',':
			rd.pos++
		case ']':
			rd.pos++
			return
		default:
			rd.fail("%s is not a well-formed array", what)
		}
	}
}

// anthropicRequestDecoder holds what decoding one request needs across its
// members: the reader, the parts of all messages (one backing array, each
// message's parts a piece of it), and the tool calls seen so far, to name
// the results that answer them.
type anthropicRequestDecoder struct {
	rd        *anthropicReader
	r         *Request
	parts     []Part
	calls     []anthropicCall
	toolNames map[string]string // the calls by id, once there are many
}

// anthropicCall is a tool call a request holds.
type anthropicCall struct{ id, name string }

// anthropicManyCalls is the number of tool calls beyond which their names
// are looked up in a map rather than by a walk over them.
const anthropicManyCalls = 16

// addCall notes a tool call.
func (d *anthropicRequestDecoder) addCall(id, name string) {
	d.calls = append(d.calls, anthropicCall{id, name})
	switch {
	case d.toolNames != nil:
		d.toolNames[id] = name
	case len(d.calls) > anthropicManyCalls:
		d.toolNames = make(map[string]string, 2*len(d.calls))
		for _, c := range d.calls {
			d.toolNames[c.id] = c.name
		}
	}
}

// callName is the name of the tool call id, "" when the request has none.
func (d *anthropicRequestDecoder) callName(id string) string {
	if d.toolNames != nil {
		return d.toolNames[id]
	}
	for i := len(d.calls) - 1; i >= 0; i-- {
		if d.calls[i].id == id {
			return d.calls[i].name
		}
	}
	return ""
}

// unsupported notes a parameter no other format can honour (once).
func (d *anthropicRequestDecoder) unsupported(param string) {
	d.r.addUnsupported(param)
}

// DecodeRequest reads a Messages request body. The model and stream flag
// are in the body; meta.Model is used only when the body names none.
func (anthropicCodec) DecodeRequest(body []byte, meta RequestMeta) (*Request, error) {
	// The request's strings and raw values are views of this copy.
	own := bytes.Clone(body)
	rd := &anthropicReader{data: own}
	r := &Request{}
	d := anthropicRequestDecoder{rd: rd, r: r, parts: make([]Part, 0, 2+len(body)/200)}
	var thinking, outputConfig, outputFormat []byte
	rd.object("the body", func(key []byte) {
		if rd.null() {
			return
		}
		switch string(key) {
		case "model":
			r.Model = rd.str("model")
		case "stream":
			b, ok := jsonscan.Bool(rd.raw())
			if !ok {
				rd.fail("stream is not a boolean")
			}
			r.Stream = b
		case "system":
			d.system()
		case "messages":
			r.Messages = make([]Message, 0, 4)
			rd.array("messages", d.message)
		case "tools":
			r.Tools = r.Tools[:0]
			rd.array("tools", d.tool)
		case "tool_choice":
			d.toolChoice(rd.raw())
		case "max_tokens":
			r.MaxTokens = anthropicInt(rd, rd.raw(), "max_tokens")
		case "temperature":
			f := anthropicNumber(rd, rd.raw(), "temperature")
			r.Temperature = &f
		case "top_p":
			f := anthropicNumber(rd, rd.raw(), "top_p")
			r.TopP = &f
		case "top_k":
			n := anthropicInt(rd, rd.raw(), "top_k")
			r.TopK = &n
		case "stop_sequences":
			r.Stop = r.Stop[:0]
			rd.array("stop_sequences", func() { r.Stop = append(r.Stop, rd.str("a stop sequence")) })
		case "metadata":
			rd.object("metadata", func(key []byte) {
				if string(key) == "user_id" {
					r.User = rd.str("metadata.user_id")
				}
			})
		case "thinking":
			thinking = rd.raw()
		case "output_config":
			outputConfig = rd.raw()
		case "output_format": // the structured outputs beta's spelling
			outputFormat = rd.raw()
		case "mcp_servers":
			// Servers whose tools the model may call: no other
			// format has them.
			if v := rd.raw(); string(v) != "[]" {
				d.unsupported("mcp_servers")
			}
		case "context_management":
			// The clearing of earlier turns changes what the model
			// sees.
			rd.raw()
			d.unsupported("context_management")
		}
	})
	if rd.err == nil && jsonscan.SkipSpace(own, rd.pos) != len(own) {
		rd.fail("data after the body")
	}
	if rd.err != nil {
		return nil, rd.err
	}
	if r.Model == "" {
		r.Model = meta.Model
	}
	if err := d.reasoning(thinking, outputConfig, outputFormat); err != nil {
		return nil, err
	}
	return r, nil
}

// anthropicNumber reads a JSON number as a float64.
func anthropicNumber(rd *anthropicReader, v []byte, key string) float64 {
	if len(v) == 0 || v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		rd.fail("%s is not a number", key)
		return 0
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		rd.fail("%s is not a number", key)
	}
	return f
}

// anthropicInt reads a JSON integer.
func anthropicInt(rd *anthropicReader, v []byte, key string) int64 {
	n, ok := jsonscan.Int(v)
	if !ok {
		rd.fail("%s is not an integer", key)
	}
	return n
}

// system reads the system prompt: a string, or an array of text blocks.
func (d *anthropicRequestDecoder) system() {
	rd := d.rd
	d.r.System = d.r.System[:0]
	switch rd.next() {
	case '"':
		if s := rd.str("system"); s != "" {
			d.r.System = append(d.r.System, Part{Kind: PartText, Text: s})
		}
	case '[':
		rd.array("system", func() {
			m := d.blockMembers()
			if string(m.typ) != `"text"` {
				rd.fail("system holds a block that is not text")
				return
			}
			s, ok := anthropicString(m.text)
			if !ok {
				rd.fail("a system block's text is not a string")
			}
			d.r.System = append(d.r.System, Part{Kind: PartText, Text: s})
		})
	default:
		rd.fail("system is neither a string nor an array")
	}
}

// message reads one message of the conversation.
func (d *anthropicRequestDecoder) message() {
	rd := d.rd
	var msg Message
	rd.object("a message", func(key []byte) {
		switch string(key) {
		case "role":
			switch v := rd.raw(); string(v) {
			case `"user"`:
				msg.Role = RoleUser
			case `"assistant"`:
				msg.Role = RoleAssistant
			default:
				rd.fail("a message's role is %s", v)
			}
		case "content":
			d.content(&msg)
		}
	})
	if rd.err == nil && msg.Role == 0 {
		rd.fail("a message has no role")
	}
	d.r.Messages = append(d.r.Messages, msg)
}

// content reads a message's content (a string, or an array of blocks).
func (d *anthropicRequestDecoder) content(msg *Message) {
	rd := d.rd
	start := len(d.parts)
	switch rd.next() {
	case 'n':
		rd.raw()
	case '"':
		if s := rd.str("content"); s != "" {
			d.parts = append(d.parts, Part{Kind: PartText, Text: s})
		}
	case '[':
		rd.array("content", func() {
			if p, ok := d.block(d.blockMembers()); ok {
				d.parts = append(d.parts, p)
			}
		})
	default:
		rd.fail("a message's content is neither a string nor an array")
	}
	msg.Parts = nil
	if len(d.parts) > start {
		msg.Parts = d.parts[start:len(d.parts):len(d.parts)]
	}
}

// anthropicBlockMembers are the members of a content block the decoders
// read, as they are.
type anthropicBlockMembers struct {
	typ, text, source, id, name, input, toolUseID, content, isError, thinking, signature, data []byte
}

// set keeps the value v of member key.
func (m *anthropicBlockMembers) set(key, v []byte) {
	switch string(key) {
	case "type":
		m.typ = v
	case "text":
		m.text = v
	case "source":
		m.source = v
	case "id":
		m.id = v
	case "name":
		m.name = v
	case "input":
		m.input = v
	case "tool_use_id":
		m.toolUseID = v
	case "content":
		m.content = v
	case "is_error":
		m.isError = v
	case "thinking":
		m.thinking = v
	case "signature":
		m.signature = v
	case "data":
		m.data = v
	}
}

// blockMembers reads a content block's members.
func (d *anthropicRequestDecoder) blockMembers() (m anthropicBlockMembers) {
	d.rd.object("a content block", func(key []byte) { m.set(key, d.rd.raw()) })
	return m
}

// anthropicReadBlock reads a content block's members from its raw value.
func anthropicReadBlock(b []byte) (m anthropicBlockMembers, err error) {
	if !jsonscan.IsObject(b) {
		return m, errors.New("translate: an anthropic content block is not an object")
	}
	it := jsonscan.Members(b)
	for it.Next() {
		m.set(it.Key(), it.Value())
	}
	if it.Err() != nil {
		return m, fmt.Errorf("translate: an anthropic content block: %w", it.Err())
	}
	return m, nil
}

// block makes a part of a content block's members; ok is false for a
// block the representation cannot hold (noted as unsupported).
func (d *anthropicRequestDecoder) block(m anthropicBlockMembers) (p Part, ok bool) {
	rd := d.rd
	if rd.err != nil {
		return p, false
	}
	typ, isStr := anthropicString(m.typ)
	if !isStr {
		rd.fail("a content block has no type")
		return p, false
	}
	switch typ {
	case "text":
		s, ok := anthropicString(m.text)
		if !ok {
			rd.fail("a text block's text is not a string")
		}
		return Part{Kind: PartText, Text: s}, ok
	case "image":
		return d.image(m.source)
	case "tool_use":
		p = Part{Kind: PartToolCall, Arguments: "{}"}
		p.ID, _ = anthropicString(m.id)
		p.Name, _ = anthropicString(m.name)
		if p.ID == "" || p.Name == "" {
			rd.fail("a tool_use block lacks its id or name")
			return p, false
		}
		if len(m.input) > 0 && !jsonscan.IsNull(m.input) {
			p.Arguments = anthropicView(m.input)
		}
		d.addCall(p.ID, p.Name)
		return p, true
	case "tool_result":
		p = Part{Kind: PartToolResult}
		p.ID, _ = anthropicString(m.toolUseID)
		if p.ID == "" {
			rd.fail("a tool_result block lacks its tool_use_id")
			return p, false
		}
		p.Name = d.callName(p.ID)
		p.IsError, _ = jsonscan.Bool(m.isError)
		p.Text = d.toolResultContent(m.content)
		return p, rd.err == nil
	case "thinking":
		p = Part{Kind: PartThinking}
		p.Text, _ = anthropicString(m.thinking)
		p.Signature, _ = anthropicString(m.signature)
		return p, true
	case "redacted_thinking":
		p = Part{Kind: PartThinking}
		p.Redacted, _ = anthropicString(m.data)
		return p, true
	}
	// document, search_result, server_tool_use, web_search_tool_result,
	// container_upload ...: no other format carries them.
	d.unsupported(`content block "` + typ + `"`)
	return p, false
}

// image reads an image block's source.
func (d *anthropicRequestDecoder) image(src []byte) (Part, bool) {
	p := Part{Kind: PartImage}
	var typ, mediaType, data, url []byte
	it := jsonscan.Members(src)
	for it.Next() {
		switch v := it.Value(); string(it.Key()) {
		case "type":
			typ = v
		case "media_type":
			mediaType = v
		case "data":
			data = v
		case "url":
			url = v
		}
	}
	switch string(typ) {
	case `"base64"`:
		p.MediaType, _ = anthropicString(mediaType)
		p.Data, _ = anthropicString(data)
		return p, true
	case `"url"`:
		p.URL, _ = anthropicString(url)
		return p, true
	}
	s, _ := anthropicString(typ)
	d.unsupported(`image source "` + s + `"`)
	return p, false
}

// toolResultContent reads a tool_result's content: a string, or text
// blocks (joined by newlines). An image or a document in it is noted as
// unsupported: the representation holds a result as text.
func (d *anthropicRequestDecoder) toolResultContent(v []byte) string {
	if len(v) == 0 || jsonscan.IsNull(v) {
		return ""
	}
	if s, ok := anthropicString(v); ok {
		return s
	}
	if v[0] != '[' {
		d.rd.fail("a tool_result's content is neither a string nor an array")
		return ""
	}
	var b strings.Builder
	n := 0
	el := jsonscan.Elements(v)
	for el.Next() {
		m, err := anthropicReadBlock(el.Value())
		if err != nil {
			d.rd.fail("%v", err)
			return ""
		}
		typ, _ := anthropicString(m.typ)
		if typ != "text" {
			d.unsupported(`tool_result content block "` + typ + `"`)
			continue
		}
		s, _ := anthropicString(m.text)
		if n > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(s)
		n++
	}
	return b.String()
}

// tool reads one tool definition.
func (d *anthropicRequestDecoder) tool() {
	rd := d.rd
	var tool Tool
	var typ string
	rd.object("a tool", func(key []byte) {
		switch string(key) {
		case "type":
			typ = rd.str("a tool's type")
		case "name":
			tool.Name = rd.str("a tool's name")
		case "description":
			tool.Description = rd.str("a tool's description")
		case "input_schema":
			v := rd.raw()
			tool.Parameters = v[:len(v):len(v)]
		case "strict":
			if rd.null() {
				return
			}
			strict, ok := jsonscan.Bool(rd.raw())
			if !ok {
				rd.fail("a tool's strict is not a boolean")
			}
			tool.Strict = strict
		}
	})
	if rd.err != nil {
		return
	}
	if typ != "" && typ != "custom" {
		// A server tool (web_search_20250305, bash_20250124 ...):
		// Anthropic runs it, no other format can.
		d.unsupported(`tool type "` + typ + `"`)
		return
	}
	if tool.Name == "" {
		rd.fail("a tool has no name")
		return
	}
	d.r.Tools = append(d.r.Tools, tool)
}

// toolChoice reads tool_choice and its disable_parallel_tool_use.
func (d *anthropicRequestDecoder) toolChoice(v []byte) {
	if d.rd.err != nil {
		return
	}
	if !jsonscan.IsObject(v) {
		d.rd.fail("tool_choice is not an object")
		return
	}
	var tc ToolChoice
	it := jsonscan.Members(v)
	for it.Next() {
		switch v := it.Value(); string(it.Key()) {
		case "type":
			switch string(v) {
			case `"auto"`:
				tc.Mode = ToolChoiceAuto
			case `"any"`:
				tc.Mode = ToolChoiceRequired
			case `"tool"`:
				tc.Mode = ToolChoiceTool
			case `"none"`:
				tc.Mode = ToolChoiceNone
			default:
				d.rd.fail("tool_choice.type is %s", v)
				return
			}
		case "name":
			tc.Name, _ = anthropicString(v)
		case "disable_parallel_tool_use":
			if b, ok := jsonscan.Bool(v); ok {
				parallel := !b
				d.r.ParallelToolCalls = &parallel
			}
		}
	}
	if tc.Mode != ToolChoiceTool {
		tc.Name = ""
	} else if tc.Name == "" {
		d.rd.fail("tool_choice of type tool names no tool")
		return
	}
	d.r.ToolChoice = tc
}

// reasoning reads thinking and output_config (effort, format) together:
// adaptive thinking takes its effort from output_config.
func (d *anthropicRequestDecoder) reasoning(thinking, outputConfig, outputFormat []byte) error {
	r := d.r
	var effort string
	if outputConfig != nil {
		if !jsonscan.IsObject(outputConfig) {
			return anthropicRequestError("output_config is not an object")
		}
		if e, ok := jsonscan.Get(outputConfig, "effort"); ok && !jsonscan.IsNull(e) {
			effort, _ = anthropicString(e)
		}
		if f, ok := jsonscan.Get(outputConfig, "format"); ok && !jsonscan.IsNull(f) {
			outputFormat = f
		}
	}
	if outputFormat != nil {
		typ, _ := jsonscan.Get(outputFormat, "type")
		schema, ok := jsonscan.Get(outputFormat, "schema")
		if string(typ) != `"json_schema"` || !ok || !jsonscan.IsObject(schema) {
			return anthropicRequestError("output format is not a json_schema with a schema")
		}
		r.ResponseFormat = "json_schema"
		r.ResponseSchema = schema[:len(schema):len(schema)]
		// Structured outputs constrain the answer to the schema: always
		// strict.
		r.ResponseStrict = true
	}
	if thinking == nil {
		r.Reasoning.Effort = effort
		return nil
	}
	if !jsonscan.IsObject(thinking) {
		return anthropicRequestError("thinking is not an object")
	}
	typ, _ := jsonscan.Get(thinking, "type")
	display, _ := jsonscan.Get(thinking, "display")
	// Anthropic shows the thinking unless told to omit it: the caller
	// expects thoughts back.
	include := string(display) != `"omitted"`
	switch string(typ) {
	case `"disabled"`:
		r.Reasoning = Reasoning{Disabled: true}
	case `"enabled"`:
		b, _ := jsonscan.Get(thinking, "budget_tokens")
		n, ok := jsonscan.Int(b)
		if !ok {
			return anthropicRequestError("thinking.budget_tokens is not an integer")
		}
		r.Reasoning = Reasoning{BudgetTokens: n, IncludeThoughts: include}
	case `"adaptive"`:
		if effort == "" {
			effort = "high" // adaptive thinking's default effort
		}
		r.Reasoning = Reasoning{Effort: effort, IncludeThoughts: include}
	default:
		return anthropicRequestError("thinking.type is %s", typ)
	}
	return nil
}

// EncodeRequest writes r as a Messages request for model.
//
// Choices where the formats differ:
//   - Consecutive messages of one role are merged (the API merges them
//     too), empty text blocks and messages left empty are left out (the API
//     refuses them), and a user turn's tool results come first in it (the
//     API requires it).
//   - A tool call's arguments are its input: an empty string is {}; text
//     that is not a JSON object is refused (Anthropic takes only an
//     object).
//   - Thinking of earlier turns goes back only with its signature (or as
//     redacted_thinking): thinking without one did not come from Anthropic,
//     which would refuse it.
//   - Thinking: models from Claude 4.6 on (and Claudes with no version in
//     their name) get adaptive thinking with output_config.effort (Claude 4.7 and later
//     refuse budgets), older ones thinking.budget_tokens; effort and budget
//     map to each other through EffortBudget and BudgetEffort. A budget
//     below Anthropic's least (1024) is raised to it, and a max_tokens that
//     does not leave room for the budget is raised by it (thinking counts
//     in max_tokens: the answer keeps the room the caller gave it). With
//     thinking, a temperature other than 1, a top_p below 0.95, top_k and
//     a forced tool choice are refused, as the API refuses them. A request
//     that ends with tool results answering an assistant turn that does
//     not start with Anthropic's signed thinking (any conversation carried
//     on from another provider) goes without thinking: Anthropic refuses
//     thinking then, and refusing the request would fail every tool loop
//     a fallback takes over; the model still thinks on the next turn.
//   - response_format json_schema becomes output_config.format (structured
//     outputs), which Anthropic always enforces, strict or not (a
//     non-strict request gets more than it asked); its name and
//     description, which only steer OpenAI's model, have no place and are
//     dropped; json_object is refused (Anthropic has no JSON mode without
//     a schema). A tool's Strict is its strict: true.
//   - A subset of the tools (ToolChoice.Allowed: OpenAI's allowed_tools,
//     Gemini's allowedFunctionNames) has no equivalent: only the tools of
//     the subset are sent, with tool_choice auto or any as the mode
//     says, so that the model calls no other and a required subset still
//     forces a call. The model does not see the other tools, so the
//     prompt is not quite the caller's (and Anthropic caches prompts by
//     their prefix, tools first: each subset would be a prefix of its
//     own, though a translated request carries no cache_control, the
//     caller's format having none), but that is better than refusing
//     every request with a subset that falls back to Anthropic. A subset
//     naming a tool the request does not define is refused, naming
//     tool_choice.
func (anthropicCodec) EncodeRequest(r *Request, model string) ([]byte, error) {
	if model == "" {
		model = r.Model
	}
	plan, err := anthropicPlanRequest(r, model)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, anthropicRequestSize(r))
	b = append(b, `{"model":`...)
	b = jsonscan.AppendQuoteNoHTML(b, model)
	b = append(b, `,"max_tokens":`...)
	b = strconv.AppendInt(b, plan.maxTokens, 10)
	b = anthropicAppendSystem(b, r.System)
	b = append(b, `,"messages":`...)
	if b, err = anthropicAppendMessages(b, r.Messages); err != nil {
		return nil, err
	}
	if len(r.Tools) > 0 {
		b = append(b, `,"tools":[`...)
		n := 0
		for _, t := range r.Tools {
			if !r.ToolChoice.allows(t.Name) {
				// Anthropic names no subset: a tool the model may
				// not call is not offered.
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = append(b, `{"name":`...)
			b = jsonscan.AppendQuoteNoHTML(b, t.Name)
			if t.Description != "" {
				b = append(b, `,"description":`...)
				b = jsonscan.AppendQuoteNoHTML(b, t.Description)
			}
			b = append(b, `,"input_schema":`...)
			if len(bytes.TrimSpace(t.Parameters)) == 0 {
				// Anthropic requires a schema; OpenAI's functions may
				// have none.
				b = append(b, `{"type":"object","properties":{}}`...)
			} else {
				b = append(b, t.Parameters...)
			}
			if t.Strict {
				b = append(b, `,"strict":true`...)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
		b = anthropicAppendToolChoice(b, r)
	}
	if r.Temperature != nil {
		b = append(b, `,"temperature":`...)
		b = strconv.AppendFloat(b, *r.Temperature, 'g', -1, 64)
	}
	if r.TopP != nil {
		b = append(b, `,"top_p":`...)
		b = strconv.AppendFloat(b, *r.TopP, 'g', -1, 64)
	}
	if r.TopK != nil {
		b = append(b, `,"top_k":`...)
		b = strconv.AppendInt(b, *r.TopK, 10)
	}
	if len(r.Stop) > 0 {
		b = append(b, `,"stop_sequences":[`...)
		for i, s := range r.Stop {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonscan.AppendQuoteNoHTML(b, s)
		}
		b = append(b, ']')
	}
	if r.User != "" {
		b = append(b, `,"metadata":{"user_id":`...)
		b = jsonscan.AppendQuoteNoHTML(b, r.User)
		b = append(b, '}')
	}
	switch {
	case plan.effort != "":
		b = append(b, `,"thinking":{"type":"adaptive"}`...)
	case plan.budget > 0:
		b = append(b, `,"thinking":{"type":"enabled","budget_tokens":`...)
		b = strconv.AppendInt(b, plan.budget, 10)
		b = append(b, '}')
	}
	if plan.effort != "" || plan.schema {
		b = append(b, `,"output_config":{`...)
		if plan.effort != "" {
			b = append(b, `"effort":`...)
			b = jsonscan.AppendQuoteNoHTML(b, plan.effort)
			if plan.schema {
				b = append(b, ',')
			}
		}
		if plan.schema {
			b = append(b, `"format":{"type":"json_schema","schema":`...)
			b = append(b, r.ResponseSchema...)
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	if r.Stream {
		b = append(b, `,"stream":true`...)
	}
	return append(b, '}'), nil
}

// anthropicRequestPlan is what EncodeRequest decided before writing.
type anthropicRequestPlan struct {
	maxTokens int64
	budget    int64  // thinking.budget_tokens, 0: none
	effort    string // adaptive thinking's output_config.effort, "": none
	schema    bool   // output_config.format
}

// anthropicMinBudget is the least thinking budget Anthropic takes.
const anthropicMinBudget = 1024

// anthropicPlanRequest refuses what Anthropic cannot honour and works out
// max_tokens, the thinking and the output format.
func anthropicPlanRequest(r *Request, model string) (anthropicRequestPlan, error) {
	refuse := func(param, reason string) (anthropicRequestPlan, error) {
		return anthropicRequestPlan{}, &UnsupportedError{Param: param, Target: provider.FormatAnthropicMessages, Reason: reason}
	}
	if len(r.Unsupported) > 0 {
		return refuse(r.Unsupported[0], "")
	}
	p := anthropicRequestPlan{maxTokens: r.MaxTokens}
	if p.maxTokens <= 0 {
		p.maxTokens = DefaultMaxTokens
	}
	switch r.ResponseFormat {
	case "", "text":
	case "json_schema":
		if !jsonscan.IsObject(bytes.TrimSpace(r.ResponseSchema)) || !jsonscan.Valid(r.ResponseSchema) {
			return refuse("response_format", "a json_schema without a schema object")
		}
		p.schema = true
	case "json_object":
		return refuse("response_format", "Anthropic has no JSON mode without a schema (json_schema is translated)")
	default:
		return refuse("response_format", "unknown type "+strconv.Quote(r.ResponseFormat))
	}
	if t := r.Temperature; t != nil && (math.IsNaN(*t) || *t < 0 || *t > 1) {
		return refuse("temperature", "Anthropic takes 0 to 1")
	}
	if t := r.TopP; t != nil && (math.IsNaN(*t) || *t < 0 || *t > 1) {
		return refuse("top_p", "Anthropic takes 0 to 1")
	}
	if r.ToolChoice.Mode == ToolChoiceTool && r.ToolChoice.Name == "" {
		return refuse("tool_choice", "a forced tool without a name")
	}
	if why := r.unknownAllowed(); why != "" {
		return refuse("tool_choice", why)
	}
	if r.Reasoning.Disabled {
		return p, nil
	}
	effort, budget := r.Reasoning.Effort, r.Reasoning.BudgetTokens
	if effort == "" && budget <= 0 || anthropicUnsignedToolTurn(r.Messages) {
		return p, nil
	}
	if anthropicAdaptiveThinking(model) {
		if budget > 0 {
			effort = BudgetEffort(budget)
		}
		switch effort {
		case "minimal":
			effort = "low" // Anthropic's least
		case "low", "medium", "high", "xhigh", "max":
		default:
			return refuse("reasoning_effort", "unknown effort "+strconv.Quote(effort))
		}
		p.effort = effort
	} else {
		if budget <= 0 {
			var ok bool
			budget, ok = EffortBudget(effort)
			switch {
			case ok:
			case effort == "xhigh" || effort == "max":
				budget = 32768
			default:
				return refuse("reasoning_effort", "unknown effort "+strconv.Quote(effort))
			}
		}
		budget = max(budget, anthropicMinBudget)
		if p.maxTokens <= budget {
			p.maxTokens += budget
		}
		p.budget = budget
	}
	// Anthropic refuses these with thinking on.
	if t := r.Temperature; t != nil && *t != 1 {
		return refuse("temperature", "Anthropic takes no temperature other than 1 with thinking")
	}
	if t := r.TopP; t != nil && *t < 0.95 {
		return refuse("top_p", "Anthropic takes no top_p below 0.95 with thinking")
	}
	if r.TopK != nil {
		return refuse("top_k", "Anthropic takes no top_k with thinking")
	}
	if len(r.Tools) > 0 && (r.ToolChoice.Mode == ToolChoiceRequired || r.ToolChoice.Mode == ToolChoiceTool) {
		return refuse("tool_choice", "Anthropic cannot force a tool call with thinking")
	}
	return p, nil
}

// anthropicUnsignedToolTurn reports whether msgs end with tool results
// answering an assistant turn that does not start with thinking Anthropic
// signed (or redacted_thinking): with thinking on, Anthropic refuses such
// a request ("a final assistant message must start with a thinking
// block"), and a conversation carried on from another provider never has
// one.
func anthropicUnsignedToolTurn(msgs []Message) bool {
	i := len(msgs) - 1
	for i >= 0 && !anthropicHasBlocks(&msgs[i]) {
		i--
	}
	results := false
	for ; i >= 0 && (msgs[i].Role == RoleUser || !anthropicHasBlocks(&msgs[i])); i-- {
		for _, p := range msgs[i].Parts {
			results = results || p.Kind == PartToolResult
		}
	}
	if !results || i < 0 {
		return false
	}
	// msgs[i] is the last message of the assistant turn: find its first.
	for i > 0 && (msgs[i-1].Role == RoleAssistant || !anthropicHasBlocks(&msgs[i-1])) {
		i--
	}
	for ; i < len(msgs); i++ {
		for k := range msgs[i].Parts {
			if p := &msgs[i].Parts[k]; anthropicWritten(p) {
				return p.Kind != PartThinking
			}
		}
	}
	return false
}

// anthropicAdaptiveThinking reports whether model takes adaptive thinking
// (Claude 4.6 and later: 4.7 and later refuse budgets) rather than a
// budget (up to 4.5, which do not know adaptive). The version is the first
// number after "claude" in the name, and the number right after it, when
// it is not a date, its minor (claude-opus-4-6, claude-3-7-sonnet-20250219,
// anthropic.claude-sonnet-4-5-20250929-v1:0, claude-opus-4-1@20250805). A
// Claude with no version in its name is taken to be a recent one; a model
// that is not a Claude (another provider's Messages-compatible API) gets
// the budget, the form such APIs copied.
func anthropicAdaptiveThinking(model string) bool {
	s := strings.ToLower(model)
	i := strings.Index(s, "claude")
	if i < 0 {
		return false
	}
	s = s[i+len("claude"):]
	major, minor := -1, 0
	for s != "" {
		j := strings.IndexFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' })
		if j < 0 {
			break
		}
		s = s[j:]
		k := strings.IndexFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') })
		if k < 0 {
			k = len(s)
		}
		tok := s[:k]
		s = s[k:]
		n, err := strconv.Atoi(tok)
		if err != nil || len(tok) > 2 {
			if major >= 0 {
				break
			}
			continue
		}
		if major < 0 {
			major = n
			continue
		}
		minor = n
		break
	}
	if major < 0 {
		return true
	}
	return major > 4 || major == 4 && minor >= 6
}

// anthropicRequestSize guesses the encoded size of r, to allocate once.
func anthropicRequestSize(r *Request) int {
	n := 256 + len(r.ResponseSchema)
	for _, p := range r.System {
		n += len(p.Text) + 32
	}
	for _, m := range r.Messages {
		n += 32
		for _, p := range m.Parts {
			n += 64 + len(p.Text) + len(p.Data) + len(p.URL) + len(p.Arguments) + len(p.Signature) + len(p.Redacted) + len(p.ID) + len(p.Name)
		}
	}
	for _, t := range r.Tools {
		n += 64 + len(t.Name) + len(t.Description) + len(t.Parameters)
	}
	return n + n/8
}

// anthropicAppendSystem appends the system prompt: a string when it is one
// part, text blocks when several, nothing when none has text.
func anthropicAppendSystem(b []byte, system []Part) []byte {
	n := 0
	for _, p := range system {
		if p.Text != "" {
			n++
		}
	}
	if n == 0 {
		return b
	}
	b = append(b, `,"system":`...)
	if n == 1 {
		for _, p := range system {
			if p.Text != "" {
				return jsonscan.AppendQuoteNoHTML(b, p.Text)
			}
		}
	}
	b = append(b, '[')
	first := true
	for _, p := range system {
		if p.Text == "" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, `{"type":"text","text":`...)
		b = jsonscan.AppendQuoteNoHTML(b, p.Text)
		b = append(b, '}')
	}
	return append(b, ']')
}

// anthropicWritten reports whether part p becomes a block.
func anthropicWritten(p *Part) bool {
	switch p.Kind {
	case PartText:
		return p.Text != ""
	case PartThinking:
		// Only Anthropic's own signed thinking goes back to it: a Gemini
		// thought's signature (marked "gemini:" by its codec) would be
		// refused.
		return p.Signature != "" && !strings.HasPrefix(p.Signature, "gemini:") || p.Redacted != ""
	case PartImage, PartToolCall, PartToolResult:
		return true
	}
	return false
}

// anthropicHasBlocks reports whether m has any part that becomes a block.
func anthropicHasBlocks(m *Message) bool {
	for i := range m.Parts {
		if anthropicWritten(&m.Parts[i]) {
			return true
		}
	}
	return false
}

// anthropicAppendMessages appends the messages array: each run of
// consecutive non-empty messages of one role is one message, its tool
// results first.
func anthropicAppendMessages(b []byte, msgs []Message) ([]byte, error) {
	b = append(b, '[')
	first := true
	var err error
	for i := 0; i < len(msgs); {
		if !anthropicHasBlocks(&msgs[i]) {
			i++
			continue
		}
		role := msgs[i].Role
		j := i + 1
		for j < len(msgs) && (msgs[j].Role == role || !anthropicHasBlocks(&msgs[j])) {
			j++
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		if role == RoleAssistant {
			b = append(b, `{"role":"assistant","content":[`...)
		} else {
			b = append(b, `{"role":"user","content":[`...)
		}
		firstBlock := true
		// Tool results first: the API wants them at the head of the turn.
		for pass := 0; pass < 2; pass++ {
			for k := i; k < j; k++ {
				for pi := range msgs[k].Parts {
					p := &msgs[k].Parts[pi]
					if !anthropicWritten(p) || (p.Kind == PartToolResult) != (pass == 0) {
						continue
					}
					if !firstBlock {
						b = append(b, ',')
					}
					firstBlock = false
					if b, err = anthropicAppendBlock(b, p); err != nil {
						return nil, err
					}
				}
			}
		}
		b = append(b, "]}"...)
		i = j
	}
	return append(b, ']'), nil
}

// anthropicAppendBlock appends the content block of part p.
func anthropicAppendBlock(b []byte, p *Part) ([]byte, error) {
	switch p.Kind {
	case PartText:
		b = append(b, `{"type":"text","text":`...)
		b = jsonscan.AppendQuoteNoHTML(b, p.Text)
		return append(b, '}'), nil
	case PartImage:
		return anthropicAppendImage(b, p)
	case PartToolCall:
		b = append(b, `{"type":"tool_use","id":`...)
		b = anthropicAppendToolID(b, p.ID)
		b = append(b, `,"name":`...)
		b = jsonscan.AppendQuoteNoHTML(b, p.Name)
		b = append(b, `,"input":`...)
		args := bytes.TrimSpace([]byte(p.Arguments))
		switch {
		case len(args) == 0:
			b = append(b, "{}"...)
		case jsonscan.IsObject(args) && jsonscan.Valid(args):
			b = append(b, args...)
		default:
			return nil, &UnsupportedError{Param: "tool call arguments", Target: provider.FormatAnthropicMessages,
				Reason: "the arguments of call " + strconv.Quote(p.ID) + " are not a JSON object"}
		}
		return append(b, '}'), nil
	case PartToolResult:
		b = append(b, `{"type":"tool_result","tool_use_id":`...)
		b = anthropicAppendToolID(b, p.ID)
		if p.Text != "" {
			b = append(b, `,"content":`...)
			b = jsonscan.AppendQuoteNoHTML(b, p.Text)
		}
		if p.IsError {
			b = append(b, `,"is_error":true`...)
		}
		return append(b, '}'), nil
	case PartThinking:
		if p.Redacted != "" {
			b = append(b, `{"type":"redacted_thinking","data":`...)
			b = jsonscan.AppendQuoteNoHTML(b, p.Redacted)
			return append(b, '}'), nil
		}
		b = append(b, `{"type":"thinking","thinking":`...)
		b = jsonscan.AppendQuoteNoHTML(b, p.Text)
		b = append(b, `,"signature":`...)
		b = jsonscan.AppendQuoteNoHTML(b, p.Signature)
		return append(b, '}'), nil
	}
	return b, nil
}

// anthropicAppendToolID appends a tool call's id, each character Anthropic
// refuses in one (it takes [A-Za-z0-9_-]) made '_': the same id in the
// call and its result stays the same.
func anthropicAppendToolID(b []byte, id string) []byte {
	b = append(b, '"')
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			c = '_'
		}
		b = append(b, c)
	}
	return append(b, '"')
}

// anthropicAppendImage appends an image block: inline data as a base64
// source (a data URL is taken apart), any other URL as a url source.
func anthropicAppendImage(b []byte, p *Part) ([]byte, error) {
	mediaType, data := p.MediaType, p.Data
	if data == "" && strings.HasPrefix(p.URL, "data:") {
		meta, payload, ok := strings.Cut(p.URL[len("data:"):], ",")
		mt, isBase64 := strings.CutSuffix(meta, ";base64")
		if !ok || !isBase64 {
			return nil, &UnsupportedError{Param: "image_url", Target: provider.FormatAnthropicMessages,
				Reason: "a data URL that is not base64"}
		}
		mediaType, data = mt, payload
	}
	if data == "" {
		b = append(b, `{"type":"image","source":{"type":"url","url":`...)
		b = jsonscan.AppendQuoteNoHTML(b, p.URL)
		return append(b, "}}"...), nil
	}
	b = append(b, `{"type":"image","source":{"type":"base64","media_type":`...)
	b = jsonscan.AppendQuoteNoHTML(b, mediaType)
	b = append(b, `,"data":`...)
	b = jsonscan.AppendQuoteNoHTML(b, data)
	return append(b, "}}"...), nil
}

// anthropicAppendToolChoice appends tool_choice: from the mode, and
// disable_parallel_tool_use when parallel calls are off (on an auto choice
// when none was set; a "none" choice takes no flag).
func anthropicAppendToolChoice(b []byte, r *Request) []byte {
	mode := r.ToolChoice.Mode
	noParallel := r.ParallelToolCalls != nil && !*r.ParallelToolCalls
	if mode == ToolChoiceUnset {
		if !noParallel {
			return b
		}
		mode = ToolChoiceAuto
	}
	b = append(b, `,"tool_choice":{"type":`...)
	switch mode {
	case ToolChoiceNone:
		return append(b, `"none"}`...)
	case ToolChoiceRequired:
		b = append(b, `"any"`...)
	case ToolChoiceTool:
		b = append(b, `"tool","name":`...)
		b = jsonscan.AppendQuoteNoHTML(b, r.ToolChoice.Name)
	default:
		b = append(b, `"auto"`...)
	}
	if noParallel {
		b = append(b, `,"disable_parallel_tool_use":true`...)
	}
	return append(b, '}')
}

// anthropicUsageCounts are Anthropic's raw token counts: input_tokens
// excludes the cache reads and writes, which have their own counts.
type anthropicUsageCounts struct {
	input, output, cacheCreation, cacheRead, cache1h, thinking int64
}

// anthropicCount reads one token count; ok is false for anything that is
// not one (null, a non-number, a negative or impossible count).
func anthropicCount(v []byte) (int64, bool) {
	n, ok := jsonscan.Int(v)
	return n, ok && n >= 0 && n <= provider.MaxUsageTokens
}

// merge replaces the counts the usage object v holds (in a stream,
// message_delta's counts are cumulative and replace message_start's) and
// reports whether it held any.
func (u *anthropicUsageCounts) merge(v []byte) bool {
	if !jsonscan.IsObject(v) {
		return false
	}
	seen := false
	it := jsonscan.Members(v)
	for it.Next() {
		var dst *int64
		val := it.Value()
		switch string(it.Key()) {
		case "input_tokens":
			dst = &u.input
		case "output_tokens":
			dst = &u.output
		case "cache_creation_input_tokens":
			dst = &u.cacheCreation
		case "cache_read_input_tokens":
			dst = &u.cacheRead
		case "cache_creation":
			val, _ = jsonscan.Get(val, "ephemeral_1h_input_tokens")
			dst = &u.cache1h
		case "output_tokens_details":
			val, _ = jsonscan.Get(val, "thinking_tokens")
			dst = &u.thinking
		default:
			continue
		}
		if n, ok := anthropicCount(val); ok {
			*dst = n
			seen = true
		}
	}
	return seen
}

// usage is the normalised usage: the input includes the cache reads and
// writes.
func (u *anthropicUsageCounts) usage() provider.Usage {
	return provider.Usage{
		InputTokens:           u.input + u.cacheCreation + u.cacheRead,
		OutputTokens:          u.output,
		CacheReadTokens:       u.cacheRead,
		CacheCreationTokens:   u.cacheCreation,
		CacheCreation1hTokens: min(u.cache1h, u.cacheCreation),
		ReasoningTokens:       min(u.thinking, u.output),
	}
}

// anthropicAppendUsage appends a usage object from a normalised one: the
// input without the cache reads and writes, the cache writes split into
// their 5-minute and 1-hour parts. withCreation adds the cache_creation
// object (a Message's usage has it, message_delta's has not).
func anthropicAppendUsage(b []byte, u provider.Usage, output int64, withCreation bool) []byte {
	b = append(b, `{"input_tokens":`...)
	b = strconv.AppendInt(b, max(0, u.InputTokens-u.CacheReadTokens-u.CacheCreationTokens), 10)
	b = append(b, `,"cache_creation_input_tokens":`...)
	b = strconv.AppendInt(b, u.CacheCreationTokens, 10)
	b = append(b, `,"cache_read_input_tokens":`...)
	b = strconv.AppendInt(b, u.CacheReadTokens, 10)
	if withCreation {
		b = append(b, `,"cache_creation":{"ephemeral_5m_input_tokens":`...)
		b = strconv.AppendInt(b, max(0, u.CacheCreationTokens-u.CacheCreation1hTokens), 10)
		b = append(b, `,"ephemeral_1h_input_tokens":`...)
		b = strconv.AppendInt(b, u.CacheCreation1hTokens, 10)
		b = append(b, '}')
	}
	b = append(b, `,"output_tokens":`...)
	b = strconv.AppendInt(b, output, 10)
	return append(b, '}')
}

// anthropicFinish reads a stop_reason. pause_turn (a server tool's long
// turn, which the caller continues) ends the turn as far as other formats
// go; model_context_window_exceeded is a length limit.
func anthropicFinish(reason string) Finish {
	switch reason {
	case "end_turn", "stop_sequence", "pause_turn":
		return FinishStop
	case "max_tokens", "model_context_window_exceeded":
		return FinishLength
	case "tool_use":
		return FinishToolCalls
	case "refusal":
		return FinishContentFilter
	}
	return FinishUnknown
}

// anthropicStopReason writes f as a stop_reason: stop_sequence when the
// answer says which sequence ended it, end_turn for an unknown reason or a
// provider's failure (Anthropic has no stop reason for either).
func anthropicStopReason(f Finish, stopSequence string) string {
	switch f {
	case FinishStop:
		if stopSequence != "" {
			return "stop_sequence"
		}
	case FinishLength:
		return "max_tokens"
	case FinishToolCalls:
		return "tool_use"
	case FinishContentFilter:
		return "refusal"
	}
	return "end_turn"
}

// DecodeResponse reads a Message. Blocks other formats cannot carry
// (server tools' blocks, citations) are left out.
func (anthropicCodec) DecodeResponse(body []byte) (*Response, error) {
	if !jsonscan.IsObject(body[jsonscan.SkipSpace(body, 0):]) {
		return nil, errors.New("translate: an anthropic message is not a JSON object")
	}
	body = bytes.Clone(body) // the answer's strings are views of this copy
	r := &Response{}
	var content, usage, typ []byte
	it := jsonscan.Members(body)
	for it.Next() {
		v := it.Value()
		switch string(it.Key()) {
		case "type":
			typ = v
		case "id":
			r.ID, _ = anthropicString(v)
		case "model":
			r.Model, _ = anthropicString(v)
		case "content":
			content = v
		case "stop_reason":
			s, _ := anthropicString(v)
			r.Finish = anthropicFinish(s)
		case "stop_sequence":
			r.StopSequence, _ = anthropicString(v)
		case "usage":
			usage = v
		}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("translate: an anthropic message: %w", err)
	}
	if string(typ) != `"message"` {
		return nil, fmt.Errorf("translate: an anthropic answer of type %s is not a message", typ)
	}
	el := jsonscan.Elements(content)
	for el.Next() {
		m, err := anthropicReadBlock(el.Value())
		if err != nil {
			return nil, err
		}
		switch string(m.typ) {
		case `"text"`:
			p := Part{Kind: PartText}
			p.Text, _ = anthropicString(m.text)
			r.Parts = append(r.Parts, p)
		case `"thinking"`:
			p := Part{Kind: PartThinking}
			p.Text, _ = anthropicString(m.thinking)
			p.Signature, _ = anthropicString(m.signature)
			r.Parts = append(r.Parts, p)
		case `"redacted_thinking"`:
			p := Part{Kind: PartThinking}
			p.Redacted, _ = anthropicString(m.data)
			r.Parts = append(r.Parts, p)
		case `"tool_use"`:
			p := Part{Kind: PartToolCall, Arguments: "{}"}
			p.ID, _ = anthropicString(m.id)
			p.Name, _ = anthropicString(m.name)
			if len(m.input) > 0 && !jsonscan.IsNull(m.input) {
				p.Arguments = anthropicView(m.input)
			}
			r.Parts = append(r.Parts, p)
		}
	}
	if content != nil && el.Err() != nil {
		return nil, fmt.Errorf("translate: an anthropic message's content: %w", el.Err())
	}
	var u anthropicUsageCounts
	if u.merge(usage) {
		r.Usage, r.UsageKnown = u.usage(), true
	}
	return r, nil
}

// anthropicAppendMessageID appends a Message id: the source's when it is
// one of Anthropic's ("msg_..."), else "msg_" and the source's (a random
// one when it has none), as clients may expect the prefix.
func anthropicAppendMessageID(b []byte, id string) []byte {
	switch {
	case strings.HasPrefix(id, "msg_"):
	case id == "":
		const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		var r [24]byte
		for i := range r {
			r[i] = digits[rand.N(len(digits))]
		}
		b = append(b, `"msg_`...)
		b = append(b, r[:]...)
		return append(b, '"')
	default:
		id = "msg_" + id
	}
	return jsonscan.AppendQuoteNoHTML(b, id)
}

// EncodeResponse writes a Message. A tool call's arguments are its input
// as they are when they are JSON ({} when empty), and a JSON string of
// them when they are not (a model cut off mid-call): nothing is lost and
// the body stays JSON.
func (anthropicCodec) EncodeResponse(r *Response) ([]byte, error) {
	n := 384 + len(r.ID) + len(r.Model) + len(r.StopSequence)
	for i := range r.Parts {
		p := &r.Parts[i]
		n += 64 + len(p.Text) + len(p.Arguments) + len(p.Signature) + len(p.Redacted) + len(p.ID) + len(p.Name)
	}
	b := make([]byte, 0, n+n/8)
	b = append(b, `{"id":`...)
	b = anthropicAppendMessageID(b, r.ID)
	b = append(b, `,"type":"message","role":"assistant","model":`...)
	b = jsonscan.AppendQuoteNoHTML(b, r.Model)
	b = append(b, `,"content":[`...)
	first := true
	for i := range r.Parts {
		p := &r.Parts[i]
		start := len(b)
		if !first {
			b = append(b, ',')
		}
		switch p.Kind {
		case PartText:
			b = append(b, `{"type":"text","text":`...)
			b = jsonscan.AppendQuoteNoHTML(b, p.Text)
			b = append(b, '}')
		case PartThinking:
			switch {
			case p.Redacted != "":
				b = append(b, `{"type":"redacted_thinking","data":`...)
				b = jsonscan.AppendQuoteNoHTML(b, p.Redacted)
				b = append(b, '}')
			case p.Text != "" || p.Signature != "":
				b = append(b, `{"type":"thinking","thinking":`...)
				b = jsonscan.AppendQuoteNoHTML(b, p.Text)
				b = append(b, `,"signature":`...)
				b = jsonscan.AppendQuoteNoHTML(b, p.Signature)
				b = append(b, '}')
			default:
				b = b[:start]
				continue
			}
		case PartToolCall:
			b = append(b, `{"type":"tool_use","id":`...)
			b = jsonscan.AppendQuoteNoHTML(b, p.ID)
			b = append(b, `,"name":`...)
			b = jsonscan.AppendQuoteNoHTML(b, p.Name)
			b = append(b, `,"input":`...)
			b = anthropicAppendInput(b, p.Arguments)
			b = append(b, '}')
		default:
			b = b[:start]
			continue
		}
		first = false
	}
	b = append(b, `],"stop_reason":"`...)
	b = append(b, anthropicStopReason(r.Finish, r.StopSequence)...)
	b = append(b, `","stop_sequence":`...)
	if r.StopSequence != "" {
		b = jsonscan.AppendQuoteNoHTML(b, r.StopSequence)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"usage":`...)
	b = anthropicAppendUsage(b, r.Usage, r.Usage.OutputTokens, true)
	return append(b, '}'), nil
}

// anthropicAppendInput appends a tool call's arguments as a tool_use's
// input (see EncodeResponse).
func anthropicAppendInput(b []byte, args string) []byte {
	t := strings.TrimSpace(args)
	switch {
	case t == "":
		return append(b, "{}"...)
	case jsonscan.Valid([]byte(t)):
		return append(b, t...)
	}
	return jsonscan.AppendQuoteNoHTML(b, args)
}

// NewStreamDecoder returns a decoder of one Messages stream.
func (anthropicCodec) NewStreamDecoder() StreamDecoder { return &anthropicStreamDecoder{} }

// anthropicBlockKind is what a stream's content block holds.
type anthropicBlockKind uint8

const (
	anthropicBlockOther anthropicBlockKind = iota // a block other formats cannot carry (server tools' ...)
	anthropicBlockText
	anthropicBlockThinking
	anthropicBlockTool
)

// anthropicBlock is a content block the stream opened.
type anthropicBlock struct {
	kind anthropicBlockKind
	tool int  // anthropicBlockTool: the call's number within the answer
	args bool // anthropicBlockTool: some arguments came
}

// anthropicMaxBlocks bounds the content blocks of one streamed message:
// a block index beyond it is taken for a broken stream rather than grown
// into.
const anthropicMaxBlocks = 1 << 16

// anthropicStreamDecoder reads one Messages stream. It reads each event in
// place: the strings of the Events it emits point into the event's data or
// into its own buffer (for strings with escapes), valid until the next
// Decode, as the StreamDecoder contract allows.
type anthropicStreamDecoder struct {
	ev     Event
	usage  anthropicUsageCounts
	blocks []anthropicBlock
	tools  int    // tool calls started
	buf    []byte // this event's unescaped strings
}

// view returns b as a string without copying it: b is the event's data or
// the decoder's buffer, which no one writes to until the next Decode, and
// emit copies what it keeps.
func anthropicView(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// str returns the string value v without allocating when it has no
// escapes and is valid UTF-8 (nearly always), else unescaped into the
// decoder's buffer. ok is false when v is not a string.
func (d *anthropicStreamDecoder) str(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	body := v[1 : len(v)-1]
	if jsonscan.Plain(body) || bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return anthropicView(body), true
	}
	return d.unescaped(v)
}

// strictStr is str for a string value no one checked: ok is false when v
// is not one whole string (a quote inside it that is not escaped).
func (d *anthropicStreamDecoder) strictStr(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	body := v[1 : len(v)-1]
	if jsonscan.Plain(body) {
		return anthropicView(body), true
	}
	if bytes.IndexByte(body, '\\') < 0 {
		if bytes.IndexByte(body, '"') >= 0 {
			return "", false
		}
		if utf8.Valid(body) {
			return anthropicView(body), true
		}
	}
	return d.unescaped(v)
}

// unescaped decodes the string value v, which has escapes or invalid
// UTF-8, into the decoder's buffer.
func (d *anthropicStreamDecoder) unescaped(v []byte) (string, bool) {
	start := len(d.buf)
	buf, ok := anthropicUnescape(d.buf, v[1:len(v)-1])
	if !ok {
		// A \u escape, a bad one or a bare quote: jsonscan's decoding,
		// of one whole string only.
		if anthropicStringEnd(v, 0) != len(v) {
			return "", false
		}
		if buf, ok = jsonscan.AppendString(d.buf, v); !ok {
			return "", false
		}
	}
	d.buf = buf
	s := d.buf[start:]
	if !utf8.Valid(s) {
		// Invalid UTF-8 (rare): as an SDK reads it, each bad byte U+FFFD.
		fixed, _ := jsonscan.String(v)
		return string(fixed), true
	}
	return anthropicView(s), true
}

// anthropicUnescape appends the decoded body of a string to dst, its
// two-byte escapes (\" above all: streamed arguments are JSON inside a
// string) decoded in one pass; ok is false, dst unchanged, at a \u escape,
// a bad one or a quote that is not escaped.
func anthropicUnescape(dst, body []byte) ([]byte, bool) {
	start := len(dst)
	dst = slices.Grow(dst, len(body))
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '"' {
			return dst[:start], false
		}
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		if i+1 == len(body) {
			return dst[:start], false
		}
		i++
		switch body[i] {
		case '"', '\\', '/':
			dst = append(dst, body[i])
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		default:
			return dst[:start], false
		}
	}
	return dst, true
}

// emit sends d.ev.
func (d *anthropicStreamDecoder) emit(emit func(*Event), e Event) {
	d.ev = e
	emit(&d.ev)
}

// errAnthropicEvent is the error of an event that is not one of the
// format's.
var errAnthropicEvent = errors.New("translate: not an anthropic messages stream event")

// Decode reads one stream event (see StreamDecoder). Its type is the
// data's "type" (the event name repeats it). An event type it does not
// know is passed over, as Anthropic's versioning asks of clients; data
// that is not a JSON object with a type is an error.
func (d *anthropicStreamDecoder) Decode(_, data []byte, emit func(*Event)) error {
	d.buf = d.buf[:0]
	if d.fastDelta(data, emit) {
		return nil
	}
	var typ, index, message, block, delta, usage, errv []byte
	it := jsonscan.Members(data)
	for it.Next() {
		v := it.Value()
		switch string(it.Key()) {
		case "type":
			typ = v
		case "index":
			index = v
		case "message":
			message = v
		case "content_block":
			block = v
		case "delta":
			delta = v
		case "usage":
			usage = v
		case "error":
			errv = v
		}
	}
	if it.Err() != nil || typ == nil {
		return errAnthropicEvent
	}
	switch string(typ) {
	case `"message_start"`:
		return d.messageStart(message, emit)
	case `"content_block_start"`:
		return d.blockStart(index, block, emit)
	case `"content_block_delta"`:
		return d.blockDelta(index, delta, emit)
	case `"content_block_stop"`:
		b, err := d.block(index)
		if err != nil {
			return err
		}
		if b.kind == anthropicBlockTool && !b.args {
			// A call without arguments streams none: other formats
			// expect an object.
			b.args = true
			d.emit(emit, Event{Kind: EventToolArgs, Tool: b.tool, Text: "{}"})
		}
	case `"message_delta"`:
		if jsonscan.IsObject(delta) {
			var reason, seq []byte
			di := jsonscan.Members(delta)
			for di.Next() {
				switch string(di.Key()) {
				case "stop_reason":
					reason = di.Value()
				case "stop_sequence":
					seq = di.Value()
				}
			}
			if r, ok := d.str(reason); ok {
				s, _ := d.str(seq)
				d.emit(emit, Event{Kind: EventFinish, Finish: anthropicFinish(r), StopSequence: s})
			}
		}
		if d.usage.merge(usage) {
			d.emit(emit, Event{Kind: EventUsage, Usage: d.usage.usage()})
		}
	case `"message_stop"`:
		d.emit(emit, Event{Kind: EventDone})
	case `"error"`:
		e := &provider.Error{}
		if t, ok := jsonscan.Get(errv, "type"); ok {
			s, _ := jsonscan.String(t)
			e.Type = string(s)
		}
		if m, ok := jsonscan.Get(errv, "message"); ok {
			s, _ := jsonscan.String(m)
			e.Message = string(s)
		}
		d.emit(emit, Event{Kind: EventError, Err: e})
	default:
		if typ[0] != '"' {
			return errAnthropicEvent
		}
		// ping, and event types added after this was written.
	}
	return nil
}

// messageStart reads message_start: the id, the model and the input
// counts so far.
func (d *anthropicStreamDecoder) messageStart(message []byte, emit func(*Event)) error {
	if !jsonscan.IsObject(message) {
		return errAnthropicEvent
	}
	e := Event{Kind: EventStart}
	d.usage = anthropicUsageCounts{}
	it := jsonscan.Members(message)
	for it.Next() {
		switch v := it.Value(); string(it.Key()) {
		case "id":
			e.ID, _ = d.str(v)
		case "model":
			e.Model, _ = d.str(v)
		case "usage":
			d.usage.merge(v)
		}
	}
	e.Usage = d.usage.usage()
	d.emit(emit, e)
	return nil
}

// block returns the block the event's index names.
func (d *anthropicStreamDecoder) block(index []byte) (*anthropicBlock, error) {
	i, ok := jsonscan.Int(index)
	if !ok || i < 0 || i >= int64(len(d.blocks)) {
		return nil, fmt.Errorf("translate: an anthropic stream event for content block %s, which did not start", index)
	}
	return &d.blocks[i], nil
}

// blockStart reads content_block_start: a tool call starts; a text or
// thinking block's first text (usually empty) is emitted.
func (d *anthropicStreamDecoder) blockStart(index, cb []byte, emit func(*Event)) error {
	i, ok := jsonscan.Int(index)
	if !ok || i < 0 || i >= anthropicMaxBlocks || !jsonscan.IsObject(cb) {
		return errAnthropicEvent
	}
	for int64(len(d.blocks)) <= i {
		d.blocks = append(d.blocks, anthropicBlock{})
	}
	var typ, text, thinking, signature, data, id, name, input []byte
	it := jsonscan.Members(cb)
	for it.Next() {
		v := it.Value()
		switch string(it.Key()) {
		case "type":
			typ = v
		case "text":
			text = v
		case "thinking":
			thinking = v
		case "signature":
			signature = v
		case "data":
			data = v
		case "id":
			id = v
		case "name":
			name = v
		case "input":
			input = v
		}
	}
	b := &d.blocks[i]
	*b = anthropicBlock{}
	switch string(typ) {
	case `"text"`:
		b.kind = anthropicBlockText
		if s, _ := d.str(text); s != "" {
			d.emit(emit, Event{Kind: EventText, Text: s})
		}
	case `"thinking"`:
		b.kind = anthropicBlockThinking
		t, _ := d.str(thinking)
		sig, _ := d.str(signature)
		if t != "" || sig != "" {
			d.emit(emit, Event{Kind: EventThinking, Text: t, Signature: sig})
		}
	case `"redacted_thinking"`:
		// Whole in its start, with no deltas: it goes back to Anthropic
		// in the next turn as it came.
		if r, _ := d.str(data); r != "" {
			d.emit(emit, Event{Kind: EventThinking, Redacted: r})
		}
	case `"tool_use"`:
		*b = anthropicBlock{kind: anthropicBlockTool, tool: d.tools}
		d.tools++
		e := Event{Kind: EventToolStart, Tool: b.tool}
		e.ID, _ = d.str(id)
		e.Name, _ = d.str(name)
		d.emit(emit, e)
		// Anthropic starts a call with input {} and streams the
		// arguments; a proxy may send them whole here instead.
		if in := bytes.TrimSpace(input); len(in) > 0 && !jsonscan.IsNull(in) && !anthropicEmptyObject(in) {
			b.args = true
			d.emit(emit, Event{Kind: EventToolArgs, Tool: b.tool, Text: anthropicView(in)})
		}
	}
	return nil
}

// anthropicEmptyObject reports whether v is {} (with any spacing).
func anthropicEmptyObject(v []byte) bool {
	return len(v) >= 2 && v[0] == '{' && len(bytes.TrimSpace(v[1:len(v)-1])) == 0 && v[len(v)-1] == '}'
}

// blockDelta reads content_block_delta.
func (d *anthropicStreamDecoder) blockDelta(index, delta []byte, emit func(*Event)) error {
	b, err := d.block(index)
	if err != nil {
		return err
	}
	var typ, val []byte
	it := jsonscan.Members(delta)
	for it.Next() {
		switch string(it.Key()) {
		case "type":
			typ = it.Value()
		case "text", "thinking", "signature", "partial_json":
			val = it.Value()
		}
	}
	if it.Err() != nil {
		return errAnthropicEvent
	}
	s, _ := d.str(val)
	var kind anthropicDeltaKind
	switch string(typ) {
	case `"text_delta"`:
		kind = anthropicTextDelta
	case `"thinking_delta"`:
		kind = anthropicThinkingDelta
	case `"signature_delta"`:
		kind = anthropicSignatureDelta
	case `"input_json_delta"`:
		kind = anthropicInputDelta
	}
	d.delta(b, kind, s, emit)
	return nil
}

// anthropicDeltaKind is a content_block_delta's type.
type anthropicDeltaKind uint8

const (
	anthropicOtherDelta anthropicDeltaKind = iota // citations_delta, and types added later
	anthropicTextDelta
	anthropicThinkingDelta
	anthropicSignatureDelta
	anthropicInputDelta
)

// delta emits what a content_block_delta of kind says to block b, its
// text (or arguments, or signature) s. Deltas other formats cannot carry
// are passed over.
func (d *anthropicStreamDecoder) delta(b *anthropicBlock, kind anthropicDeltaKind, s string, emit func(*Event)) {
	if s == "" {
		return
	}
	switch kind {
	case anthropicTextDelta:
		d.emit(emit, Event{Kind: EventText, Text: s})
	case anthropicThinkingDelta:
		d.emit(emit, Event{Kind: EventThinking, Text: s})
	case anthropicSignatureDelta:
		d.emit(emit, Event{Kind: EventThinking, Signature: s})
	case anthropicInputDelta:
		if b.kind == anthropicBlockTool {
			b.args = true
			d.emit(emit, Event{Kind: EventToolArgs, Tool: b.tool, Text: s})
		}
	}
}

// anthropicDeltaHeads are the beginnings of the compact deltas Anthropic
// streams, up to their text, by kind.
var anthropicDeltaHeads = [...]struct {
	head string
	kind anthropicDeltaKind
}{
	{`text_delta","text":"`, anthropicTextDelta},
	{`input_json_delta","partial_json":"`, anthropicInputDelta},
	{`thinking_delta","thinking":"`, anthropicThinkingDelta},
	{`signature_delta","signature":"`, anthropicSignatureDelta},
}

// fastDelta reads a content_block_delta spelt exactly as Anthropic spells
// it ({"type":"content_block_delta","index":N,"delta":{"type":"...",
// "text":"..."}}, compact, in that order), most of a stream's events, by
// comparing its fixed parts rather than scanning it as JSON; ok is false
// for anything else, which the general reading then reads.
func (d *anthropicStreamDecoder) fastDelta(data []byte, emit func(*Event)) (ok bool) {
	const head, deltaHead = `{"type":"content_block_delta","index":`, `,"delta":{"type":"`
	if len(data) < len(head) || string(data[:len(head)]) != head {
		return false
	}
	i, n := len(head), 0
	for ; i < len(data) && i < len(head)+5 && data[i] >= '0' && data[i] <= '9'; i++ {
		n = n*10 + int(data[i]-'0')
	}
	if i == len(head) || n >= len(d.blocks) || data[len(head)] == '0' && i > len(head)+1 {
		return false
	}
	rest := data[i:]
	if len(rest) < len(deltaHead) || string(rest[:len(deltaHead)]) != deltaHead {
		return false
	}
	rest = rest[len(deltaHead):]
	for _, h := range anthropicDeltaHeads {
		if len(rest) < len(h.head) || string(rest[:len(h.head)]) != h.head {
			continue
		}
		// The text is a string ending right before the closing "}}":
		// its body holds no quote that is not escaped.
		v := rest[len(h.head)-1:]
		if len(v) < 4 || string(v[len(v)-3:]) != `"}}` {
			return false
		}
		s, valid := d.strictStr(v[:len(v)-2])
		if !valid {
			return false
		}
		d.delta(&d.blocks[n], h.kind, s, emit)
		return true
	}
	return false
}

// NewStreamEncoder returns an encoder of one Messages stream for the
// caller (a Messages stream carries its usage whatever the request).
func (anthropicCodec) NewStreamEncoder(*Request) StreamEncoder {
	return &anthropicStreamEncoder{}
}

// anthropicJSONEnd follows the bytes of a tool call's arguments as they
// stream, to tell when they form a whole JSON object or array, without
// keeping them.
type anthropicJSONEnd struct {
	depth                   int32
	str, esc, started, done bool
}

// feed follows p, the next piece of the arguments.
func (s *anthropicJSONEnd) feed(p string) {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !anthropicJSONMark[c] && !s.esc {
			if s.str || !s.done {
				continue // a plain byte, within a string or between tokens
			}
		}
		switch {
		case s.str:
			switch {
			case s.esc:
				s.esc = false
			case c == '\\':
				s.esc = true
			case c == '"':
				s.str = false
			}
		case c == '"':
			s.str = true
		case c == '{' || c == '[':
			s.depth++
			s.started = true
			s.done = false
		case c == '}' || c == ']':
			s.depth--
			s.done = s.started && s.depth == 0
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			if s.done {
				s.done = false // more than one value: not a whole one
			}
		}
	}
}

// anthropicJSONMark marks the bytes anthropicJSONEnd must look at: quotes,
// backslashes, brackets and braces.
var anthropicJSONMark = [256]bool{'"': true, '\\': true, '{': true, '}': true, '[': true, ']': true}

// anthropicTool is a tool call the encoder opened a block for.
type anthropicTool struct {
	index   int
	started bool
	open    bool
	end     anthropicJSONEnd
}

// anthropicOpen is a content block the encoder has open: tool is the
// call's number, -1 for the text or thinking block.
type anthropicOpen struct{ index, tool int }

// anthropicStreamEncoder writes one Messages stream for the caller.
//
// Blocks open and close as the answer switches between text, thinking and
// tool calls, each switch a new index, as Anthropic streams them. A tool
// call's block stays open while its arguments are not yet a whole JSON
// value: when a source streams the arguments of several calls
// interleaved, each goes to its own block by the call's number (blocks
// then overlap, as Anthropic's SDKs accept: they address deltas and stops
// by index) and nothing is held back; when calls come one after another,
// as OpenAI sends them, each block closes before the next opens.
// Arguments arriving for a call whose block was closed (more after a whole
// value) still go to its index rather than being lost.
//
// message_delta, which carries the stop reason and the usage, waits for
// the usage after the finish (OpenAI sends it in a chunk of its own) or
// for the stream's end, so that it carries the cumulative counts, the
// input's included.
type anthropicStreamEncoder struct {
	started   bool // message_start written
	finished  bool // EventFinish seen
	deltaSent bool // message_delta written
	over      bool // message_stop or an error written: nothing more

	usage   provider.Usage
	finish  Finish
	stopSeq string

	next    int // the next block's index
	cur     int // the open text or thinking block's index, when curKind is set
	curKind anthropicBlockKind
	open    []anthropicOpen // open blocks, by index
	tools   []anthropicTool // by call number
}

// Encode appends the events that say e (see StreamEncoder).
func (s *anthropicStreamEncoder) Encode(dst []byte, e *Event) []byte {
	if s.over {
		return dst
	}
	switch e.Kind {
	case EventStart:
		if !s.started {
			s.usage = e.Usage
			dst = s.start(dst, e.ID, e.Model)
		}
	case EventText:
		if e.Text == "" || s.deltaSent {
			return dst
		}
		dst = s.startBlock(dst, anthropicBlockText)
		dst = s.delta(dst, s.cur, `{"type":"text_delta","text":`, e.Text)
	case EventThinking:
		if e.Redacted != "" && !s.deltaSent {
			dst = s.redacted(dst, e.Redacted)
		}
		if e.Text == "" && e.Signature == "" || s.deltaSent {
			return dst
		}
		dst = s.startBlock(dst, anthropicBlockThinking)
		if e.Text != "" {
			dst = s.delta(dst, s.cur, `{"type":"thinking_delta","thinking":`, e.Text)
		}
		if e.Signature != "" {
			dst = s.delta(dst, s.cur, `{"type":"signature_delta","signature":`, e.Signature)
		}
	case EventToolStart:
		if s.deltaSent || e.Tool < 0 || e.Tool >= anthropicMaxBlocks {
			return dst
		}
		if e.Tool < len(s.tools) && s.tools[e.Tool].started {
			return dst
		}
		dst = s.startTool(dst, e.Tool, e.ID, e.Name)
	case EventToolArgs:
		if e.Text == "" || s.deltaSent || e.Tool < 0 || e.Tool >= anthropicMaxBlocks {
			return dst
		}
		if e.Tool >= len(s.tools) || !s.tools[e.Tool].started {
			// Arguments of a call that never started (a source's
			// bug): a block without id or name rather than lost.
			dst = s.startTool(dst, e.Tool, "", "")
		}
		t := &s.tools[e.Tool]
		if !t.open && strings.TrimSpace(e.Text) == "" {
			return dst
		}
		t.end.feed(e.Text)
		dst = s.delta(dst, t.index, `{"type":"input_json_delta","partial_json":`, e.Text)
	case EventFinish:
		if !s.finished {
			s.finished = true
			s.finish, s.stopSeq = e.Finish, strings.Clone(e.StopSequence)
		}
		dst = s.ensureStart(dst)
		dst = s.closeAll(dst)
	case EventUsage:
		s.usage = e.Usage
		if s.finished && !s.deltaSent {
			dst = s.messageDelta(dst)
		}
	case EventError:
		dst = anthropicAppendErrorEvent(dst, e.Err)
		s.over = true
	case EventDone:
		if !s.deltaSent {
			dst = s.messageDelta(dst)
		}
		dst = append(dst, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"...)
		s.over = true
	}
	return dst
}

// start writes message_start: the usage known so far (the input, when the
// source says it first), and output_tokens 1, as Anthropic does.
func (s *anthropicStreamEncoder) start(dst []byte, id, model string) []byte {
	s.started = true
	dst = append(dst, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"...)
	dst = anthropicAppendMessageID(dst, id)
	dst = append(dst, `,"type":"message","role":"assistant","model":`...)
	dst = jsonscan.AppendQuoteNoHTML(dst, model)
	dst = append(dst, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":`...)
	dst = anthropicAppendUsage(dst, s.usage, 1, true)
	return append(dst, "}}\n\n"...)
}

// ensureStart writes message_start if the source has not begun with one.
func (s *anthropicStreamEncoder) ensureStart(dst []byte) []byte {
	if s.started {
		return dst
	}
	return s.start(dst, "", "")
}

// startBlock makes a block of kind (text or thinking) the open one,
// closing the other and the tool calls whose arguments are whole.
func (s *anthropicStreamEncoder) startBlock(dst []byte, kind anthropicBlockKind) []byte {
	dst = s.ensureStart(dst)
	if s.curKind == kind {
		return dst
	}
	dst = s.closeDone(dst)
	s.cur, s.curKind = s.next, kind
	s.open = append(s.open, anthropicOpen{index: s.next, tool: -1})
	s.next++
	dst = s.blockEvent(dst, "content_block_start", s.cur)
	if kind == anthropicBlockText {
		dst = append(dst, `,"content_block":{"type":"text","text":""}}`...)
	} else {
		dst = append(dst, `,"content_block":{"type":"thinking","thinking":"","signature":""}}`...)
	}
	return append(dst, "\n\n"...)
}

// redacted writes a redacted_thinking block whole, as Anthropic streams
// it: its start holds the data, and it stops at once.
func (s *anthropicStreamEncoder) redacted(dst []byte, data string) []byte {
	dst = s.ensureStart(dst)
	dst = s.closeDone(dst)
	dst = s.blockEvent(dst, "content_block_start", s.next)
	dst = append(dst, `,"content_block":{"type":"redacted_thinking","data":`...)
	dst = jsonscan.AppendQuoteNoHTML(dst, data)
	dst = append(dst, "}}\n\n"...)
	dst = s.blockEvent(dst, "content_block_stop", s.next)
	s.next++
	return append(dst, "}\n\n"...)
}

// startTool opens the block of call number n.
func (s *anthropicStreamEncoder) startTool(dst []byte, n int, id, name string) []byte {
	dst = s.ensureStart(dst)
	dst = s.closeDone(dst)
	for len(s.tools) <= n {
		s.tools = append(s.tools, anthropicTool{})
	}
	s.tools[n] = anthropicTool{index: s.next, started: true, open: true}
	s.open = append(s.open, anthropicOpen{index: s.next, tool: n})
	dst = s.blockEvent(dst, "content_block_start", s.next)
	s.next++
	dst = append(dst, `,"content_block":{"type":"tool_use","id":`...)
	dst = jsonscan.AppendQuoteNoHTML(dst, id)
	dst = append(dst, `,"name":`...)
	dst = jsonscan.AppendQuoteNoHTML(dst, name)
	return append(dst, ",\"input\":{}}}\n\n"...)
}

// closeDone closes the text or thinking block and the tool calls whose
// arguments are whole, in index order: before a new block opens.
func (s *anthropicStreamEncoder) closeDone(dst []byte) []byte {
	return s.close(dst, false)
}

// closeAll closes every open block, in index order.
func (s *anthropicStreamEncoder) closeAll(dst []byte) []byte {
	return s.close(dst, true)
}

func (s *anthropicStreamEncoder) close(dst []byte, all bool) []byte {
	kept := s.open[:0]
	for _, o := range s.open {
		if o.tool >= 0 && !all && !s.tools[o.tool].end.done {
			kept = append(kept, o)
			continue
		}
		if o.tool >= 0 {
			s.tools[o.tool].open = false
		}
		dst = s.blockEvent(dst, "content_block_stop", o.index)
		dst = append(dst, "}\n\n"...)
	}
	s.open = kept
	s.curKind = anthropicBlockOther
	return dst
}

// blockEvent appends the head of a block event, up to its index.
func (s *anthropicStreamEncoder) blockEvent(dst []byte, name string, index int) []byte {
	dst = append(dst, "event: "...)
	dst = append(dst, name...)
	dst = append(dst, "\ndata: {\"type\":\""...)
	dst = append(dst, name...)
	dst = append(dst, `","index":`...)
	return strconv.AppendInt(dst, int64(index), 10)
}

// delta appends a content_block_delta: head is the delta object up to its
// text, text the text.
func (s *anthropicStreamEncoder) delta(dst []byte, index int, head, text string) []byte {
	dst = s.blockEvent(dst, "content_block_delta", index)
	dst = append(dst, `,"delta":`...)
	dst = append(dst, head...)
	dst = jsonscan.AppendQuoteNoHTML(dst, text)
	return append(dst, "}}\n\n"...)
}

// messageDelta closes what is open and writes message_delta: the stop
// reason and the cumulative usage.
func (s *anthropicStreamEncoder) messageDelta(dst []byte) []byte {
	dst = s.ensureStart(dst)
	dst = s.closeAll(dst)
	s.deltaSent = true
	dst = append(dst, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\""...)
	dst = append(dst, anthropicStopReason(s.finish, s.stopSeq)...)
	dst = append(dst, `","stop_sequence":`...)
	if s.stopSeq != "" {
		dst = jsonscan.AppendQuoteNoHTML(dst, s.stopSeq)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `},"usage":`...)
	dst = anthropicAppendUsage(dst, s.usage, s.usage.OutputTokens, false)
	return append(dst, "}\n\n"...)
}

// anthropicAppendErrorEvent appends an error event.
func anthropicAppendErrorEvent(dst []byte, e *provider.Error) []byte {
	if e == nil {
		e = &provider.Error{}
	}
	dst = append(dst, "event: error\ndata: "...)
	dst = anthropicAppendError(dst, e)
	return append(dst, "\n\n"...)
}

// EncodeError writes an error body as Anthropic's:
// {"type":"error","error":{"type","message"}}, with the provider's code in
// error.details.error_code (as the stack's own Anthropic errors carry it).
// The type is e's when it is one of Anthropic's (other than
// invalid_request_error, which OpenAI also uses for 401 and 404), else
// billing_error when the code or type says the account is out of quota or
// money (OpenAI's insufficient_quota), else the status's (400
// invalid_request_error, 401 authentication_error, 402 billing_error, 403
// permission_error, 404 not_found_error, 408 and 504 timeout_error, 413
// request_too_large, 429 rate_limit_error, 503 and 529 overloaded_error,
// other 5xx api_error, other 4xx invalid_request_error), else, mid-stream,
// the type's meaning in the other formats (OpenAI's rate_limit_exceeded
// and server_error, Gemini's RESOURCE_EXHAUSTED, UNAVAILABLE, INTERNAL
// ...), else api_error.
func (anthropicCodec) EncodeError(e *provider.Error) []byte {
	return anthropicAppendError(make([]byte, 0, 96+len(e.Message)+len(e.Code)), e)
}

func anthropicAppendError(dst []byte, e *provider.Error) []byte {
	dst = append(dst, `{"type":"error","error":{"type":"`...)
	dst = append(dst, anthropicErrorType(e)...)
	dst = append(dst, `","message":`...)
	msg := e.Message
	if msg == "" {
		switch {
		case e.Status == 529:
			msg = "Overloaded"
		case e.Status > 0 && http.StatusText(e.Status) != "":
			msg = http.StatusText(e.Status)
		default:
			msg = "Internal server error"
		}
	}
	dst = jsonscan.AppendQuoteNoHTML(dst, msg)
	if e.Code != "" {
		dst = append(dst, `,"details":{"error_code":`...)
		dst = jsonscan.AppendQuoteNoHTML(dst, e.Code)
		dst = append(dst, '}')
	}
	return append(dst, "}}"...)
}

// anthropicErrorType is the Anthropic error type of e (see EncodeError).
func anthropicErrorType(e *provider.Error) string {
	switch e.Type {
	case "authentication_error", "billing_error", "permission_error", "not_found_error",
		"request_too_large", "rate_limit_error", "api_error", "timeout_error", "overloaded_error":
		return e.Type
	}
	for _, s := range [...]string{e.Code, e.Type} {
		switch s {
		case "insufficient_quota", "billing_error", "billing_hard_limit_reached", "enforced_spend_limit_reached":
			return "billing_error"
		}
	}
	switch e.Status {
	case 400:
		return "invalid_request_error"
	case 401:
		return "authentication_error"
	case 402:
		return "billing_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 408, 504:
		return "timeout_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 503, 529:
		return "overloaded_error"
	}
	switch {
	case e.Status >= 500:
		return "api_error"
	case e.Status >= 400:
		return "invalid_request_error"
	}
	for _, s := range [...]string{e.Type, e.Code} {
		switch s {
		case "invalid_request_error", "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE", "context_length_exceeded":
			return "invalid_request_error"
		case "UNAUTHENTICATED", "invalid_api_key":
			return "authentication_error"
		case "request_forbidden", "PERMISSION_DENIED":
			return "permission_error"
		case "NOT_FOUND", "model_not_found":
			return "not_found_error"
		case "rate_limit_exceeded", "requests", "tokens", "RESOURCE_EXHAUSTED":
			return "rate_limit_error"
		case "UNAVAILABLE", "server_overloaded", "overloaded":
			return "overloaded_error"
		case "DEADLINE_EXCEEDED", "timeout":
			return "timeout_error"
		}
	}
	return "api_error"
}
