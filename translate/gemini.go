package translate

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
	"github.com/aigateway-go/aigateway/provider"
)

// geminiCodec is the Codec of Gemini's generateContent and
// streamGenerateContent (with alt=sse). The model and the stream flag are
// in the path: DecodeRequest takes them from RequestMeta, EncodeRequest
// writes the body only.
//
// Reading a request, what no other format can honour is named in
// Request.Unsupported: cachedContent, tools other than functions
// (googleSearch, codeExecution, urlContext ...), candidateCount > 1,
// responseLogprobs and logprobs, a non-zero presencePenalty or
// frequencyPenalty, seed, output modalities other than text, speech and
// image settings, a responseMimeType other than JSON or plain text, parts
// other than text, images, function calls and their responses (files by
// URI are readable by Google only, unless an image's fileUri is a public
// http(s) URL), and a field this codec does not know. Dropped because they
// do not change what a caller may be answered with, or cannot matter
// elsewhere: safetySettings (the target applies its own policy),
// mediaResolution, labels, serviceTier, the function calling mode's
// streamFunctionCallArguments, toolConfig.retrievalConfig, and a function's
// response schema. Google's JSON parser takes a field by its proto name as
// well ("system_instruction"), and so does this codec.
//
// Gemini's function calls usually carry no id. A request's call without
// one gets "call_" and a hash of its position (the index of its content
// and of its part) and name: the same history sent again gets the same
// ids. Each functionResponse answers the earliest call still unanswered
// with its id, else with its name, as Gemini pairs them. An answer's call
// without one gets a hash of the answer's responseId, the call's number in
// the answer, its name and its arguments: reading the same answer twice
// (a replay from a cache) gives the same ids. Writing Gemini, ids are not
// sent: some Gemini endpoints refuse an id in a functionCall or
// functionResponse ("Unknown name \"id\""), and Gemini pairs a response
// with its call by name and order.
//
// A functionResponse's response is an object: a result that is a JSON
// object is sent as it is, anything else as {"output": result}, an error
// as {"error": result} (the keys the API reference names); reading one,
// {"output": text}, {"result": text} (the genai SDKs' own) and
// {"error": text} give the text back.
//
// Tool parameters and response schemas are written as
// parametersJsonSchema and responseJsonSchema, which take JSON Schema as
// it is (only a root "$schema", which Gemini refuses, is left out): the
// older parameters and responseSchema take an OpenAPI subset that refuses
// most of JSON Schema (additionalProperties, const, a list of types ...).
// Read in that subset, they are rewritten as JSON Schema (lower-case
// types, nullable as a "null" type, propertyOrdering left out).
//
// Thought signatures carry their provider. Gemini's are kept in
// Part.Signature behind "gemini:" (geminiSignaturePrefix); another
// provider's, written for a Gemini caller, go behind geminiForeignMarker
// and come back as they were. So a signature that went out to a caller of
// another format and came back goes to Gemini again, another provider's
// (an Anthropic thinking block's) never does, as Gemini refuses one it did
// not make, and one a Gemini caller got from another provider goes back to
// that provider unchanged. Gemini 3 refuses a history whose model turns
// call functions without a signature: a turn that has none on its first
// call gets Google's documented "skip_thought_signature_validator" there.
//
// Strict tools: Gemini's function declarations have no strict flag; its
// function calling mode VALIDATED constrains calls to their schemas
// (constrained decoding) while leaving the model free to answer in text,
// for every tool of the request. A request with a strict tool and tool
// choice auto (or none set) is written with VALIDATED; with a forced call
// (required, or one tool) that may go to it it is refused naming
// "strict", as ANY is not documented to constrain the arguments and no
// mode does both (a strict tool outside the allowed subset, or other than
// the one forced, cannot be called: ANY loses nothing); with tool choice
// none no call is made and the flag does not matter. Reading,
// VALIDATED makes every tool strict.
//
// A subset of the tools (allowedFunctionNames, which Gemini takes with ANY
// and VALIDATED) is ToolChoice.Allowed: ANY with several names is
// required over them (with one, that tool: ToolChoiceTool), VALIDATED
// with names is auto over them, every tool strict as VALIDATED makes it;
// an empty list names no subset. Writing, a required subset is ANY with
// the names; an auto subset is VALIDATED with the names, the one mode that
// takes a subset and leaves the model free to answer in text: every
// declaration is still sent (the prompt is the one the caller asked for,
// as OpenAI's allowed_tools means it to be), at the price of constrained
// calls for tools that did not ask for strict — arguments that match
// their schemas, which a caller of a non-strict tool asked the model to
// follow anyway. A subset naming a tool the request does not define is
// refused, naming tool_choice.
//
// A response schema is always enforced (structured output): read as
// strict, and a json_schema that asks for strict needs nothing more;
// OpenAI's json_schema name and description have no place and are
// dropped (the schema still holds).
//
// Reasoning is written as thinkingConfig.thinkingBudget (an effort through
// EffortBudget; Disabled as 0), which every thinking Gemini model takes
// (Gemini 3 maps it to its thinking levels); includeThoughts when the
// request asks for thoughts. A request's user is dropped (Gemini has no
// such field, and it changes no answer). parallel_tool_calls false is
// refused when the request offers tools: Gemini has no such switch and may
// answer with several calls.
type geminiCodec struct{}

// Format returns provider.FormatGemini.
func (geminiCodec) Format() provider.Format { return provider.FormatGemini }

// geminiSignaturePrefix marks a thought signature Gemini made, in
// Part.Signature and Event.Signature: the Gemini encoders send back only
// those, without the prefix.
const geminiSignaturePrefix = "gemini:"

// geminiSkipSignature is the signature Google documents for a function
// call Gemini did not make (a history from another model), which Gemini 3
// would otherwise refuse.
const geminiSkipSignature = "skip_thought_signature_validator"

var errGeminiFormat = errors.New("translate: not Gemini's generateContent format")

func geminiBad(what string) error { return fmt.Errorf("%w: %s", errGeminiFormat, what) }

// geminiView returns b as a string without copying it, for the fields of
// an emitted Event: they live until emit returns (emit copies what it
// keeps), and b is not written to before then.
func geminiView(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// geminiKeyBuf holds a key rewritten by geminiKey.
type geminiKeyBuf [64]byte

// geminiKey returns the member name k in lowerCamelCase: Google's JSON
// parser takes a field by its proto name too ("inline_data" for
// inlineData), as its REST examples spell them.
func geminiKey(buf *geminiKeyBuf, k []byte) []byte {
	if bytes.IndexByte(k, '_') < 0 || len(k) > len(buf) {
		return k
	}
	n, up := 0, false
	for _, c := range k {
		if c == '_' {
			up = n > 0
			continue
		}
		if up && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = false
		buf[n] = c
		n++
	}
	return buf[:n]
}

// geminiString returns the string value v decoded ("" when v is not a
// string).
func geminiString(v []byte) string {
	s, ok := jsonscan.String(v)
	if !ok {
		return ""
	}
	return string(s)
}

// geminiInt reads an integer, as a JSON number or (proto JSON's form of
// 64-bit integers) a string holding one.
func geminiInt(v []byte) (int64, bool) {
	if len(v) > 1 && v[0] == '"' {
		v = v[1 : len(v)-1]
	}
	if n, ok := jsonscan.Int(v); ok {
		return n, true
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || f != float64(int64(f)) {
		return 0, false
	}
	return int64(f), true
}

// geminiFloat reads a number (or a string holding one).
func geminiFloat(v []byte) (float64, bool) {
	if len(v) > 1 && v[0] == '"' {
		v = v[1 : len(v)-1]
	}
	if len(v) == 0 || v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return f, err == nil
}

// geminiDefault reports whether v is a field's default value, which proto
// JSON reads as the field left unset: null, false, 0, "", [] or {}.
func geminiDefault(v []byte) bool {
	v = bytes.TrimSpace(v)
	switch string(v) {
	case "null", "false", `""`:
		return true
	}
	if len(v) > 1 && (v[0] == '[' || v[0] == '{') {
		return jsonscan.SkipSpace(v, 1) == len(v)-1
	}
	if f, ok := geminiFloat(v); ok && v[0] != '"' {
		return f == 0
	}
	return false
}

// geminiCompact appends the JSON value v without the whitespace between
// its tokens. A raw control character inside a string (which the scanner
// lets through) is escaped, so that the value fits on one SSE data line.
func geminiCompact(dst, v []byte) []byte {
	start := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case ' ', '\t', '\n', '\r':
			dst = append(dst, v[start:i]...)
			start = i + 1
		case '"':
			for i++; i < len(v); i++ {
				c := v[i]
				if c == '\\' {
					i++
					continue
				}
				if c == '"' {
					break
				}
				if c < 0x20 {
					dst = append(dst, v[start:i]...)
					dst = append(dst, `\u00`...)
					dst = append(dst, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xF])
					start = i + 1
				}
			}
		}
	}
	return append(dst, v[start:]...)
}

// geminiAppendValid appends the JSON value v as geminiCompact does when v
// is one (as jsonscan.Valid says), and reports whether it was. Checking
// and compacting were most of what writing a request cost (schemas,
// arguments and results are most of its bytes): geminiCheckJSON does
// both in one pass, and a value already compact (what the decoders make)
// is copied as it is.
func geminiAppendValid(dst, v []byte) ([]byte, bool) {
	switch geminiCheckJSON(v) {
	case geminiJSONCompact:
		return append(dst, v...), true
	case geminiJSONSpaced:
		return geminiCompact(dst, v), true
	case geminiJSONDeep:
		if jsonscan.Valid(v) {
			return geminiCompact(dst, v), true
		}
	}
	return dst, false
}

// geminiJSON is what geminiCheckJSON says of a text.
type geminiJSON uint8

const (
	geminiJSONInvalid geminiJSON = iota
	// geminiJSONCompact: one JSON value, which geminiCompact leaves as it
	// is (no whitespace around or between its tokens, no raw control
	// character in its strings).
	geminiJSONCompact
	// geminiJSONSpaced: one JSON value, which geminiCompact changes.
	geminiJSONSpaced
	// geminiJSONDeep: nested deeper than geminiCheckJSON follows (64
	// levels); jsonscan decides.
	geminiJSONDeep
)

// geminiCheckJSON checks v as jsonscan.Valid does (a string is looked at
// only for its end) and says whether it is compact already.
func geminiCheckJSON(v []byte) geminiJSON {
	i := geminiWS(v, 0)
	end, what := geminiScanJSON(v, i)
	switch {
	case what != geminiJSONCompact && what != geminiJSONSpaced:
		return what
	case geminiWS(v, end) != len(v):
		return geminiJSONInvalid
	case i > 0 || end < len(v):
		return geminiJSONSpaced
	}
	return what
}

// geminiScanJSON reads the JSON value at v[i] as jsonscan.SkipValue does,
// in one loop over its tokens rather than a call for each value, and
// returns the index past it and what it is (compact or not; invalid,
// with end -1; or too deep for it, with end -1 too).
func geminiScanJSON(v []byte, i int) (end int, what geminiJSON) {
	const maxDepth = 64
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	var (
		objects uint64 // bit n: the container at depth n+1 is an object
		depth   int
		ctl     bool
		// spaced: geminiCompact changes the value (whitespace between
		// tokens, a control character in a string).
		spaced bool
	)
value:
	if i >= len(v) {
		return -1, geminiJSONInvalid
	}
	switch c := v[i]; {
	case c == '"':
		if i+9 <= len(v) {
			// A string that ends within the word after its quote, with
			// nothing to look at before its end, is read here.
			x := binary.LittleEndian.Uint64(v[i+1:])
			q, b := x^(ones*'"'), x^(ones*'\\')
			quote, other := (q-ones)&^q&highs, ((b-ones)&^b|(x-ones*0x20)&^x)&highs
			if quote != 0 && (other == 0 || bits.TrailingZeros64(other) > bits.TrailingZeros64(quote)) {
				i += 2 + bits.TrailingZeros64(quote)>>3
				break
			}
		}
		if i, ctl = geminiCheckString(v, i); i < 0 {
			return -1, geminiJSONInvalid
		}
		spaced = spaced || ctl
	case '0' <= c && c <= '9' || c == '-':
		if i = geminiNumberEnd(v, i); i < 0 {
			return -1, geminiJSONInvalid
		}
	case c == 't' && geminiLit(v, i, "true"), c == 'n' && geminiLit(v, i, "null"):
		i += 4
	case c == 'f' && geminiLit(v, i, "false"):
		i += 5
	case c == '{' || c == '[':
		if depth == maxDepth {
			return -1, geminiJSONDeep
		}
		objects <<= 1
		if c == '{' {
			objects |= 1
		}
		depth++
		if j := geminiWS(v, i+1); j != i+1 {
			i, spaced = j, true
		} else {
			i = j
		}
		if i < len(v) && (v[i] == '}' && c == '{' || v[i] == ']' && c == '[') {
			i++
			depth--
			objects >>= 1
			break
		}
		if c == '{' {
			goto key
		}
		goto value
	default:
		return -1, geminiJSONInvalid
	}
next: // past a value: what follows it
	if depth == 0 {
		if spaced {
			return i, geminiJSONSpaced
		}
		return i, geminiJSONCompact
	}
	if i < len(v) && v[i] <= ' ' {
		if j := geminiWS(v, i); j != i {
			i, spaced = j, true
		}
	}
	if i >= len(v) {
		return -1, geminiJSONInvalid
	}
	switch object := objects&1 == 1; {
	case v[i] == ',':
		if j := geminiWS(v, i+1); j != i+1 {
			i, spaced = j, true
		} else {
			i = j
		}
		if object {
			goto key
		}
		goto value
	case v[i] == '}' && object, v[i] == ']' && !object:
		i++
		depth--
		objects >>= 1
		goto next
	}
	return -1, geminiJSONInvalid
key:
	if i >= len(v) || v[i] != '"' {
		return -1, geminiJSONInvalid
	}
	if i+9 <= len(v) {
		x := binary.LittleEndian.Uint64(v[i+1:])
		q, b := x^(ones*'"'), x^(ones*'\\')
		quote, other := (q-ones)&^q&highs, ((b-ones)&^b|(x-ones*0x20)&^x)&highs
		if quote != 0 && (other == 0 || bits.TrailingZeros64(other) > bits.TrailingZeros64(quote)) {
			i += 2 + bits.TrailingZeros64(quote)>>3
			goto colon
		}
	}
	if i, ctl = geminiCheckString(v, i); i < 0 {
		return -1, geminiJSONInvalid
	}
	spaced = spaced || ctl
colon:
	if i < len(v) && v[i] == ':' {
		i++
	} else {
		j := geminiWS(v, i)
		if j >= len(v) || v[j] != ':' {
			return -1, geminiJSONInvalid
		}
		i, spaced = j+1, true
	}
	if j := geminiWS(v, i); j != i {
		i, spaced = j, true
	}
	goto value
}

// geminiCheckString returns the index past the string at i (a quote), -1
// when it does not end (as jsonscan.StringEnd), and whether it holds a
// control character that geminiCompact escapes, looking at eight bytes
// at a time. The strings of schemas and arguments are short: no
// bytes.IndexByte.
func geminiCheckString(v []byte, i int) (end int, ctl bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	j := i + 1
	for {
		for ; j+8 <= len(v); j += 8 {
			x := binary.LittleEndian.Uint64(v[j:])
			q, b := x^(ones*'"'), x^(ones*'\\')
			if m := ((q-ones)&^q | (b-ones)&^b | (x-ones*0x20)&^x) & highs; m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				break
			}
		}
		for j < len(v) && v[j] != '"' && v[j] != '\\' && v[j] >= 0x20 {
			j++
		}
		switch {
		case j >= len(v):
			return -1, ctl
		case v[j] == '"':
			return j + 1, ctl
		case v[j] == '\\':
			j += 2
		default:
			ctl = true
			j++
		}
	}
}

// geminiBytes returns s as bytes without copying it, for reading only.
func geminiBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// geminiHash is 64-bit FNV-1a, for the ids of calls that have none.
type geminiHash uint64

func geminiNewHash() geminiHash { return 14695981039346656037 }

