package provider

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// knownHosts maps the API hosts of the presets to them. Azure's resource
// hosts are matched by suffix in Detect.
var knownHosts = [...]struct {
	host string
	p    *Provider
}{
	{"api.openai.com", &OpenAI},
	{"api.anthropic.com", &Anthropic},
	{"generativelanguage.googleapis.com", &Gemini},
	{"api.groq.com", &Groq},
	{"api.mistral.ai", &Mistral},
	{"api.deepseek.com", &DeepSeek},
	{"api.together.xyz", &Together},
	{"api.together.ai", &Together},
	{"openrouter.ai", &OpenRouter},
	{"api.x.ai", &XAI},
	{"api.fireworks.ai", &Fireworks},
}

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
func Detect(method string, u *url.URL) (Provider, Format) {
	if u == nil || !(method == http.MethodPost || len(method) == 4 && strings.EqualFold(method, http.MethodPost)) {
		return Provider{}, FormatUnknown
	}
	f := formatOf(u.Path)
	host := u.Hostname()
	for _, k := range knownHosts {
		if len(host) == len(k.host) && strings.EqualFold(host, k.host) {
			return *k.p, f
		}
	}
	if hasSuffixFold(host, ".openai.azure.com") {
		return azureOf(u), f
	}
	switch f {
	case FormatOpenAIChat, FormatOpenAIResponses, FormatOpenAIEmbeddings:
		return OpenAI, f
	case FormatAnthropicMessages:
		return Anthropic, f
	case FormatGemini:
		return Gemini, f
	}
	return Provider{}, FormatUnknown
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// formatOf tells the wire format from a request path: the decoded path,
// cleaned of empty and dot segments as the servers in front of the
// providers clean it ("/v1//chat/completions", "/v1/x/../chat/completions").
func formatOf(p string) Format {
	if strings.Contains(p, "//") || strings.Contains(p, "/.") {
		p = path.Clean(p)
	}
	if len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return formatOfClean(p)
}

func formatOfClean(path string) Format {
	switch {
	case strings.HasSuffix(path, "/chat/completions"):
		return FormatOpenAIChat
	case strings.HasSuffix(path, "/responses"):
		return FormatOpenAIResponses
	case strings.HasSuffix(path, "/embeddings"):
		return FormatOpenAIEmbeddings
	case strings.HasSuffix(path, "/messages"):
		// OpenAI's Assistants API has /threads/{id}/messages.
		if strings.Contains(path, "/threads/") {
			return FormatUnknown
		}
		return FormatAnthropicMessages
	}
	if _, _, ok := geminiPath(path); ok {
		return FormatGemini
	}
	return FormatUnknown
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

// azureOf builds the Provider of an Azure OpenAI resource from a request URL:
// the v1 shape (/openai/v1/...) or the deployments shape with its api-version.
func azureOf(u *url.URL) Provider {
	scheme := u.Scheme
	if scheme == "" {
		scheme = "https"
	}
	base := scheme + "://" + u.Host + "/openai"
	if strings.Contains(u.Path, "/openai/v1/") {
		base += "/v1"
	}
	return azure(base, queryValue(u.RawQuery, "api-version"))
}

// queryValue returns the raw value of key in a query string without
// parsing the whole query (no allocation; values are not unescaped, which
// api-version values never need).
func queryValue(q, key string) string {
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}
