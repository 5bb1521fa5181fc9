package wire

import (
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/aigateway-go/aigateway/provider"
)

// Detect recognises the provider and wire format of a request: from the host
// when it is a known provider's, else from the path (a fake on 127.0.0.1
// speaking OpenAI chat is OpenAI, one speaking Anthropic messages is
// Anthropic, one speaking generateContent is Gemini). Only POST requests are
// recognised: anything else is (Provider{}, FormatUnknown).
//
// On a known host an unrecognised path (file uploads, audio, batches) gives
// the provider with FormatUnknown. The format comes from the path:
// .../chat/completions, .../responses, .../embeddings, .../messages,
// .../models/{model}:generateContent and :streamGenerateContent; so Gemini's
// OpenAI-compatible endpoint (/v1beta/openai/chat/completions) is OpenAI chat
// spoken by Gemini.
//
// Detect allocates nothing, except for an Azure OpenAI host, whose
// Provider carries the resource's base URL.
func Detect(method string, u *url.URL) (provider.Provider, provider.Format) {
	if u == nil || !(method == http.MethodPost || len(method) == 4 && strings.EqualFold(method, http.MethodPost)) {
		return provider.Provider{}, provider.FormatUnknown
	}
	f := formatOf(u.Path)
	if p, ok := provider.ByURL(u); ok {
		return p, f
	}
	switch f {
	case provider.FormatOpenAIChat, provider.FormatOpenAIResponses, provider.FormatOpenAIEmbeddings:
		return provider.OpenAI, f
	case provider.FormatAnthropicMessages:
		return provider.Anthropic, f
	case provider.FormatGemini:
		return provider.Gemini, f
	}
	return provider.Provider{}, provider.FormatUnknown
}

// formatOf tells the wire format from a request path: the decoded path,
// cleaned of empty and dot segments as the servers in front of the
// providers clean it ("/v1//chat/completions", "/v1/x/../chat/completions").
func formatOf(p string) provider.Format {
	if strings.Contains(p, "//") || strings.Contains(p, "/.") {
		p = path.Clean(p)
	}
	if len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return formatOfClean(p)
}

func formatOfClean(path string) provider.Format {
	switch {
	case strings.HasSuffix(path, "/chat/completions"):
		return provider.FormatOpenAIChat
	case strings.HasSuffix(path, "/responses"):
		return provider.FormatOpenAIResponses
	case strings.HasSuffix(path, "/embeddings"):
		return provider.FormatOpenAIEmbeddings
	case strings.HasSuffix(path, "/messages"):
		// OpenAI's Assistants API has /threads/{id}/messages.
		if strings.Contains(path, "/threads/") {
			return provider.FormatUnknown
		}
		return provider.FormatAnthropicMessages
	}
	if _, _, ok := geminiPath(path); ok {
		return provider.FormatGemini
	}
	return provider.FormatUnknown
}

// geminiPath splits .../models/{model}:generateContent or
// :streamGenerateContent into the model and whether it streams.
func geminiPath(path string) (model string, stream, ok bool) {
	i := strings.LastIndex(path, "/models/")
	if i < 0 {
		return "", false, false
	}
	rest := path[i+len("/models/"):]
	c := strings.LastIndexByte(rest, ':')
	if c <= 0 || strings.IndexByte(rest[:c], '/') >= 0 {
		return "", false, false
	}
	switch rest[c+1:] {
	case "generateContent":
		return rest[:c], false, true
	case "streamGenerateContent":
		return rest[:c], true, true
	}
	return "", false, false
}

// Family returns the provider family that speaks format f as it is: the
// Format a Provider's Family reports. Anthropic messages and Gemini are
// their own; every OpenAI format (and FormatUnknown) is spoken by the
// OpenAI-compatible family, FormatOpenAIChat.
func Family(f provider.Format) provider.Format {
	switch f {
	case provider.FormatAnthropicMessages, provider.FormatGemini:
		return f
	}
	return provider.FormatOpenAIChat
}
