package provider

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFormat(t *testing.T) {
	cases := []struct {
		f          Format
		str, op    string
		terminated bool
	}{
		{FormatUnknown, "unknown", "", false},
		{FormatOpenAIChat, "openai.chat", "chat", true},
		{FormatOpenAIResponses, "openai.responses", "chat", true},
		{FormatOpenAIEmbeddings, "openai.embeddings", "embeddings", false},
		{FormatAnthropicMessages, "anthropic.messages", "chat", true},
		{FormatGemini, "gemini", "generate_content", false},
		{Format(99), "unknown", "", false},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.str, tc.f.String())
		assert.Equal(t, tc.op, tc.f.Operation())
		assert.Equal(t, tc.terminated, tc.f.Terminated(), tc.str)
	}
}

func TestPresets(t *testing.T) {
	cases := []struct {
		p           Provider
		name, base  string
		auth        AuthStyle
		family      Format
		streamUsage bool
	}{
		{OpenAI, "openai", "https://api.openai.com/v1", AuthBearer, FormatOpenAIChat, true},
		{Anthropic, "anthropic", "https://api.anthropic.com/v1", AuthXAPIKey, FormatAnthropicMessages, false},
		{Gemini, "gcp.gemini", "https://generativelanguage.googleapis.com/v1beta", AuthGoogAPIKey, FormatGemini, false},
		{Groq, "groq", "https://api.groq.com/openai/v1", AuthBearer, FormatOpenAIChat, true},
		{Mistral, "mistral_ai", "https://api.mistral.ai/v1", AuthBearer, FormatOpenAIChat, false},
		{DeepSeek, "deepseek", "https://api.deepseek.com", AuthBearer, FormatOpenAIChat, true},
		{Together, "together", "https://api.together.xyz/v1", AuthBearer, FormatOpenAIChat, true},
		{OpenRouter, "openrouter", "https://openrouter.ai/api/v1", AuthBearer, FormatOpenAIChat, true},
		{XAI, "x_ai", "https://api.x.ai/v1", AuthBearer, FormatOpenAIChat, true},
		{Fireworks, "fireworks", "https://api.fireworks.ai/inference/v1", AuthBearer, FormatOpenAIChat, true},
		{Ollama, "ollama", "http://localhost:11434/v1", AuthBearer, FormatOpenAIChat, true},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.name, tc.p.Name())
		assert.Equal(t, tc.name, tc.p.String())
		assert.Equal(t, tc.base, tc.p.BaseURL(), tc.name)
		assert.Equal(t, tc.auth, tc.p.Auth(), tc.name)
		assert.Equal(t, tc.family, tc.p.Family(), tc.name)
		assert.Equal(t, tc.streamUsage, tc.p.StreamUsage(), tc.name)
		assert.Equal(t, "", tc.p.APIVersion(), tc.name)
		assert.False(t, tc.p.IsZero())
		q, ok := ByName(tc.name)
		assert.True(t, ok)
		assert.Equal(t, tc.p, q)
	}
	_, ok := ByName("azure.ai.openai")
	assert.False(t, ok, "Azure needs a resource")
	_, ok = ByName("nope")
	assert.False(t, ok)
	assert.True(t, Provider{}.IsZero())
}

func TestAzureOpenAI(t *testing.T) {
	cases := []struct {
		resource, version, base string
		streamUsage             bool
	}{
		{"contoso", "2024-10-21", "https://contoso.openai.azure.com/openai", true},
		{"contoso", "2024-09-01-preview", "https://contoso.openai.azure.com/openai", true},
		{"contoso", "2024-08-01-preview", "https://contoso.openai.azure.com/openai", false},
		{"contoso", "2024-06-01", "https://contoso.openai.azure.com/openai", false},
		{"contoso", "2025-04-01-preview", "https://contoso.openai.azure.com/openai", true},
		{"contoso", "preview", "https://contoso.openai.azure.com/openai", true},
		{"contoso", "", "https://contoso.openai.azure.com/openai/v1", true},
		{"contoso.openai.azure.com", "2024-10-21", "https://contoso.openai.azure.com/openai", true},
		{"https://contoso.openai.azure.com/", "", "https://contoso.openai.azure.com/openai/v1", true},
		{"https://contoso.openai.azure.com/openai/v1/", "", "https://contoso.openai.azure.com/openai/v1", true},
	}
	for _, tc := range cases {
		p := AzureOpenAI(tc.resource, tc.version)
		assert.Equal(t, "azure.ai.openai", p.Name())
		assert.Equal(t, tc.base, p.BaseURL(), tc.resource)
		assert.Equal(t, tc.version, p.APIVersion())
		assert.Equal(t, tc.streamUsage, p.StreamUsage(), "%s %s", tc.resource, tc.version)
		assert.Equal(t, AuthAPIKeyHeader, p.Auth())
		assert.Equal(t, FormatOpenAIChat, p.Family())
	}
}

