package llmtest

import (
	"bytes"
	"encoding/json"
	"strings"
)

// api is the wire format a request speaks, recognised from its path.
type api uint8

const (
	apiUnknown    api = iota
	apiChat           // .../chat/completions
	apiResponses      // .../responses
	apiEmbeddings     // .../embeddings
	apiMessages       // .../messages
	apiGemini         // .../models/{model}:generateContent | :streamGenerateContent
)

// String returns the name the provider package uses for the same format.
func (a api) String() string {
	switch a {
	case apiChat:
		return "openai.chat"
	case apiResponses:
		return "openai.responses"
	case apiEmbeddings:
		return "openai.embeddings"
	case apiMessages:
		return "anthropic.messages"
	case apiGemini:
		return "gemini"
	}
	return ""
}

// detectAPI recognises the format from the URL path. For Gemini it also
// returns the model named in the path and whether the method streams.
func detectAPI(path string) (a api, model string, stream bool) {
	switch {
	case strings.HasSuffix(path, "/chat/completions"):
		return apiChat, "", false
	case strings.HasSuffix(path, "/responses"):
		return apiResponses, "", false
	case strings.HasSuffix(path, "/embeddings"):
		return apiEmbeddings, "", false
	case strings.HasSuffix(path, "/messages"):
		return apiMessages, "", false
	}
	i := strings.LastIndex(path, "/models/")
	if i < 0 {
		return apiUnknown, "", false
	}
	rest := path[i+len("/models/"):]
	model, method, ok := strings.Cut(rest, ":")
	if !ok || model == "" || strings.Contains(model, "/") {
		return apiUnknown, "", false
	}
	switch method {
	case "generateContent":
		return apiGemini, model, false
	case "streamGenerateContent":
		return apiGemini, model, true
	}
	return apiUnknown, "", false
}

// fields are the request facts the fake answers from.
type fields struct {
	model        string
	hasModel     bool
	stream       bool
	maxTokens    int64 // 0: absent
	hasMaxTokens bool
	includeUsage bool
	base64       bool  // embeddings: encoding_format "base64"
	dimensions   int64 // embeddings: 0 = default
	inputs       [][]byte
	hasInput     bool

	conv conversation // chat formats: tools offered, tool turns, rules broken
	// Thinking as the request sets it.
	thinkingOn        bool  // Anthropic: thinking.type "enabled" or "adaptive"
	thinkingEnabled   bool  // Anthropic: thinking.type "enabled", which needs a budget
	thinkingBudget    int64 // Anthropic: thinking.budget_tokens, with type "enabled"
	hasThinkingBudget bool
	thinkingOff       bool // OpenAI: reasoning effort "none"; Gemini: thinkingBudget 0
	includeThoughts   bool // Gemini: thinkingConfig.includeThoughts
}

