package provider

// Format is the wire format a request speaks.
type Format uint8

// The wire formats the stack recognises (from a request's method and path).
const (
	FormatUnknown           Format = iota
	FormatOpenAIChat               // POST .../chat/completions
	FormatOpenAIResponses          // POST .../responses
	FormatOpenAIEmbeddings         // POST .../embeddings
	FormatAnthropicMessages        // POST .../v1/messages
	FormatGemini                   // POST .../models/{model}:generateContent | :streamGenerateContent
)

// String returns "unknown", "openai.chat", "openai.responses",
// "openai.embeddings", "anthropic.messages" or "gemini".
func (f Format) String() string {
	switch f {
	case FormatOpenAIChat:
		return "openai.chat"
	case FormatOpenAIResponses:
		return "openai.responses"
	case FormatOpenAIEmbeddings:
		return "openai.embeddings"
	case FormatAnthropicMessages:
		return "anthropic.messages"
	case FormatGemini:
		return "gemini"
	}
	return "unknown"
}

// Operation is the gen_ai.operation.name: "chat" (chat, responses, messages),
// "embeddings", "generate_content" (gemini); "" for FormatUnknown.
func (f Format) Operation() string {
	switch f {
	case FormatOpenAIChat, FormatOpenAIResponses, FormatAnthropicMessages:
		return "chat"
	case FormatOpenAIEmbeddings:
		return "embeddings"
	case FormatGemini:
		return "generate_content"
	}
	return ""
}

// Terminated reports whether streams of this format end with an explicit
// terminator event ([DONE], message_stop, response.completed ...). Gemini
// streams simply end, and embeddings never stream: both false.
func (f Format) Terminated() bool {
	switch f {
	case FormatOpenAIChat, FormatOpenAIResponses, FormatAnthropicMessages:
		return true
	}
	return false
}
