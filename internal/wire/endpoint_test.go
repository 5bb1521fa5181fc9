package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aigateway-go/aigateway/provider"
)

// An attempt to another provider goes to the path its format posts to,
// below the provider's base path; and what Detect reads back from that
// path is the format it was built for.
func TestEndpointPath(t *testing.T) {
	const gemini = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
	cases := []struct {
		name, base  string
		f           provider.Format
		model       string
		deployments bool
		want        string
	}{
		{"chat", "/v1", provider.FormatOpenAIChat, "gpt-4o", false, "/v1/chat/completions"},
		{"chat, azure deployments", "/openai", provider.FormatOpenAIChat, "gpt 4o", true, "/openai/deployments/gpt%204o/chat/completions"},
		{"embeddings", "/openai/v1", provider.FormatOpenAIEmbeddings, "e", false, "/openai/v1/embeddings"},
		{"embeddings, azure deployments", "/openai", provider.FormatOpenAIEmbeddings, "e", true, "/openai/deployments/e/embeddings"},
		{"responses", "/v1", provider.FormatOpenAIResponses, "gpt-4o", true, "/v1/responses"},
		{"messages", "/v1", provider.FormatAnthropicMessages, "claude", false, "/v1/messages"},
		{"gemini keeps the request's method", "/v1beta", provider.FormatGemini, "gemini-2.5-pro", false, "/v1beta/models/gemini-2.5-pro:streamGenerateContent"},
		{"empty base", "", provider.FormatOpenAIChat, "m", false, "/chat/completions"},
		{"unknown format adds nothing", "/v1", provider.FormatUnknown, "m", false, "/v1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := EndpointPath(tc.base, tc.f, tc.model, gemini, tc.deployments)
			assert.Equal(t, tc.want, got)
			if tc.f != provider.FormatUnknown {
				assert.Equal(t, tc.f, formatOf(got), "Detect reads the format back")
			}
		})
	}
}

func TestWithPathModel(t *testing.T) {
	cases := []struct {
		name, path string
		f          provider.Format
		want       string
	}{
		{"gemini", "/v1beta/models/gemini-2.5-flash:generateContent", provider.FormatGemini, "/v1beta/models/m2:generateContent"},
		{"gemini without a method", "/v1beta/models/gemini-2.5-flash", provider.FormatGemini, "/v1beta/models/gemini-2.5-flash"},
		{"azure deployments", "/openai/deployments/gpt-4o/chat/completions", provider.FormatOpenAIChat, "/openai/deployments/m2/chat/completions"},
		{"azure deployments without an operation", "/openai/deployments/gpt-4o", provider.FormatOpenAIChat, "/openai/deployments/gpt-4o"},
		{"the body names the model", "/v1/chat/completions", provider.FormatOpenAIChat, "/v1/chat/completions"},
		{"anthropic", "/v1/messages", provider.FormatAnthropicMessages, "/v1/messages"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, WithPathModel(tc.path, tc.f, "m2"))
		})
	}
}

func TestWithoutQuery(t *testing.T) {
	assert.Equal(t, "alt=sse", withoutQuery("alt=sse&key=k", "key"))
	assert.Equal(t, "alt=sse&x=1", withoutQuery("key=k&alt=sse&key=j&x=1", "key"))
	assert.Equal(t, "", withoutQuery("key=k", "key"))
	assert.Equal(t, "monkey=1", withoutQuery("monkey=1", "key"))
}

// An attempt to an Azure deployment carries its own api-version, never the
// caller's, and other parameters stay as they were written.
func TestWithAPIVersion(t *testing.T) {
	cases := []struct {
		name, q, version, want string
	}{
		{"set", "", "2024-10-21", "api-version=2024-10-21"},
		{"replaced", "api-version=2024-06-01&x=1", "2024-10-21", "x=1&api-version=2024-10-21"},
		{"replaced in any encoding of its name", "api%2Dversion=2024-06-01&x=%20", "2024-10-21", "x=%20&api-version=2024-10-21"},
		{"removed for a target without one", "api-version=2024-06-01&alt=sse", "", "alt=sse"},
		{"escaped", "", "a b&c", "api-version=a+b%26c"},
		{"nothing to do", "alt=sse", "", "alt=sse"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, WithAPIVersion(tc.q, tc.version))
		})
	}
}