// parseFields reads the fields of a of body. ok is false when body is not
// a JSON object.
func parseFields(a api, body []byte) (f fields, ok bool) {
	s := jsonScan{b: body}
	f.conv.lastAssistant = -1
	chat := a == apiChat || a == apiMessages || a == apiGemini
	ok = s.object(func(key []byte) bool {
		switch string(key) {
		case "messages":
			switch a {
			case apiChat:
				return s.chatMessages(&f.conv)
			case apiMessages:
				return s.anthropicMessages(&f.conv)
			}
			return s.skip()
		case "contents":
			if a != apiGemini {
				return s.skip()
			}
			return s.geminiContents(&f.conv)
		case "tools":
			if !chat {
				return s.skip()
			}
			var ok bool
			f.conv.offersTools, ok = s.nonEmptyArray()
			return ok
		case "thinking":
			if a != apiMessages || s.peek() != '{' {
				return s.skip()
			}
			return s.object(func(key []byte) bool {
				switch string(key) {
				case "type":
					if v, ok := s.stringValue(); ok {
						f.thinkingEnabled = v == "enabled"
						f.thinkingOn = f.thinkingEnabled || v == "adaptive"
						return true
					}
				case "budget_tokens":
					if n, ok := s.intValue(); ok {
						f.thinkingBudget, f.hasThinkingBudget = n, true
						return true
					}
				}
				return s.skip()
			})
		case "reasoning_effort":
			if a != apiChat {
				return s.skip()
			}
			v, ok := s.stringValue()
			f.thinkingOff = ok && v == "none"
			return ok || s.skip()
		case "reasoning":
			if a != apiResponses || s.peek() != '{' {
				return s.skip()
			}
			return s.object(func(key []byte) bool {
				if string(key) == "effort" {
					if v, ok := s.stringValue(); ok {
						f.thinkingOff = v == "none"
						return true
					}
				}
				return s.skip()
			})
		case "model":
			v, ok := s.stringValue()
			f.model, f.hasModel = v, ok && v != ""
			return ok || s.skip()
		case "stream":
			if v, ok := s.boolValue(); ok {
				f.stream = v
				return true
			}
			return s.skip()
		case "max_tokens", "max_completion_tokens", "max_output_tokens":
			if a == apiMessages && string(key) != "max_tokens" {
				return s.skip()
			}
			if n, ok := s.intValue(); ok {
				f.maxTokens, f.hasMaxTokens = n, true
				return true
			}
			return s.skip()
		case "stream_options":
			if s.peek() != '{' {
				return s.skip()
			}
			return s.object(func(key []byte) bool {
				if string(key) == "include_usage" {
					if v, ok := s.boolValue(); ok {
						f.includeUsage = v
						return true
					}
				}
				return s.skip()
			})
		case "generationConfig", "generation_config":
			if a != apiGemini || s.peek() != '{' {
				return s.skip()
			}
			return s.object(func(key []byte) bool {
				switch string(key) {
				case "maxOutputTokens", "max_output_tokens":
					if n, ok := s.intValue(); ok {
						f.maxTokens, f.hasMaxTokens = n, true
						return true
					}
				case "thinkingConfig", "thinking_config":
					if s.peek() == '{' {
						return s.geminiThinking(&f)
					}
				}
				return s.skip()
			})
		case "encoding_format":
			v, ok := s.stringValue()
			f.base64 = ok && v == "base64"
			return ok || s.skip()
		case "dimensions":
			if n, ok := s.intValue(); ok {
				f.dimensions = n
				return true
			}
			return s.skip()
		case "input":
			if a != apiEmbeddings {
				return s.skip()
			}
			f.hasInput = true
			return s.embeddingInputs(&f.inputs)
		}
		return s.skip()
	})
	if ok {
		s.ws()
		ok = s.i == len(s.b)
	}
	return f, ok
}

// geminiThinking reads a generationConfig.thinkingConfig.
func (s *jsonScan) geminiThinking(f *fields) bool {
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "includeThoughts", "include_thoughts":
			if v, ok := s.boolValue(); ok {
				f.includeThoughts = v
				return true
			}
		case "thinkingBudget", "thinking_budget":
			if n, ok := s.intValue(); ok {
				f.thinkingOff = n == 0
				return true
			}
		}
		return s.skip()
	})
}

// jsonScan walks JSON without building values. Each method starts at the
// current position (after whitespace) and leaves it after what it read.
type jsonScan struct {
	b []byte
	i int
}