func (h geminiHash) bytes(b []byte) geminiHash {
	for _, c := range b {
		h = (h ^ geminiHash(c)) * 1099511628211
	}
	return h
}

func (h geminiHash) str(s string) geminiHash {
	for i := 0; i < len(s); i++ {
		h = (h ^ geminiHash(s[i])) * 1099511628211
	}
	return h
}

func (h geminiHash) int(n int) geminiHash {
	var buf [20]byte
	return h.bytes(strconv.AppendInt(buf[:0], int64(n), 10)).bytes([]byte{0})
}

// appendID appends "call_" and the hash in 16 hex digits.
func (h geminiHash) appendID(dst []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, "call_"...)
	for s := 60; s >= 0; s -= 4 {
		dst = append(dst, hex[uint64(h)>>uint(s)&0xF])
	}
	return dst
}

// geminiRequestCallID is the id of a request's call that has none: its
// position in the request (content and part indexes) and its name.
func geminiRequestCallID(content, part int, name string) string {
	var buf [21]byte
	return string(geminiRequestCallHash(content, part, name).appendID(buf[:0]))
}

// geminiRequestCallHash is the hash behind geminiRequestCallID.
func geminiRequestCallHash(content, part int, name string) geminiHash {
	return geminiNewHash().int(content).int(part).str(name)
}

// geminiAnswerCallID appends the id of an answer's call that has none:
// the answer's responseId, the call's number in the answer, its name and
// its arguments (compact).
func geminiAnswerCallID(dst []byte, responseID string, n int, name, args []byte) []byte {
	h := geminiNewHash().str(responseID).bytes([]byte{0}).int(n).bytes(name).bytes([]byte{0}).bytes(args)
	return h.appendID(dst)
}

// geminiOwnSignature returns the signature Gemini made, without its
// prefix, and whether s is one.
func geminiOwnSignature(s string) (string, bool) {
	if rest, ok := strings.CutPrefix(s, geminiSignaturePrefix); ok && rest != "" {
		return rest, true
	}
	return "", false
}

// geminiForeignMarker goes before another provider's signature written
// for a Gemini caller, so that it is known again when the caller sends it
// back (and goes back to its provider, never to Gemini). It is four
// base64 characters: the SDKs, which hold a signature as bytes, give the
// marked signature back as it was written. Its bytes (00 81 96) cannot
// begin a signature of Gemini's, a protocol buffer (no field is numbered
// 0).
const geminiForeignMarker = "AIGW"

// geminiAppendCallerSignature appends the signature s as written for a
// Gemini caller: Gemini's own without its prefix, another provider's
// behind geminiForeignMarker.
func geminiAppendCallerSignature(dst []byte, s string) []byte {
	if own, ok := geminiOwnSignature(s); ok {
		return append(dst, own...)
	}
	if s == "" {
		return dst
	}
	return append(append(dst, geminiForeignMarker...), s...)
}

// geminiNeedsSignatures reports whether model validates the thought
// signatures of function calls (Gemini 3 and later; a name without a
// version, as the -latest aliases, is taken as a current model).
func geminiNeedsSignatures(model string) bool {
	m := strings.TrimPrefix(model, "models/")
	rest, ok := strings.CutPrefix(m, "gemini-")
	if !ok {
		return false
	}
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	if n == 0 {
		return true
	}
	major, _ := strconv.Atoi(rest[:n])
	return major >= 3
}

// geminiCursor reads JSON in one pass: it descends into the values its
// caller wants and skips the others (checking them, as
// jsonscan.SkipValue does), rather than walking each level again as
// nested iterators do. Keys are read as decoders read them (escapes
// decoded). A syntax error stops it: err says what it was, and the
// cursor is put at the end of the data, where every method finds
// nothing more to read (so that they need not look at err).
type geminiCursor struct {
	data   []byte
	i      int
	err    error
	keyBuf [64]byte
}

func (c *geminiCursor) fail(msg string) {
	if c.err == nil {
		c.err = geminiBad(msg + " at offset " + strconv.Itoa(c.i))
	}
	c.i = len(c.data)
}

// open enters the object or array (open is '{' or '[') at the cursor.
func (c *geminiCursor) open(open byte) bool {
	i := geminiWS(c.data, c.i)
	if i >= len(c.data) || c.data[i] != open {
		c.i = i
		c.fail("expected " + string(open))
		return false
	}
	c.i = i + 1
	return true
}

// next reports whether the container the cursor is in has one more member
// (or element), reading the comma before it or the closing byte after the
// last; first is true until the first one is read.
func (c *geminiCursor) next(close byte, first *bool) bool {
	data := c.data
	i := geminiWS(data, c.i)
	if i >= len(data) {
		c.i = i
		c.fail("unexpected end of input")
		return false
	}
	switch ch := data[i]; {
	case ch == close:
		c.i = i + 1
		return false
	case *first:
		c.i = i
		*first = false
		return true
	case ch == ',':
		i = geminiWS(data, i+1)
		c.i = i
		if i < len(data) && data[i] == close {
			c.fail("expected a value after ','")
			return false
		}
		return true
	}
	c.i = i
	c.fail("expected ',' or " + string(close))
	return false
}

// geminiStop returns the index of the first quote or backslash in data
// at or after j (len(data) when there is none), looking at eight bytes at
// a time: keys and the short strings of a request or a stream chunk end
// within a word or two, sooner than a call to bytes.IndexByte pays off.
// The has-zero test flags the lowest matching byte of a word exactly
// (a borrow can only flag bytes above it).
func geminiStop(data []byte, j int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; j+8 <= len(data); j += 8 {
		x := binary.LittleEndian.Uint64(data[j:])
		q, b := x^(ones*'"'), x^(ones*'\\')
		if m := ((q-ones)&^q | (b-ones)&^b) & highs; m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
	}
	for ; j < len(data); j++ {
		if c := data[j]; c == '"' || c == '\\' {
			return j
		}
	}
	return j
}

// key reads a member's key and its colon; the slice is valid until the
// next key. A key with a bad escape is what comes before it.
func (c *geminiCursor) key() []byte { return c.keyAs(false) }

// geminiShortKey is a key as written without escapes or whitespace, with
// its quotes and colon (`"role":`), when that fits in eight bytes: as a
// word (little-endian) and the mask of its bytes in a word.
type geminiShortKey struct {
	word, mask uint64
	n          int
}

func geminiShort(lit string) geminiShortKey {
	var k geminiShortKey
	for i := 0; i < len(lit); i++ {
		k.word |= uint64(lit[i]) << (8 * i)
		k.mask |= 0xFF << (8 * i)
	}
	k.n = len(lit)
	return k
}

// The keys most requests have most of.
var (
	geminiKeyRole  = geminiShort(`"role":`)
	geminiKeyParts = geminiShort(`"parts":`)
	geminiKeyText  = geminiShort(`"text":`)
	geminiKeyName  = geminiShort(`"name":`)
	geminiKeyArgs  = geminiShort(`"args":`)
)

// shortKey reads a key as key does, first comparing the eight bytes at
// the cursor with a and b, keys likely there: reading a key costs several
// times more than comparing a word.
func (c *geminiCursor) shortKey(a, b geminiShortKey) []byte {
	if k, ok := c.likelyKey(a, b); ok {
		return k
	}
	return c.key()
}

// shortIterKey is shortKey for iterKey.
func (c *geminiCursor) shortIterKey(a, b geminiShortKey) []byte {
	if k, ok := c.likelyKey(a, b); ok {
		return k
	}
	return c.iterKey()
}

// likelyKey reads the key at the cursor, with its colon, when it is a or
// b, spelt plainly.
func (c *geminiCursor) likelyKey(a, b geminiShortKey) ([]byte, bool) {
	i := c.i
	if i+8 > len(c.data) {
		return nil, false
	}
	w := binary.LittleEndian.Uint64(c.data[i:])
	switch {
	case w&a.mask == a.word:
	case w&b.mask == b.word:
		a = b
	default:
		return nil, false
	}
	c.i = i + a.n
	return c.data[i+1 : i+a.n-2], true
}

// iterKey reads a key as key does, but one with a bad escape as
// jsonscan.Iter gives it: as it is between its quotes.
func (c *geminiCursor) iterKey() []byte { return c.keyAs(true) }

func (c *geminiCursor) keyAs(iter bool) []byte {
	data := c.data // a local: the loops below need not reload it
	i := c.i       // next left it on the key
	if i >= len(data) || data[i] != '"' {
		c.fail("expected a key")
		return nil
	}
	var k []byte
	j := geminiStop(data, i+1)
	if j < len(data) && data[j] == '"' {
		k, j = data[i+1:j], j+1
	} else {
		end, err := jsonscan.SkipValue(data, i)
		if err != nil {
			c.fail(err.Error())
			return nil
		}
		var ok bool
		if k, ok = jsonscan.AppendString(c.keyBuf[:0], data[i:end]); !ok && iter {
			k = data[i+1 : end-1]
		}
		j = end
	}
	if j >= len(data) || data[j] != ':' {
		j = geminiWS(data, j)
		if j >= len(data) || data[j] != ':' {
			c.i = j
			c.fail("expected ':'")
			return nil
		}
	}
	c.i = j + 1
	return k
}

// value returns the raw value at the cursor and moves past it, checked
// as jsonscan.SkipValue checks it: by geminiScanJSON (strings and
// numbers, most values, by what it calls), and what is wrong (or too
// deep for it) by jsonscan.SkipValue, for its error.
func (c *geminiCursor) value() []byte {
	data := c.data
	start := geminiWS(data, c.i)
	if start < len(data) {
		switch ch := data[start]; {
		case ch == '"':
			if end := jsonscan.StringEnd(data, start); end > 0 {
				c.i = end
				return data[start:end]
			}
		case '0' <= ch && ch <= '9' || ch == '-':
			if end := geminiNumberEnd(data, start); end > 0 {
				c.i = end
				return data[start:end]
			}
		default:
			if end, _ := geminiScanJSON(data, start); end > 0 {
				c.i = end
				return data[start:end]
			}
		}
	}
	end, err := jsonscan.SkipValue(data, start)
	if err != nil {
		c.i = start
		c.fail(err.Error())
		return nil
	}
	c.i = end
	return data[start:end]
}

// enter enters the object or array (open is '{' or '[') at the cursor,
// as open does, and reports false, having read it, for a null (which
// proto JSON takes for an unset field), as null then open would.
func (c *geminiCursor) enter(open byte) bool {
	i := geminiWS(c.data, c.i)
	c.i = i
	switch {
	case i < len(c.data) && c.data[i] == open:
		c.i = i + 1
		return true
	case len(c.data)-i >= 4 && string(c.data[i:i+4]) == "null":
		c.i = i + 4
		return false
	}
	c.fail("expected " + string(open))
	return false
}

// null reads a null at the cursor, if there is one.
func (c *geminiCursor) null() bool {
	i := geminiWS(c.data, c.i)
	c.i = i
	if len(c.data)-i >= 4 && string(c.data[i:i+4]) == "null" {
		c.i = i + 4
		return true
	}
	return false
}

// done checks that nothing but whitespace follows the value read.
func (c *geminiCursor) done() error {
	if c.err == nil && jsonscan.SkipSpace(c.data, c.i) != len(c.data) {
		c.fail("data after the top-level value")
	}
	return c.err
}

// ---- requests: Gemini to the shared representation ----

// DecodeRequest reads a generateContent body; meta gives the model and
// the stream flag (from the path). A Gemini stream always carries its
// usage: StreamUsage follows Stream.
func (geminiCodec) DecodeRequest(body []byte, meta RequestMeta) (*Request, error) {
	// The request's strings and raw values are views of this copy of the
	// body, and what decoding makes (unescaped strings, compacted JSON,
	// call ids) is appended after it: a request costs a few allocations,
	// not one per string.
	own := make([]byte, len(body), len(body)+64+len(body)/8)
	copy(own, body)
	blk := &geminiRequestBlock{}
	blk.r = Request{Model: meta.Model, Stream: meta.Stream, StreamUsage: meta.Stream, Messages: blk.msgs[:0]}
	d := geminiRequestDecoder{r: &blk.r, blk: blk, arena: own[len(body):], pending: blk.pending[:0], ends: blk.ends[:0]}
	// Room for the parts of most requests at once: a part takes a
	// hundred bytes or more, most take a few hundred.
	if n := 2 + len(body)/256; n <= len(blk.parts) {
		d.pool = blk.parts[:0]
	} else {
		d.pool = make([]Part, 0, min(n, 32))
	}
	if err := d.decode(own[:len(body)]); err != nil {
		return nil, err
	}
	return d.r, nil
}

// geminiRequestBlock is a request and what most requests need besides,
// allocated at once: its numbers, room for its turns, their parts, its
// tools and its system prompt, and the decoder's lists (more grow
// elsewhere). It fits 2 KB: what decoding allocates costs as much again
// in the collector's work, which is charged to the allocations.
type geminiRequestBlock struct {
	r       Request
	numbers [2]float64 // temperature, topP
	topK    int64
	msgs    [8]Message
	parts   [6]Part
	tools   [2]Tool
	system  [1]Part
	ends    [8]int
	pending [2]geminiPendingCall
}

// geminiRequestDecoder reads one request.
type geminiRequestDecoder struct {
	r   *Request
	blk *geminiRequestBlock
	// arena is where strings and values made while decoding go, after
	// the body's copy; the request's strings are views of either.
	arena []byte
	// pending are the calls not answered yet, in order.
	pending []geminiPendingCall
	// pool holds the parts of every message, each message's a slice of
	// it (ends[i] is where message i's end, once all are read): one
	// growing slice rather than one per message.
	pool []Part
	ends []int
	// thought: the last part in the pool is a thought's, still without
	// its signature; the next thought part continues it.
	thought bool
	// fc and fr are what the part being read calls or answers.
	fc geminiRequestCall
	fr geminiRequestResponse
	// validated: the function calling mode is VALIDATED, which makes
	// every tool strict (once all are read: toolConfig may come first).
	validated bool
}

// str returns the string value v (a piece of the body's copy) decoded,
// as geminiString does, without allocating: a view of the body, or of
// the arena when it has escapes.
func (d *geminiRequestDecoder) str(v []byte) string {
	if s, ok := d.unquote(v); ok {
		return s
	}
	return ""
}

// unquote returns the string value v decoded as jsonscan.String does:
// ok false for what is not a string, and for a bad escape (then with
// what comes before it).
func (d *geminiRequestDecoder) unquote(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	body := v[1 : len(v)-1]
	if jsonscan.Plain(body) {
		return geminiView(body), true
	}
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return geminiView(body), true
	}
	start := len(d.arena)
	var ok bool
	d.arena, ok = jsonscan.AppendString(d.arena, v)
	if s := d.arena[start:]; !ok || utf8.Valid(s) {
		return geminiView(s), ok
	}
	d.arena = d.arena[:start]
	fixed, ok := jsonscan.String(v) // invalid UTF-8, each bad byte U+FFFD: rare
	return string(fixed), ok
}

// compact returns the JSON value v compact: v itself when it has no
// whitespace, nor anything a space or below (most values: what SDKs
// and this codec's encoder write), else compacted into the arena. The
// capacity is cut to the length, so that an append never runs into
// what follows.
func (d *geminiRequestDecoder) compact(v []byte) []byte {
	if !geminiHasSpace(v) {
		return v[:len(v):len(v)]
	}
	start := len(d.arena)
	d.arena = geminiCompact(d.arena, v)
	return d.arena[start:len(d.arena):len(d.arena)]
}

// geminiHasSpace reports whether b holds a byte at or below ' ', eight
// bytes at a time (has-less).
func geminiHasSpace(b []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if (x-ones*0x21)&^x&highs != 0 {
			return true
		}
	}
	for ; i < len(b); i++ {
		if b[i] <= ' ' {
			return true
		}
	}
	return false
}

type geminiPendingCall struct{ id, name string }

func (d *geminiRequestDecoder) unsupported(name string) {
	d.r.addUnsupported(name)
}