func TestOpenAICompatible(t *testing.T) {
	p := OpenAICompatible("vllm", "http://gpu-box:8000/v1/")
	assert.Equal(t, "vllm", p.Name())
	assert.Equal(t, "http://gpu-box:8000/v1", p.BaseURL())
	assert.False(t, p.StreamUsage())
	assert.True(t, p.WithStreamUsageAccepted(true).StreamUsage())
	assert.False(t, p.StreamUsage(), "values are immutable")
	assert.Equal(t, "http://127.0.0.1:1/v1", OpenAI.WithBaseURL("http://127.0.0.1:1/v1/").BaseURL())
	assert.Equal(t, "https://api.openai.com/v1", OpenAI.BaseURL())
}

func TestProviderJSON(t *testing.T) {
	cases := []struct {
		p    Provider
		json string
	}{
		{Groq, `"groq"`},
		{Gemini, `"gcp.gemini"`},
		{Provider{}, `null`},
		{AzureOpenAI("contoso", "2024-10-21"), `{"name":"azure.ai.openai","base_url":"https://contoso.openai.azure.com/openai","api_version":"2024-10-21"}`},
		{AzureOpenAI("contoso", ""), `{"name":"azure.ai.openai","base_url":"https://contoso.openai.azure.com/openai/v1"}`},
		{OpenAICompatible("vllm", "http://gpu:8000/v1"), `{"name":"vllm","base_url":"http://gpu:8000/v1"}`},
		{OpenAICompatible("vllm", "http://gpu:8000/v1").WithStreamUsageAccepted(true), `{"name":"vllm","base_url":"http://gpu:8000/v1","stream_usage":true}`},
		{OpenAI.WithBaseURL("http://127.0.0.1:8080/v1"), `{"name":"openai","base_url":"http://127.0.0.1:8080/v1"}`},
		{Mistral.WithStreamUsageAccepted(true), `{"name":"mistral_ai","base_url":"https://api.mistral.ai/v1","stream_usage":true}`},
	}
	for _, tc := range cases {
		b, err := json.Marshal(tc.p)
		require.NoError(t, err)
		assert.JSONEq(t, tc.json, string(b))
		var back Provider
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, tc.p, back, tc.json)
	}

	// In a config struct, by name.
	var cfg struct {
		Provider Provider   `json:"provider"`
		Targets  []Provider `json:"targets"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"provider":"x_ai","targets":["openai",{"name":"groq"},{"name":"local","base_url":"http://127.0.0.1:9/v1"},""]}`), &cfg))
	assert.Equal(t, XAI, cfg.Provider)
	assert.Equal(t, []Provider{OpenAI, Groq, OpenAICompatible("local", "http://127.0.0.1:9/v1"), {}}, cfg.Targets)

	for _, bad := range []string{`"nope"`, `{"name":"nope"}`, `{"name":"azure.ai.openai"}`, `42`, `{"name":`} {
		var p Provider
		assert.Error(t, json.Unmarshal([]byte(bad), &p), bad)
	}
	var p Provider
	err := json.Unmarshal([]byte(`"nope"`), &p)
	assert.ErrorIs(t, err, ErrUnknownProvider)
}

func TestAuthStyleSetKey(t *testing.T) {
	for _, tc := range []struct {
		style        AuthStyle
		header, want string
	}{
		{AuthBearer, "Authorization", "Bearer sk-1"},
		{AuthAPIKeyHeader, "Api-Key", "sk-1"},
		{AuthXAPIKey, "X-Api-Key", "sk-1"},
		{AuthGoogAPIKey, "X-Goog-Api-Key", "sk-1"},
	} {
		h := http.Header{}
		tc.style.SetKey(h, "sk-1")
		assert.Equal(t, http.Header{tc.header: {tc.want}}, h)
		assert.True(t, IsCredentialHeader(tc.style.Header()), "every style's header is a credential header")
	}
	assert.Equal(t, AuthGoogAPIKey.Header(), Gemini.Auth().Header())
}

func TestByURL(t *testing.T) {
	mustURL := func(s string) *url.URL {
		u, err := url.Parse(s)
		require.NoError(t, err)
		return u
	}
	cases := []struct {
		name, url string
		want      Provider
		ok        bool
	}{
		{"preset host", "https://api.openai.com/v1/chat/completions", OpenAI, true},
		{"host in any case, with a port", "https://API.Anthropic.com:443/v1/messages", Anthropic, true},
		{"any path on a preset host", "https://api.groq.com/openai/v1/files", Groq, true},
		{"second host of a preset", "https://api.together.ai/v1/chat/completions", Together, true},
		{"azure deployments shape", "https://contoso.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-06-01",
			AzureOpenAI("https://contoso.openai.azure.com/openai", "2024-06-01"), true},
		{"azure v1 shape", "https://contoso.openai.azure.com/openai/v1/chat/completions", AzureOpenAI("contoso", ""), true},
		{"local fake", "http://127.0.0.1:8080/v1/chat/completions", Provider{}, false},
		{"look-alike host", "https://api.openai.com.example.net/v1/chat/completions", Provider{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := ByURL(mustURL(tc.url))
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, p)
		})
	}
	p, ok := ByURL(nil)
	assert.False(t, ok)
	assert.True(t, p.IsZero())
}

func TestByURLAllocs(t *testing.T) {
	u, err := url.Parse("https://api.openai.com/v1/chat/completions")
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(100, func() { ByURL(u) }))
}
