package wire

import (
	"net/url"
	"strings"

	"github.com/aigateway-go/aigateway/provider"
)

// EndpointPath returns base (a provider's base URL path, without its
// trailing slash) joined with the path a request in format f posts to:
// /chat/completions and /embeddings (below /deployments/{model} in Azure
// OpenAI's deployments shape, deployments true), /responses, /messages, or
// Gemini's /models/{model}:method, the method (generateContent or
// streamGenerateContent) taken from reqPath, the path of the request as it
// was detected. FormatUnknown adds nothing. The model is escaped as a path
// segment in the deployments shape, as Azure reads it; Gemini's is joined
// as it is, as the request named it.
func EndpointPath(base string, f provider.Format, model, reqPath string, deployments bool) string {
	switch f {
	case provider.FormatOpenAIChat, provider.FormatOpenAIEmbeddings:
		op := "/chat/completions"
		if f == provider.FormatOpenAIEmbeddings {
			op = "/embeddings"
		}
		if deployments {
			return base + "/deployments/" + url.PathEscape(model) + op
		}
		return base + op
	case provider.FormatOpenAIResponses:
		return base + "/responses"
	case provider.FormatAnthropicMessages:
		return base + "/messages"
	case provider.FormatGemini:
		return base + "/models/" + model + reqPath[strings.LastIndexByte(reqPath, ':'):]
	}
	return base
}

// WithPathModel puts model in a request path that names the model: a
// Gemini path (.../models/{model}:method) or an Azure OpenAI deployments
// path (.../deployments/{deployment}/...); other paths carry no model and
// are returned as they are.
func WithPathModel(path string, f provider.Format, model string) string {
	if f == provider.FormatGemini {
		i, c := strings.LastIndex(path, "/models/"), strings.LastIndexByte(path, ':')
		if i >= 0 && c > i {
			return path[:i+len("/models/")] + model + path[c:]
		}
		return path
	}
	const seg = "/deployments/"
	if i := strings.Index(path, seg); i >= 0 {
		rest := path[i+len(seg):]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			return path[:i+len(seg)] + model + rest[j:]
		}
	}
	return path
}

// WithAPIVersion returns the raw query q with Azure OpenAI's api-version
// set to version: the api-version parameters q held (their names
// percent-decoded) removed, the others kept as they were written, and
// version appended, escaped, unless it is empty.
func WithAPIVersion(q, version string) string {
	if q != "" {
		q = withoutQuery(q, "api-version")
	}
	if version != "" {
		if q != "" {
			q += "&"
		}
		q += "api-version=" + url.QueryEscape(version)
	}
	return q
}

// withoutQuery returns the raw query q without the parameters named key,
// keeping the others as they were written.
func withoutQuery(q, key string) string {
	var b strings.Builder
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, _, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil && uk == key {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv)
	}
	return b.String()
}