func (d *geminiRequestDecoder) decode(body []byte) error {
	c := geminiCursor{data: body}
	if !c.open('{') {
		return c.err
	}
	for first := true; c.next('}', &first); {
		var kb geminiKeyBuf
		raw := c.key()
		switch string(geminiKey(&kb, raw)) {
		case "contents":
			// The last of duplicate keys counts, as in Google's parser.
			d.r.Messages, d.pending, d.pool, d.ends, d.thought = d.r.Messages[:0], d.pending[:0], d.pool[:0], d.ends[:0], false
			if err := d.contents(&c); err != nil {
				return err
			}
		case "systemInstruction":
			d.r.System = d.r.System[:0]
			d.system(&c)
		case "tools":
			d.r.Tools = d.r.Tools[:0]
			d.tools(&c)
		case "toolConfig":
			d.r.ToolChoice, d.validated = ToolChoice{}, false
			d.toolConfig(&c)
		case "generationConfig":
			d.generationConfig(&c)
		case "safetySettings", "labels", "serviceTier", "model":
			// Dropped: see geminiCodec.
			c.value()
		default:
			name := string(raw)
			if v := c.value(); v != nil && !geminiDefault(v) {
				d.unsupported(name)
			}
		}
	}
	if err := c.done(); err != nil {
		return err
	}
	if d.validated {
		for i := range d.r.Tools {
			d.r.Tools[i].Strict = true
		}
	}
	start := 0
	for i, end := range d.ends {
		d.r.Messages[i].Parts = d.pool[start:end:end]
		start = end
	}
	return nil
}

// contents reads the contents array at the cursor, in one pass.
func (d *geminiRequestDecoder) contents(c *geminiCursor) error {
	if !c.enter('[') {
		return c.err
	}
	for ci, first := 0, true; c.next(']', &first); ci++ {
		if err := d.content(c, ci); err != nil {
			return err
		}
	}
	return c.err
}

// content reads one content. Its role may come after its parts (the
// SDKs write it last): the parts are checked against it at the end.
// Consecutive contents of one role make one message (a streamed answer
// comes back as a content per chunk, a thought in pieces).
func (d *geminiRequestDecoder) content(c *geminiCursor, ci int) error {
	if !c.enter('{') {
		return c.err
	}
	var role []byte
	start := len(d.pool)
	for first := true; c.next('}', &first); {
		switch string(c.shortKey(geminiKeyRole, geminiKeyParts)) {
		case "role":
			role = c.value()
		case "parts":
			if len(d.pool) > start { // a duplicate key: the last counts
				d.pool, d.thought = d.pool[:start], false
			}
			if err := d.parts(c, start, ci); err != nil {
				return err
			}
		default:
			c.value()
		}
	}
	if c.err != nil {
		return c.err
	}
	r := RoleUser
	switch s := d.str(role); s {
	case "model":
		r = RoleAssistant
	case "", "user", "function", "tool":
	default:
		return geminiBad("contents: role " + strconv.Quote(s))
	}
	for i := start; i < len(d.pool); i++ {
		switch k := d.pool[i].Kind; {
		case k == PartToolCall && r != RoleAssistant:
			return geminiBad("a functionCall in a user turn")
		case k == PartToolResult && r == RoleAssistant:
			return geminiBad("a functionResponse in a model turn")
		}
	}
	n := len(d.r.Messages)
	switch {
	case n > 0 && d.r.Messages[n-1].Role == r:
		d.ends[n-1] = len(d.pool)
	case len(d.pool) > start:
		d.r.Messages = append(d.r.Messages, Message{Role: r})
		d.ends = append(d.ends, len(d.pool))
	}
	return nil
}

// geminiRequestPart holds the raw fields of one part of a request, and
// whether its functionCall or functionResponse was read in place, into
// the decoder's fc and fr (else part reads them from the raw values).
type geminiRequestPart struct {
	text, sig, inline, file, call, resp []byte
	thought                             bool
	callRead, respRead                  bool
}

// geminiRequestCall is what a functionCall says.
type geminiRequestCall struct {
	id, name string
	args     []byte
}

// geminiRequestResponse is what a functionResponse says: its response
// raw, and when that is an object, its number of members and the last
// of output or result (as "output") or error, with its value.
type geminiRequestResponse struct {
	id, name string
	response []byte
	// parts: a parts member set to anything but its default.
	parts   bool
	object  bool
	members int
	key     string
	val     []byte
}

// parts reads a content's parts into the pool, from start.
func (d *geminiRequestDecoder) parts(c *geminiCursor, start, ci int) error {
	if !c.enter('[') {
		return c.err
	}
	for pi, first := 0, true; c.next(']', &first); pi++ {
		if !c.enter('{') {
			if c.err != nil {
				return c.err
			}
			continue
		}
		var f geminiRequestPart
		for first := true; c.next('}', &first); {
			var kb geminiKeyBuf
			raw := c.shortKey(geminiKeyText, geminiKeyText)
			switch string(geminiKey(&kb, raw)) {
			case "text":
				f.text = c.value()
			case "thought":
				f.thought, _ = jsonscan.Bool(c.value())
			case "thoughtSignature":
				f.sig = c.value()
			case "inlineData":
				f.inline = c.value()
			case "fileData":
				f.file = c.value()
			case "functionCall":
				f.call, f.callRead = d.callAt(c, &d.fc)
			case "functionResponse":
				f.resp, f.respRead = d.responseAt(c, &d.fr)
			case "partMetadata", "mediaResolution":
				// Dropped: metadata for the caller; a resolution hint.
				c.value()
			default:
				name := "contents.parts." + string(raw)
				if v := c.value(); v != nil && !geminiDefault(v) {
					d.unsupported(name)
				}
			}
		}
		if c.err != nil {
			return c.err
		}
		if err := d.part(start, ci, pi, &f); err != nil {
			return err
		}
	}
	return c.err
}

// part adds one part to the pool (parts from start are its content's).
func (d *geminiRequestDecoder) part(start, ci, pi int, f *geminiRequestPart) error {
	null := func(v []byte) bool { return v == nil || jsonscan.IsNull(v) }
	signature := d.signature(f.sig)
	if f.thought {
		t := d.str(f.text)
		if t == "" && signature == "" {
			return nil
		}
		// A streamed thought arrives in pieces (in a content each, from
		// a chat), its signature on the last: one thinking part, as
		// Anthropic needs it back.
		if d.thought {
			last := &d.pool[len(d.pool)-1]
			last.Text += t
			last.Signature = signature
			d.thought = signature == ""
			return nil
		}
		d.pool = append(d.pool, Part{Kind: PartThinking, Text: t, Signature: signature})
		d.thought = t != "" && signature == ""
		return nil
	}
	d.thought = false
	if signature != "" {
		d.pool = append(d.pool, Part{Kind: PartThinking, Signature: signature})
	}
	switch {
	case !null(f.text):
		if t := d.str(f.text); t != "" {
			d.pool = append(d.pool, Part{Kind: PartText, Text: t})
		}
	case !null(f.inline):
		mime, data, err := d.media(f.inline, "data")
		if err != nil {
			return geminiBad("inlineData: " + err.Error())
		}
		if !strings.HasPrefix(mime, "image/") {
			d.unsupported("contents.parts.inlineData (" + mime + ")")
			return nil
		}
		d.pool = append(d.pool, Part{Kind: PartImage, MediaType: mime, Data: data})
	case !null(f.file):
		mime, uri, err := d.media(f.file, "fileUri")
		if err != nil {
			return geminiBad("fileData: " + err.Error())
		}
		if !strings.HasPrefix(mime, "image/") || !geminiPublicURL(uri) {
			d.unsupported("contents.parts.fileData")
			return nil
		}
		d.pool = append(d.pool, Part{Kind: PartImage, MediaType: mime, URL: uri})
	case !null(f.call):
		id, name, args := d.fc.id, d.fc.name, d.fc.args
		if !f.callRead {
			var err error
			if id, name, args, err = d.readCall(f.call); err != nil {
				return err
			}
		} else if name == "" {
			return geminiBad("functionCall without a name")
		}
		p := Part{Kind: PartToolCall, ID: id, Name: name, Arguments: "{}"}
		if len(args) > 0 && !jsonscan.IsNull(args) {
			p.Arguments = geminiView(d.compact(args))
		}
		if p.ID == "" {
			p.ID = d.callID(ci, pi, p.Name)
		}
		d.pending = append(d.pending, geminiPendingCall{id: p.ID, name: p.Name})
		d.pool = append(d.pool, p)
	case !null(f.resp):
		if !f.respRead {
			if err := d.readResponse(f.resp, &d.fr); err != nil {
				return err
			}
		}
		p := d.functionResponse(&d.fr)
		if p.ID == "" {
			p.ID = d.callID(ci, pi, p.Name)
		}
		d.pool = append(d.pool, p)
	}
	return nil
}

// signature reads the thoughtSignature v a Gemini caller sent back:
// another provider's when it has geminiForeignMarker, else Gemini's own
// (behind geminiSignaturePrefix).
func (d *geminiRequestDecoder) signature(v []byte) string {
	s := d.str(v)
	if s == "" {
		return ""
	}
	if foreign, ok := strings.CutPrefix(s, geminiForeignMarker); ok && foreign != "" {
		return foreign
	}
	start := len(d.arena)
	d.arena = append(d.arena, geminiSignaturePrefix...)
	d.arena = append(d.arena, s...)
	return geminiView(d.arena[start:])
}

// callID is geminiRequestCallID, kept in the arena.
func (d *geminiRequestDecoder) callID(content, part int, name string) string {
	start := len(d.arena)
	d.arena = geminiRequestCallHash(content, part, name).appendID(d.arena)
	return geminiView(d.arena[start:])
}

// callAt reads the functionCall at the cursor: its value raw, and
// whether it was an object, read into fc (its members as readCall reads
// them, in the same pass). Anything else (or what is not JSON) is only
// passed over, as before, for readCall to refuse.
func (d *geminiRequestDecoder) callAt(c *geminiCursor, fc *geminiRequestCall) ([]byte, bool) {
	start := geminiWS(c.data, c.i)
	if start >= len(c.data) || c.data[start] != '{' {
		return c.value(), false
	}
	*fc = geminiRequestCall{}
	c.open('{')
	for first := true; c.next('}', &first); {
		switch string(c.shortIterKey(geminiKeyName, geminiKeyArgs)) {
		case "id":
			fc.id, _ = d.unquote(c.value())
		case "name":
			fc.name, _ = d.unquote(c.value())
		case "args":
			fc.args = c.value()
		default:
			c.value()
		}
	}
	return c.reread(start)
}

// reread ends a value read in place from start: the value, raw, and
// true; or, when it is not well formed, what value says of it (reading
// it again from start), and false. A request that is not JSON is refused
// with the same error whichever way it is read.
func (c *geminiCursor) reread(start int) ([]byte, bool) {
	if c.err != nil {
		c.err, c.i = nil, start
		return c.value(), false
	}
	return c.data[start:c.i], true
}

// responseAt reads the functionResponse at the cursor as callAt reads a
// functionCall: its members as readResponse reads them.
func (d *geminiRequestDecoder) responseAt(c *geminiCursor, fr *geminiRequestResponse) ([]byte, bool) {
	start := geminiWS(c.data, c.i)
	if start >= len(c.data) || c.data[start] != '{' {
		return c.value(), false
	}
	*fr = geminiRequestResponse{}
	c.open('{')
	for first := true; c.next('}', &first); {
		var kb geminiKeyBuf
		switch k := geminiKey(&kb, c.iterKey()); string(k) {
		case "id":
			fr.id = d.str(c.value())
		case "name":
			fr.name = d.str(c.value())
		case "response":
			d.responseValueAt(c, fr)
		case "parts":
			if !geminiDefault(c.value()) {
				fr.parts = true
			}
		default:
			c.value()
		}
	}
	return c.reread(start)
}

// responseValueAt reads a functionResponse's response at the cursor: raw,
// and its members when it is an object.
func (d *geminiRequestDecoder) responseValueAt(c *geminiCursor, fr *geminiRequestResponse) {
	start := geminiWS(c.data, c.i)
	fr.object, fr.members, fr.key, fr.val = false, 0, "", nil
	if start >= len(c.data) || c.data[start] != '{' {
		fr.response = c.value()
		return
	}
	c.open('{')
	for first := true; c.next('}', &first); {
		fr.members++
		switch string(c.iterKey()) {
		case "output", "result":
			fr.key, fr.val = "output", c.value()
		case "error":
			fr.key, fr.val = "error", c.value()
		default:
			c.value()
		}
	}
	fr.object, fr.response = true, c.data[start:c.i]
}

// readCall reads a functionCall as geminiReadCall does (its id and name
// decoded, its arguments raw).
func (d *geminiRequestDecoder) readCall(v []byte) (id, name string, args []byte, err error) {
	rawID, rawName, args, err := geminiCallMembers(v)
	if err != nil {
		return "", "", nil, err
	}
	id, _ = d.unquote(rawID)
	if name, _ = d.unquote(rawName); len(name) == 0 {
		return "", "", nil, geminiBad("functionCall without a name")
	}
	return id, name, args, nil
}

// media reads an inlineData or fileData object: its mimeType, and the
// member named key (data, fileUri).
func (d *geminiRequestDecoder) media(v []byte, key string) (mime, value string, err error) {
	it := jsonscan.Members(v)
	for it.Next() {
		var kb geminiKeyBuf
		switch k := string(geminiKey(&kb, it.Key())); k {
		case "mimeType":
			mime = d.str(it.Value())
		case key:
			value = d.str(it.Value())
		}
	}
	return mime, value, it.Err()
}

// geminiPublicURL reports whether u is an http(s) URL other providers can
// fetch: not one of Google's (a Files API or Cloud Storage URI needs
// Google's credentials), nor a video site's.
func geminiPublicURL(u string) bool {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(u, "http://"); !ok {
			return false
		}
	}
	host, _, _ := strings.Cut(rest, "/")
	host = strings.ToLower(host)
	for _, g := range [...]string{"googleapis.com", "youtube.com", "youtu.be"} {
		if host == g || strings.HasSuffix(host, "."+g) {
			return false
		}
	}
	return host != ""
}

// geminiReadCall reads a functionCall: its id, name and args (raw).
func geminiReadCall(v []byte) (id, name, args []byte, err error) {
	rawID, rawName, args, err := geminiCallMembers(v)
	if err != nil {
		return nil, nil, nil, err
	}
	id, _ = jsonscan.String(rawID)
	if name, _ = jsonscan.String(rawName); len(name) == 0 {
		return nil, nil, nil, geminiBad("functionCall without a name")
	}
	return id, name, args, nil
}

// geminiCallMembers returns a functionCall's id, name and args as they are
// written (the last of each, as decoders keep), for geminiReadCall and the
// request decoder's readCall to decode each its own way.
func geminiCallMembers(v []byte) (id, name, args []byte, err error) {
	it := jsonscan.Members(v)
	for it.Next() {
		switch string(it.Key()) {
		case "id":
			id = it.Value()
		case "name":
			name = it.Value()
		case "args":
			args = it.Value()
		}
	}
	if it.Err() != nil {
		return nil, nil, nil, geminiBad("functionCall: " + it.Err().Error())
	}
	return id, name, args, nil
}

// geminiArgs appends a call's arguments, compact: {} when absent.
func geminiArgs(dst, args []byte) []byte {
	if len(args) == 0 || jsonscan.IsNull(args) {
		return append(dst, "{}"...)
	}
	return geminiCompact(dst, args)
}

// readResponse reads the functionResponse v (raw) into fr, with
// jsonscan's iterators: what responseAt leaves.
func (d *geminiRequestDecoder) readResponse(v []byte, fr *geminiRequestResponse) error {
	*fr = geminiRequestResponse{}
	it := jsonscan.Members(v)
	for it.Next() {
		var kb geminiKeyBuf
		val := it.Value()
		switch k := geminiKey(&kb, it.Key()); string(k) {
		case "id":
			fr.id = d.str(val)
		case "name":
			fr.name = d.str(val)
		case "response":
			fr.response = val
		case "parts":
			if !geminiDefault(val) {
				fr.parts = true
			}
		}
	}
	if it.Err() != nil {
		return geminiBad("functionResponse: " + it.Err().Error())
	}
	if jsonscan.IsObject(fr.response) {
		rit := jsonscan.Members(fr.response)
		for rit.Next() {
			fr.members++
			switch string(rit.Key()) {
			case "output", "result":
				fr.key, fr.val = "output", rit.Value()
			case "error":
				fr.key, fr.val = "error", rit.Value()
			}
		}
		fr.object = rit.Err() == nil
	}
	return nil
}

