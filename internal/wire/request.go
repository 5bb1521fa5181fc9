package wire

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
	"github.com/aigateway-go/aigateway/provider"
)

// Request holds the facts read from a request body (and, for Gemini, the path).
type Request struct {
	Model        string
	Stream       bool
	MaxTokens    int64 // max_tokens | max_completion_tokens | max_output_tokens | generationConfig.maxOutputTokens; 0 if absent
	IncludeUsage bool  // stream_options.include_usage is true
}

// ErrNotJSONObject is wrapped by the errors of ParseRequest and
// WithStreamUsage when the body is not one well-formed JSON object
// (a truncated body is not).
var ErrNotJSONObject = errors.New("provider: request body is not a JSON object")

// ErrAmbiguousRequest is wrapped by the error of ParseRequest for a body
// with a top-level key that spells one of the members it reads in another
// case ("Stream", "MODEL"): OpenAI, Anthropic and Google read keys exactly,
// but a server decoding with Go's encoding/json (Ollama, many
// OpenAI-compatible proxies) folds case, so the stack cannot know which
// reading the upstream makes. Such a body is left unparsed: it goes upstream
// as it is, uncached, its usage read from the answer.
var ErrAmbiguousRequest = errors.New("provider: request body has a key that differs from a known one only in case")

// requestKeys are the top-level members ParseRequest reads.
var requestKeys = [...]string{"model", "stream", "max_tokens", "max_completion_tokens", "max_output_tokens",
	"stream_options", "generationConfig", "generation_config"}

// requestKeyLengths has bit n set for the length n of each of requestKeys.
const requestKeyLengths = 1<<len("model") | 1<<len("stream") | 1<<len("max_tokens") |
	1<<len("max_completion_tokens") | 1<<len("max_output_tokens") | 1<<len("stream_options") |
	1<<len("generationConfig") | 1<<len("generation_config")

// readsOtherCase reports whether key is one of requestKeys in another case,
// as encoding/json folds case: as bytes.EqualFold does, which also folds
// two non-ASCII letters to ASCII ones, the long s ("ſtream" is "stream")
// and the Kelvin sign ("max_to\u212aens" is "max_tokens").
func readsOtherCase(key []byte) bool {
	// Every one of requestKeys starts with m, s or g, which fold to no
	// other letter but the long s (0xC5 0xBF in UTF-8): most other keys
	// (tools, temperature, user ...) are told apart by their first byte.
	if len(key) == 0 {
		return false
	}
	if c := key[0] | 0x20; c != 'm' && c != 's' && c != 'g' && key[0] != 0xC5 {
		return false
	}
	if !isASCII(key) {
		if len(key) > maxFoldedKey {
			return false
		}
		for _, k := range requestKeys {
			if bytes.EqualFold(key, []byte(k)) {
				return true
			}
		}
		return false
	}
	// An ASCII key folds only to one of its own length: most that are
	// left (messages, metadata, seed ...) have none of theirs.
	if len(key) >= 32 || requestKeyLengths>>len(key)&1 == 0 {
		return false
	}
	for _, k := range requestKeys {
		if len(key) == len(k) && string(key) != k && foldEqual(key, k) {
			return true
		}
	}
	return false
}

// maxFoldedKey bounds the non-ASCII keys readsOtherCase folds: a letter
// that folds to an ASCII one takes at most three bytes, and the longest
// of requestKeys has 21.
const maxFoldedKey = 3 * len("max_completion_tokens")

