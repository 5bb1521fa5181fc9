package provider

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
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

// ParseRequest reads the request facts without encoding/json. It returns an
// error when body is not a JSON object; the whole body is checked, so a
// truncated one is an error.
//
// It reads the top-level members model, stream, max_tokens,
// max_completion_tokens (preferred when both are given), max_output_tokens
// (Responses), generationConfig.maxOutputTokens (Gemini) and
// stream_options.include_usage, whatever f is. For FormatGemini the model and
// the stream flag come from the path (.../models/{model}:streamGenerateContent
// streams). It allocates at most the model string.
func ParseRequest(f Format, u *url.URL, body []byte) (Request, error) {
	var r Request
	var maxTokens, maxCompletion int64
	it := jsonscan.Members(body)
	for it.Next() {
		v := it.Value()
		switch string(it.Key()) {
		case "model":
			if s, ok := jsonscan.String(v); ok && string(s) != r.Model {
				r.Model = string(s)
			}
		case "stream":
			r.Stream, _ = jsonscan.Bool(v)
		case "max_tokens", "max_output_tokens":
			maxTokens, _ = jsonscan.Int(v)
		case "max_completion_tokens":
			maxCompletion, _ = jsonscan.Int(v)
		case "stream_options":
			r.IncludeUsage = false
			if jsonscan.IsObject(v) {
				if b, ok := jsonscan.Get(v, "include_usage"); ok {
					r.IncludeUsage, _ = jsonscan.Bool(b)
				}
			}
		case "generationConfig", "generation_config":
			if jsonscan.IsObject(v) {
				g := jsonscan.Members(v)
				for g.Next() {
					if k := string(g.Key()); k == "maxOutputTokens" || k == "max_output_tokens" {
						maxTokens, _ = jsonscan.Int(g.Value())
					}
				}
			}
		}
	}
	if err := it.Err(); err != nil {
		return Request{}, fmt.Errorf("%w: %w", ErrNotJSONObject, err)
	}
	r.MaxTokens = maxTokens
	if maxCompletion != 0 {
		r.MaxTokens = maxCompletion
	}
	if f == FormatGemini && u != nil {
		if model, stream, ok := geminiPath(u.Path); ok {
			r.Model, r.Stream = model, stream
		}
	}
	return r, nil
}

const (
	includeUsageMember = `"include_usage":true`
	streamUsageMember  = `"stream_options":{"include_usage":true}`
)

// WithStreamUsage returns body with stream_options.include_usage set to true
// (other stream_options members kept), as a new slice; body is not modified.
// stream_options may be absent, null or an object; any other value is
// replaced. With duplicate keys the last one, which JSON decoders use, is
// the one changed. It returns an error wrapping ErrNotJSONObject when body is
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