// functionResponse makes the part of a functionResponse and pairs it
// with its call.
func (d *geminiRequestDecoder) functionResponse(fr *geminiRequestResponse) Part {
	if fr.parts {
		d.unsupported("contents.parts.functionResponse.parts")
	}
	id, name := fr.id, fr.name
	p := Part{Kind: PartToolResult, ID: id, Name: name}
	match := -1
	for i, c := range d.pending {
		if id != "" && c.id == id || id == "" && c.name == name {
			match = i
			break
		}
	}
	if match >= 0 {
		c := d.pending[match]
		d.pending = append(d.pending[:match], d.pending[match+1:]...)
		p.ID = c.id
		if p.Name == "" {
			p.Name = c.name
		}
	}
	d.result(&p, fr)
	return p
}

// result reads a functionResponse's response into p: the text of
// {"output": text}, {"result": text} or {"error": text} (IsError), else
// the object itself (JSON).
func (d *geminiRequestDecoder) result(p *Part, fr *geminiRequestResponse) {
	response, key, val := fr.response, fr.key, fr.val
	if len(response) == 0 || jsonscan.IsNull(response) {
		p.Text, p.JSON = "{}", true
		return
	}
	if fr.object && fr.members == 1 {
		switch key {
		case "output":
			if s, ok := d.unquote(val); ok {
				p.Text = s
				return
			}
		case "error":
			p.IsError = true
			if s, ok := d.unquote(val); ok {
				p.Text = s
				return
			}
			response = val
		}
	}
	p.Text, p.JSON = geminiView(d.compact(response)), true
}

func (d *geminiRequestDecoder) system(c *geminiCursor) {
	if !c.enter('{') {
		return
	}
	for first := true; c.next('}', &first); {
		if string(c.shortKey(geminiKeyParts, geminiKeyParts)) != "parts" || !c.enter('[') {
			c.value()
			continue
		}
		for first := true; c.next(']', &first); {
			if !c.enter('{') {
				continue
			}
			other := false
			for first := true; c.next('}', &first); {
				var kb geminiKeyBuf
				switch string(geminiKey(&kb, c.shortKey(geminiKeyText, geminiKeyText))) {
				case "text":
					if t := d.str(c.value()); t != "" {
						if d.r.System == nil {
							d.r.System = d.blk.system[:0]
						}
						d.r.System = append(d.r.System, Part{Kind: PartText, Text: t})
					}
				case "thought", "thoughtSignature", "partMetadata":
					c.value()
				default:
					if v := c.value(); v != nil && !geminiDefault(v) {
						other = true
					}
				}
			}
			if other {
				d.unsupported("systemInstruction.parts")
			}
		}
	}
}

func (d *geminiRequestDecoder) tools(c *geminiCursor) {
	if !c.enter('[') {
		return
	}
	for first := true; c.next(']', &first); {
		if !c.enter('{') {
			continue
		}
		for first := true; c.next('}', &first); {
			var kb geminiKeyBuf
			raw := c.key()
			if string(geminiKey(&kb, raw)) == "functionDeclarations" {
				d.declarations(c)
				continue
			}
			// googleSearch, codeExecution ... are enabled by an empty
			// object: any value but null asks for them.
			name := "tools." + string(raw)
			if v := c.value(); v != nil && !jsonscan.IsNull(v) {
				d.unsupported(name)
			}
		}
	}
}

func (d *geminiRequestDecoder) declarations(c *geminiCursor) {
	if !c.enter('[') {
		return
	}
	for first := true; c.next(']', &first); {
		if !c.enter('{') {
			continue
		}
		var t Tool
		var params, jsonParams []byte
		for first := true; c.next('}', &first); {
			var kb geminiKeyBuf
			switch string(geminiKey(&kb, c.key())) {
			case "name":
				t.Name = d.str(c.value())
			case "description":
				t.Description = d.str(c.value())
			case "parameters":
				params = c.value()
			case "parametersJsonSchema":
				jsonParams = c.value()
			default:
				// response, responseJsonSchema, behavior: dropped.
				c.value()
			}
		}
		switch {
		case jsonParams != nil && !jsonscan.IsNull(jsonParams):
			t.Parameters = d.compact(jsonParams)
		case params != nil && !jsonscan.IsNull(params):
			t.Parameters = d.schema(params)
		}
		if d.r.Tools == nil {
			d.r.Tools = d.blk.tools[:0]
		}
		d.r.Tools = append(d.r.Tools, t)
	}
}

func (d *geminiRequestDecoder) toolConfig(c *geminiCursor) {
	if !c.enter('{') {
		return
	}
	for first := true; c.next('}', &first); {
		var kb geminiKeyBuf
		if string(geminiKey(&kb, c.key())) != "functionCallingConfig" || !c.enter('{') {
			// retrievalConfig serves tools that are refused anyway.
			c.value()
			continue
		}
		var mode string
		var names []string
		for first := true; c.next('}', &first); {
			var kb geminiKeyBuf
			switch string(geminiKey(&kb, c.key())) {
			case "mode":
				mode = strings.ToUpper(d.str(c.value()))
			case "allowedFunctionNames":
				names = names[:0]
				if !c.enter('[') {
					continue
				}
				for first := true; c.next(']', &first); {
					// ANY over ["f", "f"] forces f.
					names = appendAllowed(names, d.str(c.value()))
				}
			default:
				// streamFunctionCallArguments: see geminiCodec.
				c.value()
			}
		}
		if len(names) == 0 {
			names = nil // an empty list names no subset: every function
		}
		d.toolChoice(mode, names)
	}
}

// toolChoice sets the tool choice of a functionCallingConfig: its mode and
// allowedFunctionNames, each name once.
func (d *geminiRequestDecoder) toolChoice(mode string, names []string) {
	switch mode {
	case "AUTO":
		d.r.ToolChoice = ToolChoice{Mode: ToolChoiceAuto}
	case "NONE":
		d.r.ToolChoice = ToolChoice{Mode: ToolChoiceNone}
	case "VALIDATED":
		// Calls or text, the calls constrained to their schemas (every
		// tool is strict), and to the functions named when some are.
		d.r.ToolChoice = ToolChoice{Mode: ToolChoiceAuto, Allowed: names}
		d.validated = true
	case "ANY":
		switch len(names) {
		case 0:
			d.r.ToolChoice = ToolChoice{Mode: ToolChoiceRequired}
		case 1:
			d.r.ToolChoice = ToolChoice{Mode: ToolChoiceTool, Name: names[0]}
		default:
			d.r.ToolChoice = ToolChoice{Mode: ToolChoiceRequired, Allowed: names}
		}
	}
}

func (d *geminiRequestDecoder) generationConfig(c *geminiCursor) {
	if !c.enter('{') {
		return
	}
	var mime string
	var schema, jsonSchema []byte
	for first := true; c.next('}', &first); {
		var kb geminiKeyBuf
		raw := c.key()
		key := geminiKey(&kb, raw)
		if c.null() {
			continue
		}
		if string(key) == "thinkingConfig" {
			d.thinkingConfig(c)
			continue
		}
		val := c.value() // raw stays valid: no key is read before the next
		spelled := func() string { return "generationConfig." + string(raw) }
		switch string(key) {
		case "maxOutputTokens":
			if n, ok := geminiInt(val); ok {
				d.r.MaxTokens = n
			}
		case "temperature":
			if f, ok := geminiFloat(val); ok {
				d.blk.numbers[0] = f
				d.r.Temperature = &d.blk.numbers[0]
			}
		case "topP":
			if f, ok := geminiFloat(val); ok {
				d.blk.numbers[1] = f
				d.r.TopP = &d.blk.numbers[1]
			}
		case "topK":
			if f, ok := geminiFloat(val); ok {
				d.blk.topK = int64(f)
				d.r.TopK = &d.blk.topK
			}
		case "stopSequences":
			sit := jsonscan.Elements(val)
			for sit.Next() {
				d.r.Stop = append(d.r.Stop, d.str(sit.Value()))
			}
		case "candidateCount":
			if n, ok := geminiInt(val); ok && n > 1 {
				d.unsupported(spelled())
			}
		case "responseMimeType":
			mime = d.str(val)
		case "responseSchema":
			schema = val
		case "responseJsonSchema":
			jsonSchema = val
		case "responseModalities":
			mit := jsonscan.Elements(val)
			for mit.Next() {
				if !strings.EqualFold(d.str(mit.Value()), "TEXT") {
					d.unsupported(spelled())
				}
			}
		case "seed", "logprobs", "speechConfig", "imageConfig", "responseFormat",
			"translationConfig", "audioTranscriptionConfig":
			d.unsupported(spelled())
		case "mediaResolution", "routingConfig", "modelSelectionConfig", "enableAffectiveDialog":
			// Dropped: a resolution hint; Vertex's choice of a model,
			// which the target's replaces; the Live API's.
		default:
			// responseLogprobs, presencePenalty, frequencyPenalty,
			// audioTimestamp, enableEnhancedCivicAnswers and what this
			// codec does not know: refused unless left at its default.
			if val != nil && !geminiDefault(val) {
				d.unsupported(spelled())
			}
		}
	}
	if c.err != nil {
		return
	}
	switch mime {
	case "", "text/plain":
	case "application/json":
		// A response schema constrains the answer (structured output):
		// always strict.
		switch {
		case jsonSchema != nil:
			d.r.ResponseFormat, d.r.ResponseSchema, d.r.ResponseStrict = "json_schema", d.compact(jsonSchema), true
		case schema != nil:
			d.r.ResponseFormat, d.r.ResponseSchema, d.r.ResponseStrict = "json_schema", d.schema(schema), true
		default:
			d.r.ResponseFormat = "json_object"
		}
	default:
		d.unsupported("generationConfig.responseMimeType (" + mime + ")")
	}
}

func (d *geminiRequestDecoder) thinkingConfig(c *geminiCursor) {
	if !c.enter('{') {
		return
	}
	for first := true; c.next('}', &first); {
		var kb geminiKeyBuf
		key := geminiKey(&kb, c.key())
		val := c.value()
		switch string(key) {
		case "thinkingBudget":
			// -1 asks for dynamic thinking, the default of the models
			// that take a budget: left unset.
			if n, ok := geminiInt(val); ok {
				switch {
				case n == 0:
					d.r.Reasoning.Disabled = true
				case n > 0:
					d.r.Reasoning.BudgetTokens = n
				}
			}
		case "includeThoughts":
			d.r.Reasoning.IncludeThoughts, _ = jsonscan.Bool(val)
		case "thinkingLevel":
			switch l := strings.ToLower(d.str(val)); l {
			case "minimal", "low", "medium", "high":
				d.r.Reasoning.Effort = l
			}
		}
	}
}

// schema returns the OpenAPI-subset schema v as JSON Schema (see
// geminiAppendSchema), in the arena.
func (d *geminiRequestDecoder) schema(v []byte) []byte {
	start := len(d.arena)
	d.arena = geminiAppendSchema(d.arena, v, 0)
	return d.arena[start:len(d.arena):len(d.arena)]
}