// isASCII reports whether b has no byte above 0x7f.
func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// foldEqual reports whether b and s, both ASCII, are equal under ASCII
// case folding.
func foldEqual(b []byte, s string) bool {
	for i := range len(s) {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}

// ParseRequest reads the request facts without encoding/json. It returns an
// error when body is not a JSON object; the whole body is checked, so a
// truncated one is an error.
//
// It reads the top-level members model, stream, stream_options.include_usage
// and the output token limit, whatever f is. Keys are read as the provider
// reads them: by their decoded value ("str\u0065am" is "stream"), and the
// last of duplicate keys wins; a member of the wrong type counts as absent.
// The limit is the first non-zero one of max_completion_tokens, max_tokens,
// max_output_tokens (Responses) and generationConfig.maxOutputTokens (Gemini;
// also spelled generation_config, max_output_tokens), in that order whatever
// their order in the body. For FormatGemini the model and the stream flag
// come from the path (.../models/{model}:streamGenerateContent streams). It
// allocates at most the model string, and not even that for a model name
// it read lately. A key that differs from one of these
// only in case makes the body ambiguous (ErrAmbiguousRequest).
func ParseRequest(f provider.Format, u *url.URL, body []byte) (Request, error) {
	var r Request
	var model, maxTokens, maxCompletion, maxOutput, genConfig, genConfigSnake []byte
	it := jsonscan.Members(body)
	for it.Next() {
		v := it.Value()
		switch string(it.Key()) {
		case "model":
			model = v
		case "stream":
			r.Stream, _ = jsonscan.Bool(v)
		case "max_tokens":
			maxTokens = v
		case "max_completion_tokens":
			maxCompletion = v
		case "max_output_tokens":
			maxOutput = v
		case "stream_options":
			r.IncludeUsage = false
			if jsonscan.IsObject(v) {
				if b, ok := jsonscan.Get(v, "include_usage"); ok {
					r.IncludeUsage, _ = jsonscan.Bool(b)
				}
			}
		case "generationConfig":
			genConfig = v
		case "generation_config":
			genConfigSnake = v
		default:
			if k := it.Key(); readsOtherCase(k) {
				return Request{}, fmt.Errorf("%w: %q", ErrAmbiguousRequest, string(k))
			}
		}
	}
	if err := it.Err(); err != nil {
		return Request{}, fmt.Errorf("%w: %w", ErrNotJSONObject, err)
	}
	if s, ok := jsonscan.String(model); ok {
		r.Model = internModel(s)
	}
	for _, v := range [...][]byte{maxCompletion, maxTokens, maxOutput, generationLimit(genConfig), generationLimit(genConfigSnake)} {
		if n, _ := jsonscan.Int(v); n != 0 {
			r.MaxTokens = n
			break
		}
	}
	if f == provider.FormatGemini && u != nil {
		if model, stream, ok := geminiPath(u.Path); ok {
			// The path is decoded: %FF is a byte no model name holds.
			r.Model, r.Stream = strings.ToValidUTF8(model, "\uFFFD"), stream
		}
	}
	return r, nil
}

// generationLimit returns the raw maxOutputTokens (or max_output_tokens) of
// a Gemini generationConfig value, nil when absent.
func generationLimit(cfg []byte) []byte {
	if !jsonscan.IsObject(cfg) {
		return nil
	}
	if v, ok := jsonscan.Get(cfg, "maxOutputTokens"); ok {
		return v
	}
	v, _ := jsonscan.Get(cfg, "max_output_tokens")
	return v
}

const (
	includeUsageMember = `"include_usage":true`
	streamUsageMember  = `"stream_options":{"include_usage":true}`
)

// WithStreamUsage returns body with stream_options.include_usage set to true
// (other stream_options members kept), as a new slice; body is not modified.
// stream_options may be absent, null or an object; any other value is
// replaced. Keys are matched by their decoded value, and with duplicate
// keys the last one, which JSON decoders use, is the one changed, so that
// the member the provider reads is the one edited. It returns an error wrapping ErrNotJSONObject when body is
// not a JSON object.
func WithStreamUsage(body []byte) ([]byte, error) {
	it := jsonscan.Members(body)
	var opts []byte
	optsOff := -1
	for it.Next() {
		if string(it.Key()) == "stream_options" {
			opts, optsOff = it.Value(), it.ValueOffset()
		}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotJSONObject, err)
	}
	if optsOff < 0 {
		// Add the member after the last non-space byte before '}'.
		end := it.CloseOffset()
		k := end
		for k > 0 && isSpace(body[k-1]) {
			k--
		}
		if body[k-1] == '{' {
			return splice(body, k, k, streamUsageMember), nil
		}
		return splice(body, k, k, ","+streamUsageMember), nil
	}
	optsEnd := optsOff + len(opts)
	if !jsonscan.IsObject(opts) {
		return splice(body, optsOff, optsEnd, "{"+includeUsageMember+"}"), nil
	}
	in := jsonscan.Members(opts)
	valOff, valEnd, members := -1, -1, false
	for in.Next() {
		members = true
		if string(in.Key()) == "include_usage" {
			valOff, valEnd = optsOff+in.ValueOffset(), optsOff+in.ValueOffset()+len(in.Value())
		}
	}
	if valOff >= 0 {
		return splice(body, valOff, valEnd, "true"), nil
	}
	if members {
		return splice(body, optsOff+1, optsOff+1, includeUsageMember+","), nil
	}
	return splice(body, optsOff, optsEnd, "{"+includeUsageMember+"}"), nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// splice returns a new slice: body with body[from:to] replaced by s.
func splice(body []byte, from, to int, s string) []byte {
	out := make([]byte, 0, len(body)-(to-from)+len(s))
	out = append(out, body[:from]...)
	out = append(out, s...)
	return append(out, body[to:]...)
}

// neutral lists, per format, the top-level request members that do not
// change the answer (docs/wire.md): how it is delivered (stream,
// stream_options), what the provider keeps of it (store, metadata,
// prompt_cache_key), the service tier and who asks (user,
// safety_identifier).
var neutral = [...]func(key []byte) bool{
	provider.FormatOpenAIChat: members("stream", "stream_options", "store", "metadata", "service_tier",
		"user", "safety_identifier", "prompt_cache_key"),
	provider.FormatOpenAIResponses: members("stream", "stream_options", "store", "metadata", "service_tier",
		"user", "safety_identifier", "prompt_cache_key"),
	provider.FormatOpenAIEmbeddings:  members("user"),
	provider.FormatAnthropicMessages: members("stream", "metadata", "service_tier"),
	provider.FormatGemini:            members(),
}

// members returns a test for a member name among names (no allocation:
// a map index by string(key) copies nothing).
func members(names ...string) func(key []byte) bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return func(key []byte) bool { return m[string(key)] }
}

// AnswerNeutral returns the test of the top-level members of a request
// body in format f that do not change the answer (the stream flag,
// stream_options, store, metadata, service_tier, user ...; none for
// Gemini): a cache leaves them out of its key. It is nil for
// FormatUnknown, whose members are all kept.
func AnswerNeutral(f provider.Format) func(key []byte) bool {
	if int(f) < len(neutral) {
		return neutral[f]
	}
	return nil
}

// Background reports whether a request body in format f asks to run in
// the background (a Responses request with "background": true): its answer
// is a job handle to poll, not the answer.
func Background(f provider.Format, body []byte) bool {
	if f != provider.FormatOpenAIResponses {
		return false
	}
	v, ok := jsonscan.Get(body, "background")
	return ok && string(v) == "true"
}
