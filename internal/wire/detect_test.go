package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aigateway-go/aigateway/provider"
)

func TestDetect(t *testing.T) {
	cases := []struct {
		method, url string
		provider    string
		format      provider.Format
	}{
		{"POST", "https://api.openai.com/v1/chat/completions", "openai", provider.FormatOpenAIChat},
		{"POST", "https://API.OpenAI.com:443/v1/responses", "openai", provider.FormatOpenAIResponses},
		{"POST", "https://api.openai.com/v1/embeddings", "openai", provider.FormatOpenAIEmbeddings},
		{"POST", "https://api.openai.com/v1/audio/transcriptions", "openai", provider.FormatUnknown},
		{"POST", "https://api.openai.com/v1/threads/thread_1/messages", "openai", provider.FormatUnknown},
		{"POST", "https://api.anthropic.com/v1/messages", "anthropic", provider.FormatAnthropicMessages},
		{"POST", "https://api.anthropic.com/v1/messages/count_tokens", "anthropic", provider.FormatUnknown},
		{"POST", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent", "gcp.gemini", provider.FormatGemini},
		{"POST", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", "gcp.gemini", provider.FormatGemini},
		{"POST", "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions", "gcp.gemini", provider.FormatOpenAIChat},
		{"POST", "https://generativelanguage.googleapis.com/v1beta/models/text-embedding-004:embedContent", "gcp.gemini", provider.FormatUnknown},
		{"POST", "https://api.groq.com/openai/v1/chat/completions", "groq", provider.FormatOpenAIChat},
		{"POST", "https://api.mistral.ai/v1/chat/completions", "mistral_ai", provider.FormatOpenAIChat},
		{"POST", "https://api.deepseek.com/chat/completions", "deepseek", provider.FormatOpenAIChat},
		{"POST", "https://api.together.xyz/v1/chat/completions", "together", provider.FormatOpenAIChat},
		{"POST", "https://openrouter.ai/api/v1/chat/completions", "openrouter", provider.FormatOpenAIChat},
		{"POST", "https://api.x.ai/v1/chat/completions", "x_ai", provider.FormatOpenAIChat},
		{"POST", "https://api.fireworks.ai/inference/v1/chat/completions", "fireworks", provider.FormatOpenAIChat},
		{"POST", "https://contoso.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", "azure.ai.openai", provider.FormatOpenAIChat},
		{"POST", "https://contoso.openai.azure.com/openai/v1/chat/completions", "azure.ai.openai", provider.FormatOpenAIChat},
		{"POST", "http://127.0.0.1:8080/v1/chat/completions", "openai", provider.FormatOpenAIChat},
		{"POST", "http://127.0.0.1:8080/v1/chat/completions/", "openai", provider.FormatOpenAIChat},
		{"POST", "http://localhost:4000/responses", "openai", provider.FormatOpenAIResponses},
		{"POST", "http://127.0.0.1:8080/v1/embeddings", "openai", provider.FormatOpenAIEmbeddings},
		{"POST", "http://127.0.0.1:8080/v1/messages", "anthropic", provider.FormatAnthropicMessages},
		{"POST", "http://[::1]:9000/v1beta/models/gemini-2.0-flash:generateContent", "gcp.gemini", provider.FormatGemini},
		{"POST", "http://127.0.0.1:8080/v1/files", "", provider.FormatUnknown},
		{"POST", "http://127.0.0.1:8080/v1/models/x:predict", "", provider.FormatUnknown},
		{"GET", "https://api.openai.com/v1/chat/completions", "", provider.FormatUnknown},
		{"GET", "http://127.0.0.1/v1/chat/completions", "", provider.FormatUnknown},
	}
	for _, tc := range cases {
		p, f := Detect(tc.method, mustURL(tc.url))
		assert.Equal(t, tc.provider, p.Name(), "%s %s", tc.method, tc.url)
		assert.Equal(t, tc.format, f, "%s %s", tc.method, tc.url)
	}
	p, f := Detect("POST", nil)
	assert.True(t, p.IsZero())
	assert.Equal(t, provider.FormatUnknown, f)
}

func TestDetectAzure(t *testing.T) {
	p, _ := Detect("POST", mustURL("https://contoso.openai.azure.com/openai/deployments/gpt-4o/chat/completions?foo=1&api-version=2024-06-01"))
	assert.Equal(t, "https://contoso.openai.azure.com/openai", p.BaseURL())
	assert.Equal(t, "2024-06-01", p.APIVersion())
	assert.Equal(t, provider.AuthAPIKeyHeader, p.Auth())
	assert.False(t, p.StreamUsage(), "2024-06-01 rejects stream_options")

	p, _ = Detect("POST", mustURL("https://contoso.openai.azure.com/openai/v1/chat/completions"))
	assert.Equal(t, "https://contoso.openai.azure.com/openai/v1", p.BaseURL())
	assert.Equal(t, "", p.APIVersion())
	assert.True(t, p.StreamUsage())
}

func TestDetectAllocs(t *testing.T) {
	urls := []string{
		"https://api.openai.com/v1/chat/completions",
		"http://127.0.0.1:8080/v1/messages",
		"https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
	}
	for _, s := range urls {
		u := mustURL(s)
		assert.Zero(t, testing.AllocsPerRun(100, func() { Detect("POST", u) }), s)
	}
}

func BenchmarkDetect(b *testing.B) {
	u := mustURL("http://127.0.0.1:8080/v1/chat/completions")
	b.ReportAllocs()
	for b.Loop() {
		Detect("POST", u)
	}
}

// A provider speaks a format as it is when its Family is the format's.
func TestFamily(t *testing.T) {
	cases := []struct {
		f    provider.Format
		want provider.Format
	}{
		{provider.FormatOpenAIChat, provider.FormatOpenAIChat},
		{provider.FormatOpenAIResponses, provider.FormatOpenAIChat},
		{provider.FormatOpenAIEmbeddings, provider.FormatOpenAIChat},
		{provider.FormatUnknown, provider.FormatOpenAIChat},
		{provider.FormatAnthropicMessages, provider.FormatAnthropicMessages},
		{provider.FormatGemini, provider.FormatGemini},
	}
	for _, tc := range cases {
		t.Run(tc.f.String(), func(t *testing.T) {
			assert.Equal(t, tc.want, Family(tc.f))
		})
	}
	for _, p := range []provider.Provider{provider.OpenAI, provider.Groq, provider.AzureOpenAI("contoso", ""), provider.Anthropic, provider.Gemini} {
		assert.Equal(t, p.Family(), Family(p.Family()), "a preset speaks its own family: %s", p)
	}
}