// geminiAppendSchema appends the OpenAPI-subset schema v (Gemini's
// Schema) as JSON Schema: types in lower case, nullable as a "null" type,
// integer bounds as numbers, propertyOrdering left out.
func geminiAppendSchema(dst, v []byte, depth int) []byte {
	if depth > 64 || !jsonscan.IsObject(v) {
		return geminiCompact(dst, v)
	}
	nullable := false
	if n, ok := jsonscan.Get(v, "nullable"); ok {
		nullable, _ = jsonscan.Bool(n)
	}
	dst = append(dst, '{')
	first := true
	it := jsonscan.Members(v)
	for it.Next() {
		var kb geminiKeyBuf
		k := geminiKey(&kb, it.Key())
		val := it.Value()
		switch string(k) {
		case "nullable", "propertyOrdering":
			continue
		case "type":
			t, ok := jsonscan.String(val)
			if ok && (len(t) == 0 || strings.EqualFold(string(t), "TYPE_UNSPECIFIED")) {
				continue
			}
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = jsonscan.AppendQuoteFast(dst, string(k))
		dst = append(dst, ':')
		switch string(k) {
		case "type":
			if t, ok := jsonscan.String(val); ok {
				lower := strings.ToLower(string(t))
				if nullable && lower != "null" {
					dst = append(dst, '[')
					dst = jsonscan.AppendQuoteFast(dst, lower)
					dst = append(dst, `,"null"]`...)
				} else {
					dst = jsonscan.AppendQuoteFast(dst, lower)
				}
			} else {
				dst = geminiCompact(dst, val)
			}
		case "properties", "$defs", "definitions":
			if !jsonscan.IsObject(val) {
				dst = geminiCompact(dst, val)
				break
			}
			dst = append(dst, '{')
			pit := jsonscan.Members(val)
			for n := 0; pit.Next(); n++ {
				if n > 0 {
					dst = append(dst, ',')
				}
				dst = jsonscan.AppendQuoteFast(dst, string(pit.Key()))
				dst = append(dst, ':')
				dst = geminiAppendSchema(dst, pit.Value(), depth+1)
			}
			dst = append(dst, '}')
		case "items", "additionalProperties", "not":
			dst = geminiAppendSchema(dst, val, depth+1)
		case "anyOf", "oneOf", "allOf", "prefixItems":
			if len(val) == 0 || val[0] != '[' {
				dst = geminiCompact(dst, val)
				break
			}
			dst = append(dst, '[')
			eit := jsonscan.Elements(val)
			for n := 0; eit.Next(); n++ {
				if n > 0 {
					dst = append(dst, ',')
				}
				dst = geminiAppendSchema(dst, eit.Value(), depth+1)
			}
			dst = append(dst, ']')
		case "minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties":
			if n, ok := geminiInt(val); ok {
				dst = strconv.AppendInt(dst, n, 10)
			} else {
				dst = geminiCompact(dst, val)
			}
		default:
			dst = geminiCompact(dst, val)
		}
	}
	return append(dst, '}')
}

// ---- requests: the shared representation to Gemini ----

// EncodeRequest writes r as a generateContent body (the model goes in the
// path: model only decides whether function calls need a thought
// signature, see geminiCodec).
func (geminiCodec) EncodeRequest(r *Request, model string) ([]byte, error) {
	if err := geminiRefuse(r); err != nil {
		return nil, err
	}
	w := geminiContentsWriter{r: r, sentinel: geminiNeedsSignatures(model)}
	w.b = make([]byte, 0, geminiRequestSize(r))
	w.b = append(w.b, `{"contents":[`...)
	for _, m := range r.Messages {
		role := "user"
		if m.Role == RoleAssistant {
			role = "model"
		}
		for i := range m.Parts {
			if err := w.part(role, &m.Parts[i]); err != nil {
				return nil, err
			}
		}
		w.endMessage(role)
	}
	if w.role != "" {
		w.b = append(w.b, "]}"...)
	}
	b := append(w.b, ']')

	if text := geminiSystemParts(r.System); text > 0 {
		b = append(b, `,"systemInstruction":{"parts":[`...)
		n := 0
		for i := range r.System {
			p := &r.System[i]
			if p.Kind != PartText || p.Text == "" {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = append(b, `{"text":`...)
			b = jsonscan.AppendQuoteFast(b, p.Text)
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}

	if len(r.Tools) > 0 {
		b = append(b, `,"tools":[{"functionDeclarations":[`...)
		for i := range r.Tools {
			t := &r.Tools[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = jsonscan.AppendQuoteFast(b, t.Name)
			if t.Description != "" {
				b = append(b, `,"description":`...)
				b = jsonscan.AppendQuoteFast(b, t.Description)
			}
			if len(bytes.TrimSpace(t.Parameters)) > 0 {
				var ok bool
				b = append(b, `,"parametersJsonSchema":`...)
				if b, ok = geminiAppendValidSchema(b, t.Parameters); !ok {
					return nil, fmt.Errorf("translate: the parameters of tool %q are not JSON", t.Name)
				}
			}
			b = append(b, '}')
		}
		b = append(b, "]}]"...)

		strict := geminiStrictTools(r.Tools)
		if mode := r.ToolChoice.Mode; mode != ToolChoiceUnset || strict {
			b = append(b, `,"toolConfig":{"functionCallingConfig":{"mode":`...)
			switch allowed := r.ToolChoice.subset(); mode {
			case ToolChoiceUnset, ToolChoiceAuto:
				// Only VALIDATED takes a subset with the model free to
				// answer in text (see geminiCodec).
				if strict || len(allowed) > 0 {
					b = append(b, `"VALIDATED"`...)
				} else {
					b = append(b, `"AUTO"`...)
				}
				b = geminiAppendAllowed(b, allowed)
			case ToolChoiceNone:
				b = append(b, `"NONE"`...)
			case ToolChoiceRequired:
				b = append(b, `"ANY"`...)
				b = geminiAppendAllowed(b, allowed)
			case ToolChoiceTool:
				b = append(b, `"ANY","allowedFunctionNames":[`...)
				b = jsonscan.AppendQuoteFast(b, r.ToolChoice.Name)
				b = append(b, ']')
			default:
				b = append(b, `"AUTO"`...)
			}
			b = append(b, "}}"...)
		}
	}

	return geminiAppendGenerationConfig(b, r), nil
}

// geminiAppendAllowed appends allowedFunctionNames when a subset is
// named.
func geminiAppendAllowed(b []byte, allowed []string) []byte {
	if len(allowed) == 0 {
		return b
	}
	b = append(b, `,"allowedFunctionNames":[`...)
	for i, name := range allowed {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonscan.AppendQuoteFast(b, name)
	}
	return append(b, ']')
}

// geminiStrictTools reports whether a tool asks for strict arguments.
func geminiStrictTools(tools []Tool) bool {
	for i := range tools {
		if tools[i].Strict {
			return true
		}
	}
	return false
}

// geminiForcedStrict reports whether a forced call (ANY) may go to a
// strict tool: a strict tool outside the allowed subset, or other than
// the one forced, cannot be called, so ANY loses no guarantee for it.
func geminiForcedStrict(r *Request) bool {
	for i := range r.Tools {
		t := &r.Tools[i]
		if !t.Strict || !r.ToolChoice.allows(t.Name) {
			continue
		}
		if r.ToolChoice.Mode != ToolChoiceTool || t.Name == r.ToolChoice.Name {
			return true
		}
	}
	return false
}

// geminiRefuse returns the UnsupportedError for what r asks that Gemini
// cannot honour, or nil.
func geminiRefuse(r *Request) error {
	refuse := func(param, reason string) error {
		return &UnsupportedError{Param: param, Target: provider.FormatGemini, Reason: reason}
	}
	if len(r.Unsupported) > 0 {
		return refuse(r.Unsupported[0], "")
	}
	if p := r.ParallelToolCalls; p != nil && !*p && len(r.Tools) > 0 && r.ToolChoice.Mode != ToolChoiceNone {
		return refuse("parallel_tool_calls", "Gemini cannot be kept to one call per answer")
	}
	switch r.ResponseFormat {
	case "", "text", "json_object", "json_schema":
	default:
		return refuse("response_format", "Gemini has no "+strconv.Quote(r.ResponseFormat)+" response format")
	}
	if why := r.unknownAllowed(); why != "" {
		return refuse("tool_choice", why)
	}
	if m := r.ToolChoice.Mode; (m == ToolChoiceRequired || m == ToolChoiceTool) && geminiForcedStrict(r) {
		return refuse("strict", "Gemini constrains function calls to their schemas only in its VALIDATED mode, which cannot force a call")
	}
	if e := r.Reasoning.Effort; e != "" && !r.Reasoning.Disabled && r.Reasoning.BudgetTokens == 0 {
		if _, ok := EffortBudget(e); !ok {
			return refuse("reasoning_effort", "no thinking budget stands for "+strconv.Quote(e))
		}
	}
	return nil
}

// geminiRequestSize estimates the size of r written for Gemini.
func geminiRequestSize(r *Request) int {
	// By index: a Part is 160 bytes, which ranging by value copies.
	n := 256
	for i := range r.Messages {
		for j := range r.Messages[i].Parts {
			p := &r.Messages[i].Parts[j]
			n += 64 + len(p.Text) + len(p.Data) + len(p.URL) + len(p.Arguments) + len(p.Name) + len(p.Signature)
		}
	}
	for i := range r.System {
		n += 16 + len(r.System[i].Text)
	}
	for i := range r.Tools {
		t := &r.Tools[i]
		n += 64 + len(t.Name) + len(t.Description) + len(t.Parameters)
	}
	return n + len(r.ResponseSchema)
}

func geminiSystemParts(parts []Part) int {
	n := 0
	for i := range parts {
		if parts[i].Kind == PartText && parts[i].Text != "" {
			n++
		}
	}
	return n
}

// geminiContentsWriter writes the contents array: consecutive turns of
// one role join one content, a thought signature goes on the part that
// follows it.
type geminiContentsWriter struct {
	r *Request
	b []byte
	// role is the open content's ("" when none); parts its parts so far;
	// called whether it holds a function call.
	role     string
	contents int
	parts    int
	called   bool
	// sig is a Gemini signature waiting for the next part of the turn.
	sig string
	// sentinel: the model validates function calls' signatures.
	sentinel bool
}

// begin starts one part in a content of role.
func (w *geminiContentsWriter) begin(role string) {
	if role == w.role {
		if w.parts > 0 {
			w.b = append(w.b, ',')
		}
		w.parts++
		return
	}
	switch {
	case w.role != "":
		w.b = append(w.b, "]},"...)
	case w.contents > 0:
		w.b = append(w.b, ',')
	}
	w.contents++
	if role == "model" {
		w.b = append(w.b, `{"role":"model","parts":[`...)
	} else {
		w.b = append(w.b, `{"role":"user","parts":[`...)
	}
	w.role, w.parts, w.called = role, 1, false
}

// signature ends a part with the waiting signature, if any.
func (w *geminiContentsWriter) signature(sig string) {
	if sig == "" {
		sig, w.sig = w.sig, ""
	}
	if sig != "" {
		w.b = append(w.b, `,"thoughtSignature":`...)
		w.b = jsonscan.AppendQuoteFast(w.b, sig)
	}
}

// endMessage writes a signature no part took, on an empty text part (as
// Gemini sends it).
func (w *geminiContentsWriter) endMessage(role string) {
	if w.sig == "" {
		return
	}
	w.begin(role)
	w.b = append(w.b, `{"text":""`...)
	w.signature("")
	w.b = append(w.b, '}')
}

func (w *geminiContentsWriter) part(role string, p *Part) error {
	switch p.Kind {
	case PartText:
		if p.Text == "" && w.sig == "" {
			return nil
		}
		w.begin(role)
		w.b = append(w.b, `{"text":`...)
		w.b = jsonscan.AppendQuoteFast(w.b, p.Text)
		w.signature("")
		w.b = append(w.b, '}')
	case PartImage:
		return w.image(role, p)
	case PartToolCall:
		args := bytes.TrimSpace(geminiBytes(p.Arguments))
		if len(args) == 0 {
			args = []byte("{}")
		}
		if !jsonscan.IsObject(args) {
			return fmt.Errorf("translate: the arguments of tool call %q are not a JSON object", p.ID)
		}
		sig := ""
		if role == "model" && !w.called && w.sig == "" && w.sentinel {
			sig = geminiSkipSignature
		}
		w.begin(role)
		w.called = w.called || role == "model"
		w.b = append(w.b, `{"functionCall":{"name":`...)
		w.b = jsonscan.AppendQuoteFast(w.b, p.Name)
		w.b = append(w.b, `,"args":`...)
		var ok bool
		if w.b, ok = geminiAppendValid(w.b, args); !ok {
			return fmt.Errorf("translate: the arguments of tool call %q are not a JSON object", p.ID)
		}
		w.b = append(w.b, '}')
		w.signature(sig)
		w.b = append(w.b, '}')
	case PartToolResult:
		name := p.Name
		if name == "" {
			name = geminiCallName(w.r, p.ID)
		}
		if name == "" {
			return &UnsupportedError{Param: "tool result " + p.ID, Target: provider.FormatGemini,
				Reason: "it answers no tool call of the request, and Gemini needs the tool's name"}
		}
		w.begin(role)
		w.b = append(w.b, `{"functionResponse":{"name":`...)
		w.b = jsonscan.AppendQuoteFast(w.b, name)
		w.b = append(w.b, `,"response":`...)
		w.b = geminiAppendResult(w.b, p)
		w.b = append(w.b, '}')
		w.signature("")
		w.b = append(w.b, '}')
	case PartThinking:
		if role != "model" || p.Redacted != "" {
			return nil
		}
		sig, own := geminiOwnSignature(p.Signature)
		if p.Signature != "" && !own {
			return nil // another provider's reasoning: Gemini cannot use it
		}
		if p.Text == "" {
			w.sig = sig
			return nil
		}
		w.begin(role)
		w.b = append(w.b, `{"text":`...)
		w.b = jsonscan.AppendQuoteFast(w.b, p.Text)
		w.b = append(w.b, `,"thought":true`...)
		if sig != "" {
			w.b = append(w.b, `,"thoughtSignature":`...)
			w.b = jsonscan.AppendQuoteFast(w.b, sig)
		}
		w.b = append(w.b, '}')
	}
	return nil
}

// image writes an image: inline data (a data: URL too), or a URI of
// Google's own storage as fileData. Gemini fetches no other URL.
func (w *geminiContentsWriter) image(role string, p *Part) error {
	mime, data := p.MediaType, p.Data
	if data == "" && strings.HasPrefix(p.URL, "data:") {
		head, payload, ok := strings.Cut(p.URL[len("data:"):], ",")
		typ, isBase64 := strings.CutSuffix(head, ";base64")
		if !ok || !isBase64 {
			return &UnsupportedError{Param: "image_url", Target: provider.FormatGemini, Reason: "a data: URL that is not base64"}
		}
		mime, data = typ, payload
	}
	if data != "" {
		w.begin(role)
		w.b = append(w.b, `{"inlineData":{"mimeType":`...)
		w.b = jsonscan.AppendQuoteFast(w.b, mime)
		w.b = append(w.b, `,"data":`...)
		w.b = jsonscan.AppendQuoteFast(w.b, data)
		w.b = append(w.b, '}')
		w.signature("")
		w.b = append(w.b, '}')
		return nil
	}
	if p.URL == "" {
		return nil
	}
	if !strings.HasPrefix(p.URL, "gs://") && !strings.HasPrefix(p.URL, "https://generativelanguage.googleapis.com/") {
		return &UnsupportedError{Param: "image_url", Target: provider.FormatGemini,
			Reason: "Gemini reads images inline or from its own file URIs, not from a URL"}
	}
	if mime == "" {
		mime = geminiImageType(p.URL)
	}
	if mime == "" {
		return &UnsupportedError{Param: "image_url", Target: provider.FormatGemini, Reason: "Gemini needs the image's media type"}
	}
	w.begin(role)
	w.b = append(w.b, `{"fileData":{"mimeType":`...)
	w.b = jsonscan.AppendQuoteFast(w.b, mime)
	w.b = append(w.b, `,"fileUri":`...)
	w.b = jsonscan.AppendQuoteFast(w.b, p.URL)
	w.b = append(w.b, '}')
	w.signature("")
	w.b = append(w.b, '}')
	return nil
}

// geminiImageType guesses an image's media type from its URI's extension.
func geminiImageType(uri string) string {
	u := strings.ToLower(uri)
	for _, t := range [...]struct{ ext, mime string }{
		{".png", "image/png"}, {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"}, {".webp", "image/webp"},
		{".gif", "image/gif"}, {".heic", "image/heic"}, {".heif", "image/heif"},
	} {
		if strings.HasSuffix(u, t.ext) {
			return t.mime
		}
	}
	return ""
}

// geminiCallName finds the name of the call id in r.
func geminiCallName(r *Request, id string) string {
	if id == "" {
		return ""
	}
	for i := range r.Messages {
		for j := range r.Messages[i].Parts {
			if p := &r.Messages[i].Parts[j]; p.Kind == PartToolCall && p.ID == id {
				return p.Name
			}
		}
	}
	return ""
}

// geminiAppendResult appends a tool result as a functionResponse's
// response: a JSON object as it is, anything else under "output" (under
// "error" when the tool failed).
func geminiAppendResult(dst []byte, p *Part) []byte {
	text := geminiBytes(strings.TrimSpace(p.Text))
	if !p.IsError && jsonscan.IsObject(text) {
		if out, ok := geminiAppendValid(dst, text); ok {
			return out
		}
	}
	if p.IsError {
		dst = append(dst, `{"error":`...)
	} else {
		dst = append(dst, `{"output":`...)
	}
	ok := false
	if p.JSON {
		dst, ok = geminiAppendValid(dst, text)
	}
	if !ok {
		dst = jsonscan.AppendQuoteFast(dst, p.Text)
	}
	return append(dst, '}')
}

// geminiAppendValidSchema appends the JSON Schema v as
// geminiAppendJSONSchema does when v is JSON, and reports whether it was.
func geminiAppendValidSchema(dst, v []byte) ([]byte, bool) {
	// bytes.Index looks for the first byte, a quote, all over JSON: a
	// '$' is rarer.
	if bytes.IndexByte(v, '$') >= 0 && bytes.Contains(v, []byte(`"$schema"`)) {
		if !jsonscan.Valid(v) {
			return dst, false
		}
		return geminiAppendJSONSchema(dst, v), true
	}
	return geminiAppendValid(dst, v)
}

// geminiAppendJSONSchema appends the JSON Schema v compact, without a
// root "$schema" (Gemini refuses it).
func geminiAppendJSONSchema(dst, v []byte) []byte {
	if !jsonscan.IsObject(bytes.TrimSpace(v)) || !bytes.Contains(v, []byte(`"$schema"`)) {
		return geminiCompact(dst, v)
	}
	dst = append(dst, '{')
	n := 0
	it := jsonscan.Members(v)
	for it.Next() {
		if string(it.Key()) == "$schema" {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = jsonscan.AppendQuoteFast(dst, string(it.Key()))
		dst = append(dst, ':')
		dst = geminiCompact(dst, it.Value())
	}
	return append(dst, '}')
}

// geminiAppendGenerationConfig appends generationConfig (when r sets any
// of it) and closes the body.
func geminiAppendGenerationConfig(b []byte, r *Request) []byte {
	mark := len(b)
	b = append(b, `,"generationConfig":{`...)
	start := len(b)
	field := func(name string) {
		if len(b) > start {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
	}
	if r.MaxTokens > 0 {
		field("maxOutputTokens")
		b = strconv.AppendInt(b, r.MaxTokens, 10)
	}
	if r.Temperature != nil {
		field("temperature")
		b = strconv.AppendFloat(b, *r.Temperature, 'g', -1, 64)
	}
	if r.TopP != nil {
		field("topP")
		b = strconv.AppendFloat(b, *r.TopP, 'g', -1, 64)
	}
	if r.TopK != nil {
		field("topK")
		b = strconv.AppendInt(b, *r.TopK, 10)
	}
	if len(r.Stop) > 0 {
		field("stopSequences")
		b = append(b, '[')
		for i, s := range r.Stop {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonscan.AppendQuoteFast(b, s)
		}
		b = append(b, ']')
	}
	switch r.ResponseFormat {
	case "json_object":
		field("responseMimeType")
		b = append(b, `"application/json"`...)
	case "json_schema":
		field("responseMimeType")
		b = append(b, `"application/json"`...)
		if len(bytes.TrimSpace(r.ResponseSchema)) > 0 {
			before := len(b)
			field("responseJsonSchema")
			var ok bool
			if b, ok = geminiAppendValidSchema(b, r.ResponseSchema); !ok {
				b = b[:before]
			}
		}
	}
	if rs := r.Reasoning; !rs.IsZero() {
		budget, set := int64(0), true
		switch {
		case rs.Disabled:
		case rs.BudgetTokens > 0:
			budget = rs.BudgetTokens
		case rs.Effort != "":
			budget, _ = EffortBudget(rs.Effort)
		default:
			set = false
		}
		if set || rs.IncludeThoughts {
			field("thinkingConfig")
			b = append(b, '{')
			if set {
				b = append(b, `"thinkingBudget":`...)
				b = strconv.AppendInt(b, budget, 10)
			}
			if rs.IncludeThoughts && !rs.Disabled {
				if set {
					b = append(b, ',')
				}
				b = append(b, `"includeThoughts":true`...)
			}
			b = append(b, '}')
		}
	}
	if len(b) == start {
		b = b[:mark]
	} else {
		b = append(b, '}')
	}
	return append(b, '}')
}

// ---- answers ----

// geminiFinish maps a finishReason: a STOP that ends an answer holding
// function calls is FinishToolCalls (Gemini says STOP then).
func geminiFinish(reason []byte, calls bool) Finish {
	switch string(reason) {
	case "STOP":
		if calls {
			return FinishToolCalls
		}
		return FinishStop
	case "MAX_TOKENS":
		return FinishLength
	case "SAFETY", "RECITATION", "LANGUAGE", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return FinishContentFilter
	case "MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS",
		"MISSING_THOUGHT_SIGNATURE", "MALFORMED_RESPONSE":
		return FinishError
	}
	return FinishUnknown
}

// geminiFinishReason is the finishReason for f: STOP for tool calls (as
// Gemini says), SAFETY for a refusal, OTHER for an error or a reason not
// known.
func geminiFinishReason(f Finish) string {
	switch f {
	case FinishStop, FinishToolCalls:
		return "STOP"
	case FinishLength:
		return "MAX_TOKENS"
	case FinishContentFilter:
		return "SAFETY"
	}
	return "OTHER"
}

// geminiUsage reads a usageMetadata object, normalised: input is
// promptTokenCount (cached tokens included), output candidatesTokenCount
// plus thoughtsTokenCount. ok is false when it holds no count.
func geminiUsage(v []byte) (provider.Usage, bool) {
	var ch geminiChunk
	c := geminiCursor{data: v}
	ch.readUsage(&c)
	if c.done() != nil {
		return provider.Usage{}, false
	}
	return ch.usage()
}

// geminiAppendUsage appends a usageMetadata object for u.
func geminiAppendUsage(dst []byte, u provider.Usage) []byte {
	reasoning := min(u.ReasoningTokens, u.OutputTokens)
	dst = append(dst, `{"promptTokenCount":`...)
	dst = strconv.AppendInt(dst, u.InputTokens, 10)
	if c := u.OutputTokens - reasoning; c > 0 {
		dst = append(dst, `,"candidatesTokenCount":`...)
		dst = strconv.AppendInt(dst, c, 10)
	}
	dst = append(dst, `,"totalTokenCount":`...)
	dst = strconv.AppendInt(dst, u.InputTokens+u.OutputTokens, 10)
	if u.CacheReadTokens > 0 {
		dst = append(dst, `,"cachedContentTokenCount":`...)
		dst = strconv.AppendInt(dst, u.CacheReadTokens, 10)
	}
	if reasoning > 0 {
		dst = append(dst, `,"thoughtsTokenCount":`...)
		dst = strconv.AppendInt(dst, reasoning, 10)
	}
	return append(dst, '}')
}

// geminiPart is what one part of an answer says (raw values).
type geminiPart struct {
	text, sig, call  []byte
	hasText, thought bool
}

// geminiChunk is what one GenerateContentResponse says, read in one pass
// (a stream's events are read in place, without allocating): the raw
// values of its members, the parts and finishReason of its first
// candidate (the one of index 0, which a request without candidateCount
// gets), and its token counts.
type geminiChunk struct {
	parts                             []geminiPart
	finish                            []byte // the finishReason, without quotes
	model, id, feedback, created, err []byte
	// found: a candidate of index 0 was read; content: it had one.
	found, content bool
	// counts are promptTokenCount, candidatesTokenCount,
	// thoughtsTokenCount and cachedContentTokenCount.
	counts  [4]int64
	counted bool
	// seen is the last usageMetadata object readFast read, kept across
	// the chunks of a stream.
	seen geminiSeenUsage
}

// geminiSeenUsage is a usageMetadata object as it was written (raw) and
// the counts read from it. A stream repeats its usage in every chunk
// until the last: the same bytes say the same counts, and comparing them
// costs a fraction of reading them again.
type geminiSeenUsage struct {
	raw     []byte
	counts  [4]int64
	counted bool
}

// geminiSeenUsageMax bounds the usage objects kept (Gemini's take a
// hundred bytes or two).
const geminiSeenUsageMax = 512

// reset readies ch for the next chunk: what it said goes, its buffers
// (parts, seen) stay. Field by field: assigning the whole struct costs as
// much as reading a chunk's candidates.
func (ch *geminiChunk) reset() {
	ch.parts = ch.parts[:0]
	ch.finish, ch.model, ch.id, ch.feedback, ch.created, ch.err = nil, nil, nil, nil, nil, nil
	ch.found, ch.content, ch.counts, ch.counted = false, false, [4]int64{}, false
}

func (ch *geminiChunk) read(data []byte) error {
	ch.reset()
	c := geminiCursor{data: data}
	if !c.open('{') {
		return c.err
	}
	for first := true; c.next('}', &first); {
		switch string(c.key()) {
		case "candidates":
			ch.candidates(&c)
		case "usageMetadata":
			ch.counts, ch.counted = [4]int64{}, false
			ch.readUsage(&c)
		case "modelVersion":
			ch.model = c.value()
		case "responseId":
			ch.id = c.value()
		case "promptFeedback":
			ch.feedback = c.value()
		case "createTime":
			ch.created = c.value()
		case "error":
			ch.err = c.value()
		default:
			c.value()
		}
	}
	return c.done()
}

func (ch *geminiChunk) candidates(c *geminiCursor) {
	if !c.enter('[') {
		return
	}
	for first := true; c.next(']', &first); {
		if !c.enter('{') {
			continue
		}
		mark := len(ch.parts)
		var finish []byte
		index, content := int64(0), false
		for first := true; c.next('}', &first); {
			switch string(c.key()) {
			case "content":
				content = ch.readContent(c)
			case "finishReason":
				finish, _ = jsonscan.String(c.value())
			case "index":
				index, _ = jsonscan.Int(c.value())
			default:
				c.value()
			}
		}
		if index != 0 || ch.found {
			ch.parts = ch.parts[:mark]
			continue
		}
		ch.found, ch.content, ch.finish = true, content, finish
	}
}

// readContent reads a candidate's content and reports whether there was
// one.
func (ch *geminiChunk) readContent(c *geminiCursor) bool {
	if !c.enter('{') {
		return false
	}
	for first := true; c.next('}', &first); {
		if string(c.key()) != "parts" || !c.enter('[') {
			c.value()
			continue
		}
		for first := true; c.next(']', &first); {
			if !c.enter('{') {
				continue
			}
			var p geminiPart
			for first := true; c.next('}', &first); {
				switch string(c.key()) {
				case "text":
					p.text, p.hasText = c.value(), true
				case "thought":
					p.thought, _ = jsonscan.Bool(c.value())
				case "thoughtSignature":
					p.sig = c.value()
				case "functionCall":
					p.call = c.value()
				default:
					c.value()
				}
			}
			ch.parts = append(ch.parts, p)
		}
	}
	return true
}

// readUsage reads the counts of a usageMetadata object (each count's
// last; one that is not a count within provider.MaxUsageTokens is left
// out).
func (ch *geminiChunk) readUsage(c *geminiCursor) {
	if !c.enter('{') {
		return
	}
	for first := true; c.next('}', &first); {
		k := c.key()
		ch.count(k, c.value())
	}
}

// count notes the member k: v of a usageMetadata object.
func (ch *geminiChunk) count(k, v []byte) {
	i := -1
	switch string(k) {
	case "promptTokenCount":
		i = 0
	case "candidatesTokenCount":
		i = 1
	case "thoughtsTokenCount":
		i = 2
	case "cachedContentTokenCount":
		i = 3
	}
	ch.countAt(i, v)
}

// countAt notes v as count number i (see geminiChunk.counts), when it is
// one; i is -1 for another member.
func (ch *geminiChunk) countAt(i int, v []byte) {
	if n, ok := jsonscan.Int(v); ok && i >= 0 && n >= 0 && n <= provider.MaxUsageTokens {
		ch.counts[i], ch.counted = n, true
	}
}

// parse reads one GenerateContentResponse: as Gemini spells them by
// readFast, else by read.
func (ch *geminiChunk) parse(data []byte) error {
	if ch.readFast(data) {
		return nil
	}
	return ch.read(data)
}

// The fast reading below reads a chunk in one pass, an index into the
// data passed along (so that it stays in a register) and -1 for "not as
// Gemini writes it": readFast then gives up, and read reads the chunk.
// It takes members in any order, and the whitespace of Google's spelling
// ("key": value) or none, but only keys without escapes, and only the
// values it looks at as Gemini writes them.

// geminiWS returns the index of the first byte at or after i that is not
// JSON whitespace.
func geminiWS(data []byte, i int) int {
	for i < len(data) && data[i] <= ' ' && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// geminiLit reports whether data holds lit at i.
func geminiLit(data []byte, i int, lit string) bool {
	return len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit
}

// geminiKeyByte returns the first byte of the key at i (0 when there is
// none): the literals a key is compared with are those it may be.
func geminiKeyByte(data []byte, i int) byte {
	if i < 0 || i+1 >= len(data) {
		return 0
	}
	return data[i+1]
}

// geminiFastKey reads the key at i (one without escapes) and its colon:
// the key, and the index of its value (-1 when it is not one).
func geminiFastKey(data []byte, i int) ([]byte, int) {
	if i >= len(data) || data[i] != '"' {
		return nil, -1
	}
	j := geminiStop(data, i+1)
	if j >= len(data) || data[j] != '"' {
		return nil, -1
	}
	k := geminiWS(data, j+1)
	if k >= len(data) || data[k] != ':' {
		return nil, -1
	}
	return data[i+1 : j], k + 1
}

// geminiFastString reads the string value at i (past whitespace): raw,
// and the index past it; -1 when it is not a string.
func geminiFastString(data []byte, i int) ([]byte, int) {
	i = geminiWS(data, i)
	if i >= len(data) || data[i] != '"' {
		return nil, -1
	}
	end := jsonscan.StringEnd(data, i)
	if end < 0 {
		return nil, -1
	}
	return data[i:end], end
}

// geminiFastValue reads the value at i (past whitespace), raw, and the
// index past it, as jsonscan would (-1 where it would fail, or for a
// value too deep for geminiScanJSON).
func geminiFastValue(data []byte, i int) ([]byte, int) {
	i = geminiWS(data, i)
	end, _ := geminiScanJSON(data, i)
	if end < 0 {
		return nil, -1
	}
	return data[i:end], end
}

// geminiNumberEnd returns the index past the number at i, -1 when it is
// not one: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, as jsonscan
// reads numbers.
func geminiNumberEnd(data []byte, i int) int {
	digits := func(i int) int {
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
		return i
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i >= len(data) || data[i] < '0' || data[i] > '9':
		return -1
	case data[i] == '0':
		i++
	default:
		i = digits(i)
	}
	if i < len(data) && data[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

// geminiFastNext reads what follows a member or element at i (past
// whitespace): the index past a comma and the whitespace after it, more
// true; the index past close, more false; -1 for anything else.
func geminiFastNext(data []byte, i int, close byte) (int, bool) {
	i = geminiWS(data, i)
	if i >= len(data) {
		return -1, false
	}
	switch data[i] {
	case ',':
		return geminiWS(data, i+1), true
	case close:
		return i + 1, false
	}
	return -1, false
}

// geminiFastOpen returns the index past the open byte that comes at i
// (past whitespace) and the whitespace after it, -1 when it does not.
func geminiFastOpen(data []byte, i int, open byte) int {
	i = geminiWS(data, i)
	if i >= len(data) || data[i] != open {
		return -1
	}
	return geminiWS(data, i+1)
}

// readFast reads data as read does when it is spelt as Gemini spells
// its chunks, and reports whether it did: keys that need no decoding, the
// members read (candidates, content, parts, usageMetadata ...) once each
// and not null, one candidate, of index 0, and no error or
// promptFeedback. It is read's reading of the common case in a fraction
// of its time (a stream's events are most of what translating a stream
// costs); anything else is left to read, which reads the chunk from the
// start (and says what is wrong with it).
func (ch *geminiChunk) readFast(data []byte) bool {
	ch.reset()
	if i := ch.textCandidates(data); i >= 0 {
		return ch.fastMembers(data, i, true)
	}
	return ch.fastMembers(data, geminiFastOpen(data, 0, '{'), false)
}

// geminiTextHeads and geminiTextTails are how Gemini (and this codec's
// encoder) begin a chunk that holds one piece of text, up to the text,
// and write what follows the text up to the end of the candidates: most
// of a stream's chunks.
var (
	geminiTextHeads = [...]string{
		`{"candidates": [{"content": {"parts": [{"text": `,
		`{"candidates":[{"content":{"parts":[{"text":`,
		`{"candidates": [{"content": {"role": "model","parts": [{"text": `,
	}
	geminiTextTails = [...]struct {
		tail    string
		thought bool
	}{
		{`}],"role": "model"},"index": 0}]`, false},
		{`,"thought": true}],"role": "model"},"index": 0}]`, true},
		{`}],"role":"model"},"index":0}]`, false},
		{`,"thought":true}],"role":"model"},"index":0}]`, true},
		{`}]}}]`, false},
		{`,"thought": true}]}}]`, true},
	}
)

// textCandidates reads the candidates of a chunk that begins with one of
// geminiTextHeads and goes on, past the text, with one of
// geminiTextTails, and returns the index past them (-1 for another
// chunk).
func (ch *geminiChunk) textCandidates(data []byte) int {
	for _, head := range geminiTextHeads {
		if !geminiLit(data, 0, head) {
			continue
		}
		text, i := geminiFastString(data, len(head))
		if i < 0 {
			return -1
		}
		for _, t := range geminiTextTails {
			if geminiLit(data, i, t.tail) {
				ch.parts = append(ch.parts, geminiPart{text: text, hasText: true, thought: t.thought})
				ch.found, ch.content = true, true
				return i + len(t.tail)
			}
		}
		return -1
	}
	return -1
}

// fastMembers reads the top-level members from i (past the opening brace,
// or past the candidates when candidates is true) to the end.
func (ch *geminiChunk) fastMembers(data []byte, i int, candidates bool) bool {
	more := true
	if candidates {
		i, more = geminiFastNext(data, i, '}')
	}
	usage := false
	for more {
		// The keys of every chunk are compared in place (a call of
		// geminiLit compares by calling memequal).
		switch c := geminiKeyByte(data, i); {
		case i < 0:
			return false
		case c == 'u' && len(data)-i >= len(`"usageMetadata":`) && string(data[i:i+len(`"usageMetadata":`)]) == `"usageMetadata":`:
			if usage {
				return false
			}
			usage = true
			i = ch.fastUsage(data, i+len(`"usageMetadata":`))
		case c == 'm' && len(data)-i >= len(`"modelVersion":`) && string(data[i:i+len(`"modelVersion":`)]) == `"modelVersion":`:
			ch.model, i = geminiFastString(data, i+len(`"modelVersion":`))
		case c == 'r' && len(data)-i >= len(`"responseId":`) && string(data[i:i+len(`"responseId":`)]) == `"responseId":`:
			ch.id, i = geminiFastString(data, i+len(`"responseId":`))
		case c == 'c' && geminiLit(data, i, `"candidates":`):
			if candidates {
				return false
			}
			candidates = true
			i = ch.fastCandidates(data, i+len(`"candidates":`))
		default:
			var k []byte
			if k, i = geminiFastKey(data, i); i < 0 {
				return false
			}
			switch string(k) {
			case "candidates", "usageMetadata", "modelVersion", "responseId", "promptFeedback", "error":
				return false
			case "createTime":
				ch.created, i = geminiFastString(data, i)
			default:
				_, i = geminiFastValue(data, i)
			}
		}
		if i < 0 {
			return false
		}
		i, more = geminiFastNext(data, i, '}')
	}
	return i >= 0 && geminiWS(data, i) == len(data)
}

// fastCandidates reads a candidates array of one candidate, of index 0,
// at i, and returns the index past it.
func (ch *geminiChunk) fastCandidates(data []byte, i int) int {
	if i = geminiFastOpen(data, i, '['); i < 0 {
		return -1
	}
	i = geminiFastOpen(data, i, '{')
	var content, index, finish bool
	for more := true; more; {
		switch c := geminiKeyByte(data, i); {
		case i < 0:
			return -1
		case c == 'c' && geminiLit(data, i, `"content":`):
			if content {
				return -1
			}
			content = true
			i = ch.fastContent(data, i+len(`"content":`))
		case c == 'f' && geminiLit(data, i, `"finishReason":`):
			var v []byte
			v, i = geminiFastString(data, i+len(`"finishReason":`))
			if finish || i < 0 || !jsonscan.Plain(v[1:len(v)-1]) {
				return -1
			}
			ch.finish, finish = v[1:len(v)-1], true
		case c == 'i' && geminiLit(data, i, `"index":`):
			i = geminiWS(data, i+len(`"index":`))
			if index || i >= len(data) || data[i] != '0' {
				return -1
			}
			i, index = i+1, true
		default:
			var k []byte
			if k, i = geminiFastKey(data, i); i < 0 {
				return -1
			}
			switch string(k) {
			case "content", "finishReason", "index":
				return -1
			}
			_, i = geminiFastValue(data, i)
		}
		if i < 0 {
			return -1
		}
		i, more = geminiFastNext(data, i, '}')
	}
	if i < 0 {
		return -1
	}
	if i, more := geminiFastNext(data, i, ']'); i >= 0 && !more {
		ch.found, ch.content = true, content
		return i
	}
	return -1
}

// fastContent reads a candidate's content at i and returns the index
// past it.
func (ch *geminiChunk) fastContent(data []byte, i int) int {
	i = geminiFastOpen(data, i, '{')
	parts := false
	for more := true; more; {
		switch c := geminiKeyByte(data, i); {
		case i < 0:
			return -1
		case c == 'p' && geminiLit(data, i, `"parts":`):
			if parts {
				return -1
			}
			parts = true
			i = ch.fastParts(data, i+len(`"parts":`))
		default:
			var k []byte
			if k, i = geminiFastKey(data, i); i < 0 || string(k) == "parts" {
				return -1
			}
			_, i = geminiFastValue(data, i)
		}
		if i < 0 {
			return -1
		}
		i, more = geminiFastNext(data, i, '}')
	}
	return i
}

// fastParts reads a content's parts at i and returns the index past
// them.
func (ch *geminiChunk) fastParts(data []byte, i int) int {
	if i = geminiFastOpen(data, i, '['); i < 0 {
		return -1
	}
	if i < len(data) && data[i] == ']' {
		return i + 1
	}
	for more := true; more; {
		if i = geminiFastOpen(data, i, '{'); i < 0 {
			return -1
		}
		var p geminiPart
		for more := true; more; {
			switch c := geminiKeyByte(data, i); {
			case c == 't' && geminiLit(data, i, `"text":`):
				p.text, i = geminiFastString(data, i+len(`"text":`))
				p.hasText = true
			case c == 't' && geminiLit(data, i, `"thought":`):
				switch i = geminiWS(data, i+len(`"thought":`)); {
				case geminiLit(data, i, "true"):
					p.thought, i = true, i+4
				case geminiLit(data, i, "false"):
					p.thought, i = false, i+5
				default:
					return -1
				}
			case c == 't' && geminiLit(data, i, `"thoughtSignature":`):
				p.sig, i = geminiFastString(data, i+len(`"thoughtSignature":`))
			case c == 'f' && geminiLit(data, i, `"functionCall":`):
				p.call, i = geminiFastValue(data, i+len(`"functionCall":`))
			default:
				var k []byte
				if k, i = geminiFastKey(data, i); i < 0 {
					return -1
				}
				switch string(k) {
				case "text", "thought", "thoughtSignature", "functionCall":
					return -1
				}
				_, i = geminiFastValue(data, i)
			}
			if i < 0 {
				return -1
			}
			i, more = geminiFastNext(data, i, '}')
		}
		if i < 0 {
			return -1
		}
		ch.parts = append(ch.parts, p)
		i, more = geminiFastNext(data, i, ']')
	}
	return i
}

// geminiTextDetails begins the promptTokensDetails of a prompt in text
// only, as Gemini writes it, up to the count.
const geminiTextDetails = `"promptTokensDetails": [{"modality": "TEXT","tokenCount": `

// fastUsage reads a usageMetadata object at i and returns the index past
// it.
func (ch *geminiChunk) fastUsage(data []byte, i int) int {
	i = geminiWS(data, i)
	if n := len(ch.seen.raw); n > 0 && geminiLit(data, i, geminiView(ch.seen.raw)) {
		ch.counts, ch.counted = ch.seen.counts, ch.seen.counted
		return i + n
	}
	start := i
	i = geminiFastOpen(data, i, '{')
	for more := true; more; {
		var v []byte
		n := -1
		switch c := geminiKeyByte(data, i); {
		case i < 0:
			return -1
		case c == 'p' && geminiLit(data, i, `"promptTokenCount":`):
			n, i = 0, i+len(`"promptTokenCount":`)
		case c == 'c' && geminiLit(data, i, `"candidatesTokenCount":`):
			n, i = 1, i+len(`"candidatesTokenCount":`)
		case c == 't' && geminiLit(data, i, `"totalTokenCount":`):
			i += len(`"totalTokenCount":`)
		case c == 'p' && geminiLit(data, i, geminiTextDetails):
			// In every chunk of a conversation in text: read without
			// looking into it as an object.
			j := i + len(geminiTextDetails)
			k := j
			for k < len(data) && '0' <= data[k] && data[k] <= '9' {
				k++
			}
			if k > j && (data[j] != '0' || k == j+1) && geminiLit(data, k, "}]") {
				i, more = geminiFastNext(data, k+2, '}')
				continue
			}
			i += len(`"promptTokensDetails":`)
		default:
			var k []byte
			if k, i = geminiFastKey(data, i); i < 0 {
				return -1
			}
			if v, i = geminiFastValue(data, i); i < 0 {
				return -1
			}
			ch.count(k, v)
			i, more = geminiFastNext(data, i, '}')
			continue
		}
		if v, i = geminiFastValue(data, i); i < 0 {
			return -1
		}
		ch.countAt(n, v)
		i, more = geminiFastNext(data, i, '}')
	}
	if i >= 0 && i-start <= geminiSeenUsageMax {
		ch.seen = geminiSeenUsage{raw: append(ch.seen.raw[:0], data[start:i]...), counts: ch.counts, counted: ch.counted}
	}
	return i
}

// usage is the chunk's usage, normalised; ok is false when it holds no
// count.
func (ch *geminiChunk) usage() (u provider.Usage, ok bool) {
	if !ch.counted {
		return u, false
	}
	u.InputTokens = ch.counts[0]
	u.OutputTokens = ch.counts[1] + ch.counts[2]
	u.ReasoningTokens = ch.counts[2]
	u.CacheReadTokens = min(ch.counts[3], u.InputTokens)
	return u, true
}

// geminiBlocked reports whether promptFeedback says the prompt was
// blocked.
func geminiBlocked(feedback []byte) bool {
	if len(feedback) == 0 || !jsonscan.IsObject(feedback) {
		return false
	}
	r, ok := jsonscan.Get(feedback, "blockReason")
	if !ok {
		return false
	}
	s, _ := jsonscan.String(r)
	return len(s) > 0 && string(s) != "BLOCKED_REASON_UNSPECIFIED"
}

// DecodeResponse reads a GenerateContentResponse. Parts other than text,
// thoughts and function calls (an image Gemini made, code it ran) have no
// place in the shared representation and are left out.
func (geminiCodec) DecodeResponse(body []byte) (*Response, error) {
	var ch geminiChunk
	if err := ch.parse(body); err != nil {
		return nil, err
	}
	r := &Response{ID: geminiString(ch.id), Model: geminiString(ch.model)}
	if t, err := time.Parse(time.RFC3339Nano, geminiString(ch.created)); err == nil {
		r.Created = t.Unix()
	}
	calls := 0
	for _, p := range ch.parts {
		sig := ""
		if s, ok := jsonscan.String(p.sig); ok && len(s) > 0 {
			sig = geminiSignaturePrefix + string(s)
		}
		if p.thought {
			if t := geminiString(p.text); t != "" || sig != "" {
				r.Parts = append(r.Parts, Part{Kind: PartThinking, Text: t, Signature: sig})
			}
			continue
		}
		if sig != "" {
			r.Parts = append(r.Parts, Part{Kind: PartThinking, Signature: sig})
		}
		switch {
		case p.hasText:
			if t := geminiString(p.text); t != "" {
				r.Parts = append(r.Parts, Part{Kind: PartText, Text: t})
			}
		case p.call != nil && !jsonscan.IsNull(p.call):
			id, name, args, err := geminiReadCall(p.call)
			if err != nil {
				return nil, err
			}
			a := geminiArgs(nil, args)
			if len(id) == 0 {
				id = geminiAnswerCallID(nil, r.ID, calls, name, a)
			}
			r.Parts = append(r.Parts, Part{Kind: PartToolCall, ID: string(id), Name: string(name), Arguments: string(a)})
			calls++
		}
	}
	switch {
	case len(ch.finish) > 0:
		r.Finish = geminiFinish(ch.finish, calls > 0)
	case geminiBlocked(ch.feedback):
		r.Finish = FinishContentFilter
	}
	r.Usage, r.UsageKnown = ch.usage()
	return r, nil
}

// EncodeResponse writes r as a GenerateContentResponse. Thoughts are
// written as thought parts (the genai SDKs leave them out of a response's
// text): r does not say whether the caller asked for them, and a caller
// that sends them back keeps another provider's reasoning whole. Calls
// carry no id (see geminiCodec).
func (geminiCodec) EncodeResponse(r *Response) ([]byte, error) {
	n := 256
	for _, p := range r.Parts {
		n += 48 + len(p.Text) + len(p.Arguments) + len(p.Name) + len(p.Signature) + len(p.Data)
	}
	b := make([]byte, 0, n)
	b = append(b, `{"candidates":[{`...)
	mark := len(b)
	b = append(b, `"content":{"parts":[`...)
	start := len(b)
	sig := ""
	for i := range r.Parts {
		p := &r.Parts[i]
		switch p.Kind {
		case PartThinking:
			if p.Redacted != "" {
				continue
			}
			if p.Text == "" {
				sig = string(geminiAppendCallerSignature(nil, p.Signature))
				continue
			}
		case PartText:
			if p.Text == "" && sig == "" {
				continue
			}
		case PartToolCall:
		case PartImage:
			if p.Data == "" {
				continue
			}
		default:
			continue
		}
		if len(b) > start {
			b = append(b, ',')
		}
		b, sig = geminiAppendAnswerPart(b, p, sig)
	}
	if sig != "" {
		if len(b) > start {
			b = append(b, ',')
		}
		b, _ = geminiAppendAnswerPart(b, &Part{Kind: PartText}, sig)
	}
	if len(b) == start {
		b = b[:mark]
	} else {
		b = append(b, `],"role":"model"},`...)
	}
	b = append(b, `"finishReason":"`...)
	b = append(b, geminiFinishReason(r.Finish)...)
	b = append(b, `","index":0}]`...)
	if r.UsageKnown {
		b = append(b, `,"usageMetadata":`...)
		b = geminiAppendUsage(b, r.Usage)
	}
	return geminiAppendTail(b, r.Model, r.ID), nil
}

// geminiAppendAnswerPart appends one part of an answer: sig, a signature
// that came before it, goes on it. It returns what is left of sig.
func geminiAppendAnswerPart(b []byte, p *Part, sig string) ([]byte, string) {
	switch p.Kind {
	case PartThinking:
		b = append(b, `{"text":`...)
		b = jsonscan.AppendQuoteFast(b, p.Text)
		b = append(b, `,"thought":true`...)
		if p.Signature != "" {
			sig = string(geminiAppendCallerSignature(nil, p.Signature))
		}
	case PartText:
		b = append(b, `{"text":`...)
		b = jsonscan.AppendQuoteFast(b, p.Text)
	case PartToolCall:
		b = append(b, `{"functionCall":{"name":`...)
		b = jsonscan.AppendQuoteFast(b, p.Name)
		b = append(b, `,"args":`...)
		if a := []byte(p.Arguments); jsonscan.IsObject(bytes.TrimSpace(a)) && jsonscan.Valid(a) {
			b = geminiCompact(b, a)
		} else {
			b = append(b, "{}"...)
		}
		b = append(b, '}')
	case PartImage:
		b = append(b, `{"inlineData":{"mimeType":`...)
		b = jsonscan.AppendQuoteFast(b, p.MediaType)
		b = append(b, `,"data":`...)
		b = jsonscan.AppendQuoteFast(b, p.Data)
		b = append(b, '}')
	}
	if sig != "" {
		b = append(b, `,"thoughtSignature":`...)
		b = jsonscan.AppendQuoteFast(b, sig)
	}
	return append(b, '}'), ""
}

// geminiAppendTail appends modelVersion and responseId (when known) and
// closes the response.
func geminiAppendTail(b []byte, model, id string) []byte {
	if model != "" {
		b = append(b, `,"modelVersion":`...)
		b = jsonscan.AppendQuoteFast(b, model)
	}
	if id != "" {
		b = append(b, `,"responseId":`...)
		b = jsonscan.AppendQuoteFast(b, id)
	}
	return append(b, '}')
}

// ---- streams ----

// NewStreamDecoder reads a streamGenerateContent?alt=sse stream: each
// event a whole GenerateContentResponse with the new parts.
func (geminiCodec) NewStreamDecoder() StreamDecoder { return &geminiStreamDecoder{} }

// geminiStreamDecoder reads one Gemini stream. Gemini ends a stream
// without a terminator: the stack emits EventDone at its end.
type geminiStreamDecoder struct {
	ev      Event
	chunk   geminiChunk
	started bool
	calls   int
	// id is the stream's responseId (the synthesised call ids hash it).
	id         string
	usage      provider.Usage
	usageKnown bool
	// Buffers behind the strings of one emitted Event, reused.
	text, sig, args, callID, model []byte
}

func (d *geminiStreamDecoder) emit(emit func(*Event)) { emit(&d.ev) }

// Decode reads one event's data. Usage is emitted when it changes, and
// with every finish.
func (d *geminiStreamDecoder) Decode(_, data []byte, emit func(*Event)) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil
	}
	ch := &d.chunk
	if err := ch.parse(data); err != nil {
		return err
	}
	if ch.err != nil {
		d.ev = Event{Kind: EventError, Err: geminiReadError(ch.err)}
		d.emit(emit)
		return nil
	}
	u, haveUsage := ch.usage()
	if !d.started {
		d.started = true
		if s, ok := jsonscan.String(ch.id); ok {
			d.id = string(s)
		}
		d.model, _ = jsonscan.AppendString(d.model[:0], ch.model)
		d.ev = Event{Kind: EventStart, ID: d.id, Model: geminiView(d.model)}
		if haveUsage {
			d.ev.Usage, d.usage, d.usageKnown = u, u, true
		}
		d.emit(emit)
	}
	for i := range ch.parts {
		if err := d.part(&ch.parts[i], emit); err != nil {
			return err
		}
	}
	finished := false
	switch {
	case len(ch.finish) > 0:
		d.ev = Event{Kind: EventFinish, Finish: geminiFinish(ch.finish, d.calls > 0)}
		d.emit(emit)
		finished = true
	case !ch.content && geminiBlocked(ch.feedback):
		d.ev = Event{Kind: EventFinish, Finish: FinishContentFilter}
		d.emit(emit)
		finished = true
	}
	if haveUsage && (finished || !d.usageKnown || u != d.usage) {
		d.usage, d.usageKnown = u, true
		d.ev = Event{Kind: EventUsage, Usage: u}
		d.emit(emit)
	}
	return nil
}

func (d *geminiStreamDecoder) part(p *geminiPart, emit func(*Event)) error {
	sig := ""
	if len(p.sig) > 2 {
		d.sig = append(d.sig[:0], geminiSignaturePrefix...)
		d.sig, _ = jsonscan.AppendString(d.sig, p.sig)
		sig = geminiView(d.sig)
	}
	text := geminiUnquote(&d.text, p.text)
	if p.thought {
		if len(text) > 0 || sig != "" {
			d.ev = Event{Kind: EventThinking, Text: geminiView(text), Signature: sig}
			d.emit(emit)
		}
		return nil
	}
	if sig != "" {
		d.ev = Event{Kind: EventThinking, Signature: sig}
		d.emit(emit)
	}
	switch {
	case p.hasText:
		if len(text) > 0 {
			d.ev = Event{Kind: EventText, Text: geminiView(text)}
			d.emit(emit)
		}
	case p.call != nil && !jsonscan.IsNull(p.call):
		id, name, args, err := geminiReadCall(p.call)
		if err != nil {
			return err
		}
		d.args = geminiArgs(d.args[:0], args)
		if len(id) > 0 {
			d.callID = append(d.callID[:0], id...)
		} else {
			d.callID = geminiAnswerCallID(d.callID[:0], d.id, d.calls, name, d.args)
		}
		d.ev = Event{Kind: EventToolStart, Tool: d.calls, ID: geminiView(d.callID), Name: geminiView(name)}
		d.emit(emit)
		d.ev = Event{Kind: EventToolArgs, Tool: d.calls, Text: geminiView(d.args)}
		d.emit(emit)
		d.calls++
	}
	return nil
}

// geminiUnquote returns the contents of the raw string v: in place when
// it holds no escape, else decoded into *buf.
func geminiUnquote(buf *[]byte, v []byte) []byte {
	if len(v) < 2 || v[0] != '"' {
		return nil
	}
	if body := v[1 : len(v)-1]; bytes.IndexByte(body, '\\') < 0 {
		return body
	}
	*buf, _ = jsonscan.AppendString((*buf)[:0], v)
	return *buf
}

// geminiReadError reads Google's error object.
func geminiReadError(v []byte) *provider.Error {
	e := &provider.Error{}
	it := jsonscan.Members(v)
	for it.Next() {
		switch string(it.Key()) {
		case "status":
			e.Type = geminiString(it.Value())
		case "message":
			e.Message = geminiString(it.Value())
		case "details":
			dit := jsonscan.Elements(it.Value())
			for dit.Next() {
				if r, ok := jsonscan.Get(dit.Value(), "reason"); ok && e.Code == "" {
					e.Code = geminiString(r)
				}
			}
		}
	}
	return e
}

// NewStreamEncoder writes a streamGenerateContent?alt=sse stream: data
// events each a GenerateContentResponse with the usage so far,
// modelVersion and responseId; no terminator. Thoughts are written when
// req asked includeThoughts, else left out (signatures too).
//
// The genai SDKs' chats keep a streamed turn only when every event holds
// a part with content, and Gemini ends a stream on an event that has both
// its last part and its finishReason and usage. So the encoder holds back
// the last piece of text (or of thought) until the next event comes: a
// thought's signature (Anthropic's comes after its text) joins it, and the
// finish, which itself waits for the usage (OpenAI's comes after
// finish_reason) or the end, goes out with it. It holds function calls
// until their arguments are whole (Gemini sends a call in one piece), that
// is until an event that is not a call's. The bytes held are thus one
// piece of text or the calls being made.
func (geminiCodec) NewStreamEncoder(req *Request) StreamEncoder {
	s := &geminiStreamEncoder{}
	if req != nil {
		s.thoughts = req.Reasoning.IncludeThoughts
	}
	return s
}

type geminiStreamEncoder struct {
	thoughts   bool
	id, model  string
	usage      provider.Usage
	usageKnown bool
	// piece is the last text (or thought) held, with its signature.
	piece, pieceSig []byte
	havePiece       bool
	pieceThought    bool
	// sig is a signature waiting for the next part.
	sig []byte
	// calls[:ncalls] are the calls held; their buffers are reused.
	calls      []geminiHeldCall
	ncalls     int
	finish     Finish
	finishHeld bool
	// ended: the last event is written (the finish, an error, the end);
	// Encode writes nothing more.
	ended bool
	// Every event ends with the usage (usageJSON, while usageOK) and
	// modelVersion and responseId (ids, while idsOK), as written last:
	// they change rarely, and writing them again was a good part of what
	// an event costs.
	usageJSON, ids []byte
	usageOK, idsOK bool
}

type geminiHeldCall struct {
	tool      int
	name      string
	args, sig []byte
}

// Encode appends the events that say e.
func (s *geminiStreamEncoder) Encode(dst []byte, e *Event) []byte {
	if s.ended {
		return dst
	}
	switch e.Kind {
	case EventStart:
		s.id, s.model = strings.Clone(e.ID), strings.Clone(e.Model)
		if e.Usage != (provider.Usage{}) {
			s.usage, s.usageKnown = e.Usage, true
		}
		s.usageOK, s.idsOK = false, false
	case EventText:
		if e.Text == "" {
			return dst
		}
		dst = s.flush(dst, "")
		s.hold(e.Text, false)
	case EventThinking:
		if !s.thoughts {
			return dst
		}
		if e.Text == "" {
			switch {
			case e.Signature == "":
			case s.havePiece && s.pieceThought && len(s.pieceSig) == 0:
				s.pieceSig = geminiAppendCallerSignature(s.pieceSig[:0], e.Signature)
			default:
				s.sig = geminiAppendCallerSignature(s.sig[:0], e.Signature)
			}
			return dst
		}
		dst = s.flush(dst, "")
		s.hold(e.Text, true)
		if e.Signature != "" {
			s.pieceSig = geminiAppendCallerSignature(s.pieceSig[:0], e.Signature)
		}
	case EventToolStart:
		if s.havePiece {
			dst = s.flush(dst, "")
		}
		if s.ncalls == len(s.calls) {
			s.calls = append(s.calls, geminiHeldCall{})
		}
		c := &s.calls[s.ncalls]
		s.ncalls++
		c.tool, c.name, c.args = e.Tool, strings.Clone(e.Name), c.args[:0]
		c.sig, s.sig = append(c.sig[:0], s.sig...), s.sig[:0]
	case EventToolArgs:
		for i := s.ncalls - 1; i >= 0; i-- {
			if s.calls[i].tool == e.Tool {
				s.calls[i].args = append(s.calls[i].args, e.Text...)
				break
			}
		}
	case EventFinish:
		s.finish, s.finishHeld = e.Finish, true
	case EventUsage:
		if !s.usageKnown || e.Usage != s.usage {
			s.usage, s.usageKnown, s.usageOK = e.Usage, true, false
		}
		if s.finishHeld {
			dst = s.flush(dst, geminiFinishReason(s.finish))
			s.ended = true
		}
	case EventError:
		s.ncalls = 0 // their arguments may be cut short
		dst = s.flush(dst, "")
		s.ended = true
		dst = append(dst, "data: "...)
		dst = geminiAppendError(dst, e.Err)
		dst = append(dst, "\n\n"...)
	case EventDone:
		finish := ""
		if s.finishHeld {
			finish = geminiFinishReason(s.finish)
		}
		dst = s.flush(dst, finish)
		s.ended = true
	}
	return dst
}

// hold keeps text as the piece held, with the signature waiting.
func (s *geminiStreamEncoder) hold(text string, thought bool) {
	s.piece = append(s.piece[:0], text...)
	s.pieceSig, s.sig = append(s.pieceSig[:0], s.sig...), s.sig[:0]
	s.havePiece, s.pieceThought = true, thought
}

// flush writes what is held (the piece, the calls) in one event, with
// finish when not empty; nothing when nothing is held and there is no
// finish to say.
func (s *geminiStreamEncoder) flush(dst []byte, finish string) []byte {
	if !s.havePiece && s.ncalls == 0 && finish == "" {
		return dst
	}
	for i := range s.calls[:s.ncalls] {
		c := &s.calls[i]
		if len(bytes.TrimSpace(c.args)) == 0 {
			c.args = append(c.args[:0], "{}"...)
		}
		if !jsonscan.IsObject(bytes.TrimSpace(c.args)) || !jsonscan.Valid(c.args) {
			s.havePiece, s.ncalls, s.ended = false, 0, true
			dst = append(dst, "data: "...)
			dst = geminiAppendError(dst, &provider.Error{Type: "INTERNAL", Message: "aigateway: the upstream's tool call arguments are not a JSON object"})
			return append(dst, "\n\n"...)
		}
	}
	dst = append(dst, `data: {"candidates":[{`...)
	if s.havePiece || s.ncalls > 0 {
		dst = append(dst, `"content":{"parts":[`...)
		if s.havePiece {
			dst = append(dst, `{"text":`...)
			dst = jsonscan.AppendQuoteFast(dst, geminiView(s.piece))
			if s.pieceThought {
				dst = append(dst, `,"thought":true`...)
			}
			dst = geminiAppendSignature(dst, s.pieceSig)
			dst = append(dst, '}')
		}
		for i := range s.calls[:s.ncalls] {
			c := &s.calls[i]
			if i > 0 || s.havePiece {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"functionCall":{"name":`...)
			dst = jsonscan.AppendQuoteFast(dst, c.name)
			dst = append(dst, `,"args":`...)
			dst = geminiCompact(dst, c.args)
			dst = append(dst, '}')
			dst = geminiAppendSignature(dst, c.sig)
			dst = append(dst, '}')
		}
		dst = append(dst, `],"role":"model"},`...)
	}
	s.havePiece, s.ncalls = false, 0
	if finish != "" {
		dst = append(dst, `"finishReason":"`...)
		dst = append(dst, finish...)
		dst = append(dst, `",`...)
	}
	dst = append(dst, `"index":0}]`...)
	if !s.usageOK {
		s.usageJSON, s.usageOK = s.usageJSON[:0], true
		if s.usageKnown {
			s.usageJSON = append(s.usageJSON, `,"usageMetadata":`...)
			s.usageJSON = geminiAppendUsage(s.usageJSON, s.usage)
		}
	}
	if !s.idsOK {
		s.ids, s.idsOK = append(geminiAppendTail(s.ids[:0], s.model, s.id), "\n\n"...), true
	}
	dst = append(dst, s.usageJSON...)
	return append(dst, s.ids...)
}

func geminiAppendSignature(dst, sig []byte) []byte {
	if len(sig) == 0 {
		return dst
	}
	dst = append(dst, `,"thoughtSignature":`...)
	return jsonscan.AppendQuoteFast(dst, geminiView(sig))
}

// ---- errors ----

// EncodeError writes Google's error object: {"error":{"code","message",
// "status"}}, and e.Code as the reason of an ErrorInfo detail (as
// provider.NewErrorResponse writes it). The status is e.Type when it is
// one of Google's canonical codes. Else a status that says which error it
// is decides (401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 NOT_FOUND,
// 409 ABORTED, 429 RESOURCE_EXHAUSTED, 499 CANCELLED, 501 UNIMPLEMENTED,
// 503 and Anthropic's 529 UNAVAILABLE, 504 DEADLINE_EXCEEDED, other 5xx
// INTERNAL): OpenAI's types are too broad for it (invalid_request_error
// comes with 401 and 404 too). Else (a 400, another 4xx, a mid-stream
// error without a status) another format's type decides
// (invalid_request_error and request_too_large INVALID_ARGUMENT,
// authentication_error UNAUTHENTICATED, permission_error and billing_error
// PERMISSION_DENIED, not_found_error NOT_FOUND, rate_limit_error,
// insufficient_quota and OpenAI's "tokens" and "requests"
// RESOURCE_EXHAUSTED, overloaded_error UNAVAILABLE, timeout_error
// DEADLINE_EXCEEDED, api_error and server_error INTERNAL); else
// INVALID_ARGUMENT for a 4xx and INTERNAL for a mid-stream error. The code
// is e.Status, or the status's own HTTP code when e has none.
func (geminiCodec) EncodeError(e *provider.Error) []byte {
	if e == nil {
		e = &provider.Error{}
	}
	return geminiAppendError(make([]byte, 0, 128+len(e.Message)+len(e.Code)), e)
}

func geminiAppendError(dst []byte, e *provider.Error) []byte {
	if e == nil {
		e = &provider.Error{}
	}
	status := geminiErrorStatus(e)
	code := e.Status
	if code < 400 || code > 599 {
		code = geminiStatusCode(status)
	}
	msg := e.Message
	if msg == "" {
		msg = status
	}
	dst = append(dst, `{"error":{"code":`...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, `,"message":`...)
	dst = jsonscan.AppendQuoteFast(dst, msg)
	dst = append(dst, `,"status":"`...)
	dst = append(dst, status...)
	dst = append(dst, '"')
	if e.Code != "" {
		dst = append(dst, `,"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":`...)
		dst = jsonscan.AppendQuoteFast(dst, e.Code)
		dst = append(dst, `,"domain":"aigateway"}]`...)
	}
	return append(dst, "}}"...)
}

// geminiErrorStatus is the canonical status for e (see EncodeError).
func geminiErrorStatus(e *provider.Error) string {
	switch e.Type {
	case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE", "UNAUTHENTICATED",
		"PERMISSION_DENIED", "NOT_FOUND", "ABORTED", "ALREADY_EXISTS", "RESOURCE_EXHAUSTED",
		"CANCELLED", "DATA_LOSS", "UNKNOWN", "INTERNAL", "UNIMPLEMENTED", "UNAVAILABLE",
		"DEADLINE_EXCEEDED":
		return e.Type
	}
	switch s := e.Status; {
	case s == 401:
		return "UNAUTHENTICATED"
	case s == 403:
		return "PERMISSION_DENIED"
	case s == 404:
		return "NOT_FOUND"
	case s == 409:
		return "ABORTED"
	case s == 429:
		return "RESOURCE_EXHAUSTED"
	case s == 499:
		return "CANCELLED"
	case s == 501:
		return "UNIMPLEMENTED"
	case s == 503 || s == 529:
		return "UNAVAILABLE"
	case s == 504:
		return "DEADLINE_EXCEEDED"
	case s >= 500 && s <= 599:
		return "INTERNAL"
	}
	switch e.Type {
	case "invalid_request_error", "request_too_large":
		return "INVALID_ARGUMENT"
	case "authentication_error":
		return "UNAUTHENTICATED"
	case "permission_error", "request_forbidden", "billing_error":
		return "PERMISSION_DENIED"
	case "not_found_error":
		return "NOT_FOUND"
	case "rate_limit_error", "rate_limit_exceeded", "insufficient_quota", "requests", "tokens":
		return "RESOURCE_EXHAUSTED"
	case "overloaded_error":
		return "UNAVAILABLE"
	case "timeout_error":
		return "DEADLINE_EXCEEDED"
	case "api_error", "server_error":
		return "INTERNAL"
	}
	if e.Status >= 400 && e.Status <= 499 {
		return "INVALID_ARGUMENT"
	}
	return "INTERNAL"
}

// geminiStatusCode is the HTTP code of a canonical status.
func geminiStatusCode(status string) int {
	switch status {
	case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE":
		return 400
	case "UNAUTHENTICATED":
		return 401
	case "PERMISSION_DENIED":
		return 403
	case "NOT_FOUND":
		return 404
	case "ABORTED", "ALREADY_EXISTS":
		return 409
	case "RESOURCE_EXHAUSTED":
		return 429
	case "CANCELLED":
		return 499
	case "UNIMPLEMENTED":
		return 501
	case "UNAVAILABLE":
		return 503
	case "DEADLINE_EXCEEDED":
		return 504
	}
	return 500
}
