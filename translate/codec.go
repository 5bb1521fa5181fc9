package translate

import (
	"github.com/aigateway-go/aigateway/provider"
)

// Codec is one wire format's side of translation: it reads its format into
// the shared representation and writes it back. Every translation goes
// through it, both ways: a request from the caller's format to the
// target's is the caller's DecodeRequest then the target's EncodeRequest;
// the answer comes back through the target's decoders and the caller's
// encoders. A Codec is stateless and safe for concurrent use; its stream
// decoders and encoders are one stream's each.
type Codec interface {
	// Format is the wire format it speaks.
	Format() provider.Format

	// DecodeRequest reads a request body. meta carries what the format
	// keeps outside the body (Gemini's model and stream flag are in its
	// path). A body that is not the format's request is an error.
	DecodeRequest(body []byte, meta RequestMeta) (*Request, error)
	// EncodeRequest writes r in the format, for model (the target's: it
	// replaces r.Model where the format names it in the body). A field
	// the format cannot honour is an *UnsupportedError.
	EncodeRequest(r *Request, model string) ([]byte, error)

	// DecodeResponse reads a whole (non-streamed) 2xx answer.
	DecodeResponse(body []byte) (*Response, error)
	// EncodeResponse writes a whole answer, for the caller.
	EncodeResponse(r *Response) ([]byte, error)

	// NewStreamDecoder reads one stream of the format, event by event.
	NewStreamDecoder() StreamDecoder
	// NewStreamEncoder writes one stream of the format, for the caller
	// whose request was req (an OpenAI caller gets the usage chunk only
	// when req.StreamUsage).
	NewStreamEncoder(req *Request) StreamEncoder

	// EncodeError writes the body of an error answer in the format, for
	// the caller: e's type, code and message, as the format's SDKs read
	// them (the status is the answer's own).
	EncodeError(e *provider.Error) []byte
}

// RequestMeta is what a request says outside its body.
type RequestMeta struct {
	// Model and Stream are Gemini's, from the path
	// (models/{model}:streamGenerateContent): other formats name them in
	// the body.
	Model  string
	Stream bool
	// Target is the provider the translated request goes to, when the
	// caller knows it (TranslateRequest): an encoder writes what that
	// provider takes where the format alone does not say (an Azure OpenAI
	// deployment gets max_completion_tokens whatever its name; a subset of
	// the tools reaches OpenAI as allowed_tools, the format's other
	// providers as the subset's tools alone). Decoders do not read it.
	Target provider.Provider
}

// targetEncoder is a Codec whose request depends on the target provider,
// not only on its format and model (OpenAI chat: see RequestMeta.Target).
type targetEncoder interface {
	encodeRequestFor(r *Request, model string, target provider.Provider) ([]byte, error)
}

// StreamDecoder reads one upstream stream, one SSE event at a time.
type StreamDecoder interface {
	// Decode reads one event (name is its "event:" field, empty when
	// none; data its data) and calls emit for each thing it says, in
	// order, with an Event it reuses: emit must copy what it keeps. The
	// format's terminator emits EventDone. An event that is not the
	// format's is an error (the stream is then cut).
	Decode(name, data []byte, emit func(*Event)) error
}

// StreamEncoder writes one stream in the caller's format.
type StreamEncoder interface {
	// Encode appends to dst the SSE events (whole, each ended by its blank
	// line) that say e, and returns dst. It holds back only what its
	// format must see more of first (OpenAI's usage comes after
	// finish_reason: Anthropic's message_delta waits for it), never a
	// piece of text or arguments. EventDone flushes what it held and
	// writes the format's terminator; Encode writes nothing after it.
	Encode(dst []byte, e *Event) []byte
}

// For returns the Codec of wire format f, and nil for a format translation
// does not speak (embeddings, OpenAI's Responses API).
func For(f provider.Format) Codec {
	switch f {
	case provider.FormatOpenAIChat:
		return openAICodec{}
	case provider.FormatAnthropicMessages:
		return anthropicCodec{}
	case provider.FormatGemini:
		return geminiCodec{}
	}
	return nil
}