func (s *jsonScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jsonScan) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// object calls member for each key; member must consume the value.
func (s *jsonScan) object(member func(key []byte) bool) bool {
	if s.peek() != '{' {
		return false
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return true
	}
	for {
		s.ws()
		key, _, ok := s.rawString()
		if !ok || s.peek() != ':' {
			return false
		}
		s.i++
		s.ws()
		if !member(key) {
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// array calls elem for each element; elem must consume it.
func (s *jsonScan) array(elem func() bool) bool {
	if s.peek() != '[' {
		return false
	}
	s.i++
	if s.peek() == ']' {
		s.i++
		return true
	}
	for {
		s.ws()
		if !elem() {
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return true
		default:
			return false
		}
	}
}

// rawString reads a string and returns its contents, escapes undecoded.
func (s *jsonScan) rawString() (raw []byte, escaped, ok bool) {
	if s.peek() != '"' {
		return nil, false, false
	}
	start := s.i + 1
	i := start
	for {
		q := bytes.IndexByte(s.b[i:], '"')
		if q < 0 {
			return nil, false, false
		}
		q += i
		// The quote ends the string unless an odd run of backslashes escapes it.
		bs := 0
		for j := q - 1; j >= start && s.b[j] == '\\'; j-- {
			bs++
		}
		if bs > 0 || (!escaped && bytes.IndexByte(s.b[i:q], '\\') >= 0) {
			escaped = true
		}
		if bs%2 == 0 {
			s.i = q + 1
			return s.b[start:q], escaped, true
		}
		i = q + 1
	}
}

// stringValue reads a string value; false (position unchanged) if the
// value is not a string.
func (s *jsonScan) stringValue() (string, bool) {
	start := s.i
	raw, escaped, ok := s.rawString()
	if !ok {
		s.i = start
		return "", false
	}
	if !escaped {
		return string(raw), true
	}
	var v string
	if json.Unmarshal(s.b[start:s.i], &v) != nil {
		s.i = start
		return "", false
	}
	return v, true
}

// boolValue reads true or false; false (position unchanged) otherwise.
func (s *jsonScan) boolValue() (v, ok bool) {
	s.ws()
	switch {
	case bytes.HasPrefix(s.b[s.i:], litTrue):
		s.i += 4
		return true, true
	case bytes.HasPrefix(s.b[s.i:], litFalse):
		s.i += 5
		return false, true
	}
	return false, false
}

// intValue reads a non-negative integer; false (position unchanged) for
// anything else.
func (s *jsonScan) intValue() (int64, bool) {
	s.ws()
	start := s.i
	var n int64
	i := s.i
	for ; i < len(s.b) && s.b[i] >= '0' && s.b[i] <= '9'; i++ {
		if n > (1<<62)/10 {
			return 0, false
		}
		n = n*10 + int64(s.b[i]-'0')
	}
	if i == start || (i < len(s.b) && (s.b[i] == '.' || s.b[i] == 'e' || s.b[i] == 'E')) {
		return 0, false
	}
	s.i = i
	return n, true
}

// skip consumes any one value.
func (s *jsonScan) skip() bool {
	switch c := s.peek(); {
	case c == '{':
		return s.object(func([]byte) bool { return s.skip() })
	case c == '[':
		return s.array(s.skip)
	case c == '"':
		_, _, ok := s.rawString()
		return ok
	case c == 't':
		return s.literal(litTrue)
	case c == 'f':
		return s.literal(litFalse)
	case c == 'n':
		return s.literal(litNull)
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return false
}

var (
	litTrue  = []byte("true")
	litFalse = []byte("false")
	litNull  = []byte("null")
)

func (s *jsonScan) literal(lit []byte) bool {
	if !bytes.HasPrefix(s.b[s.i:], lit) {
		return false
	}
	s.i += len(lit)
	return true
}

func (s *jsonScan) number() bool {
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if digits() == 0 {
		s.i = start
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// embeddingInputs reads the embeddings "input": a string, an array of
// strings, an array of tokens (one input) or an array of token arrays.
// Each input is kept as its raw JSON, which seeds its vector.
func (s *jsonScan) embeddingInputs(out *[][]byte) bool {
	start := s.i
	switch s.peek() {
	case '"':
		if _, _, ok := s.rawString(); !ok {
			return false
		}
		*out = append(*out, s.b[start:s.i])
		return true
	case '[':
	default:
		return s.skip()
	}
	tokens := false
	ok := s.array(func() bool {
		c := s.peek()
		if c == '-' || (c >= '0' && c <= '9') {
			tokens = true
			return s.number()
		}
		elem := s.i
		if !s.skip() {
			return false
		}
		*out = append(*out, s.b[elem:s.i])
		return true
	})
	if ok && tokens {
		*out = append((*out)[:0], s.b[start:s.i])
	}
	return ok
}
