package fallback

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// recorder keeps the attempts that reach it and answers them from a fake.
type recorder struct {
	mu     sync.Mutex
	reqs   []*http.Request
	bodies []string
	fake   *llmtest.Transport
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(req.Body)
	req.Body.Close()
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.bodies = append(r.bodies, string(b))
	r.mu.Unlock()
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(strings.NewReader(string(b)))
	return r.fake.RoundTrip(out)
}

// The attempt each kind of target gets: URL, auth style, model, query.
func TestAttemptRequestPerTarget(t *testing.T) {
	const geminiPath = "/v1beta/models/gemini-2.0-flash:streamGenerateContent"
	cases := []struct {
		name       string
		target     Target
		url, body  string
		header     http.Header
		wantURL    string
		wantHeader http.Header // values that must be there ("" = absent)
		wantBody   []string    // substrings
		notBody    []string
	}{
		{
			name:       "Azure deployments shape",
			target:     Target{Provider: provider.AzureOpenAI("contoso", "2024-10-21"), APIKey: "az-key", Model: "my-deploy"},
			wantURL:    "https://contoso.openai.azure.com/openai/deployments/my-deploy/chat/completions?api-version=2024-10-21",
			wantHeader: http.Header{"Api-Key": {"az-key"}, "Authorization": {""}},
			wantBody:   []string{`"model":"my-deploy"`},
		},
		{
			name:       "Azure v1 shape",
			target:     Target{Provider: provider.AzureOpenAI("contoso", ""), APIKey: "az-key"},
			wantURL:    "https://contoso.openai.azure.com/openai/v1/chat/completions",
			wantHeader: http.Header{"Api-Key": {"az-key"}, "Authorization": {""}},
			wantBody:   []string{`"model":"gpt-4o-mini"`},
		},
		{
			name:       "from Azure to Groq: no api-version, no api-key",
			url:        "https://contoso.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21",
			header:     http.Header{"Api-Key": {callerKey}},
			target:     Target{Provider: provider.Groq, APIKey: "gsk", Model: "llama-3.3-70b-versatile"},
			wantURL:    "https://api.groq.com/openai/v1/chat/completions",
			wantHeader: http.Header{"Authorization": {"Bearer gsk"}, "Api-Key": {""}},
			wantBody:   []string{`"model":"llama-3.3-70b-versatile"`},
		},
		{
			name:       "a second key for the same origin",
			target:     Target{APIKey: "sk-second"},
			wantURL:    primaryURL + chatPath,
			wantHeader: http.Header{"Authorization": {"Bearer sk-second"}},
		},
		{
			name:       "a second key for the same origin drops the caller's ?key=",
			url:        primaryURL + chatPath + "?key=" + callerKey + "&x=1",
			target:     Target{APIKey: "sk-second"},
			wantURL:    primaryURL + chatPath + "?x=1",
			wantHeader: http.Header{"Authorization": {"Bearer sk-second"}},
		},
		{
			name:       "the caller's OpenAI organization and project stay at the caller's origin",
			header:     http.Header{"Openai-Organization": {"org-caller"}, "Openai-Project": {"proj-caller"}},
			target:     Target{Provider: provider.Groq, APIKey: "gsk"},
			wantURL:    "https://api.groq.com/openai/v1/chat/completions",
			wantHeader: http.Header{"Authorization": {"Bearer gsk"}, "Openai-Organization": {""}, "Openai-Project": {""}},
		},
		{
			name:       "a target at the origin keeps them, with its own key too",
			header:     http.Header{"Openai-Organization": {"org-caller"}, "Openai-Project": {"proj-caller"}},
			target:     Target{APIKey: "sk-second"},
			wantURL:    primaryURL + chatPath,
			wantHeader: http.Header{"Authorization": {"Bearer sk-second"}, "Openai-Organization": {"org-caller"}, "Openai-Project": {"proj-caller"}},
		},
		{
			name:       "a target's Headers give its own",
			header:     http.Header{"Openai-Organization": {"org-caller"}},
			target:     Target{APIKey: "sk-second", Headers: map[string]string{"OpenAI-Organization": "org-second"}},
			wantURL:    primaryURL + chatPath,
			wantHeader: http.Header{"Authorization": {"Bearer sk-second"}, "Openai-Organization": {"org-second"}},
		},
		{
			name:       "extra headers",
			target:     Target{Headers: map[string]string{"openai-organization": "org-2", "X-Title": "app"}},
			wantURL:    primaryURL + chatPath,
			wantHeader: http.Header{"Authorization": {"Bearer " + callerKey}, "Openai-Organization": {"org-2"}, "X-Title": {"app"}},
		},
		{
			name:       "Gemini: model in the path, key in x-goog-api-key, ?key= dropped",
			url:        primaryURL + geminiPath + "?alt=sse&key=" + callerKey,
			body:       `{"contents":[{"parts":[{"text":"Hi"}]}]}`,
			header:     http.Header{"Authorization": nil},
			target:     Target{Provider: provider.Gemini, BaseURL: backupURL + "/v1beta", APIKey: "g-key", Model: "gemini-2.5-flash"},
			wantURL:    backupURL + "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
			wantHeader: http.Header{"X-Goog-Api-Key": {"g-key"}},
		},
		{
			name:       "Gemini, same origin: only the model changes",
			url:        primaryURL + geminiPath + "?alt=sse&key=" + callerKey,
			body:       `{"contents":[{"parts":[{"text":"Hi"}]}]}`,
			header:     http.Header{"Authorization": nil},
			target:     Target{Model: "gemini-2.5-flash"},
			wantURL:    primaryURL + "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=" + callerKey,
			wantHeader: http.Header{"X-Goog-Api-Key": {""}},
		},
		{
			name:       "Anthropic: x-api-key",
			url:        primaryURL + "/v1/messages",
			body:       claudeBody,
			header:     http.Header{"Authorization": nil, "X-Api-Key": {callerKey}, "Anthropic-Version": {"2023-06-01"}},
			target:     Target{Provider: provider.Anthropic, BaseURL: backupURL + "/v1", APIKey: "ant-key", Model: "claude-sonnet-4-5"},
			wantURL:    backupURL + "/v1/messages",
			wantHeader: http.Header{"X-Api-Key": {"ant-key"}, "Anthropic-Version": {"2023-06-01"}},
			wantBody:   []string{`"model":"claude-sonnet-4-5"`},
		},
		{
			// Translated for the target: an Azure deployment's name says
			// nothing of its model, and Azure's v1 API takes
			// max_completion_tokens from every chat model (reasoning ones
			// refuse max_tokens).
			name:     "an Anthropic caller's cap reaches an Azure deployment as max_completion_tokens",
			url:      primaryURL + "/v1/messages",
			body:     `{"model":"claude-haiku-4-5","max_tokens":300,"messages":[{"role":"user","content":"Say hello"}]}`,
			header:   http.Header{"Anthropic-Version": {"2023-06-01"}},
			target:   Target{Provider: provider.AzureOpenAI("contoso", ""), APIKey: "az-key", Model: "my-reasoning-prod"},
			wantURL:  "https://contoso.openai.azure.com/openai/v1/chat/completions",
			wantBody: []string{`"model":"my-reasoning-prod"`, `"max_completion_tokens":300`},
			notBody:  []string{`"max_tokens"`},
		},
		{
			name:     "Mistral rejects the stream usage the stack asked for",
			body:     streamBody,
			target:   Target{Provider: provider.Mistral, APIKey: "m"},
			wantURL:  "https://api.mistral.ai/v1/chat/completions",
			notBody:  []string{"stream_options"},
			wantBody: []string{`"stream":true`},
		},
		{
			name:     "OpenAI keeps it",
			body:     streamBody,
			target:   Target{Provider: provider.OpenAI, APIKey: "o"},
			wantURL:  "https://api.openai.com/v1/chat/completions",
			wantBody: []string{`"stream_options":{"include_usage":true}`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorder{fake: llmtest.NewTransport()}
			rt := New(Config{Targets: []Target{c.target}}).Wrap(rec)
			url, body := c.url, c.body
			if url == "" {
				url = primaryURL + chatPath
			}
			if body == "" {
				body = chatBody
			}
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
			req.Host = req.URL.Host // set explicitly: must not follow the attempt elsewhere
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+callerKey)
			for k, v := range c.header {
				if v == nil {
					req.Header.Del(k)
				} else {
					req.Header[k] = v
				}
			}
			before := req.Header.Clone()
			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			assert.Equal(t, before, req.Header, "the caller's request is unchanged")
			assert.Equal(t, url, req.URL.String(), "the caller's URL is unchanged")
			assert.Zero(t, rec.fake.OpenBodies())

			require.Len(t, rec.reqs, 1)
			got := rec.reqs[0]
			assert.Equal(t, c.wantURL, got.URL.String())
			if got.URL.Host != req.URL.Host {
				assert.Empty(t, got.Host, "Host follows the URL")
			}
			for k, v := range c.wantHeader {
				assert.Equal(t, v[0], got.Header.Get(k), k)
			}
			for _, s := range c.wantBody {
				assert.Contains(t, rec.bodies[0], s)
			}
			for _, s := range c.notBody {
				assert.NotContains(t, rec.bodies[0], s)
			}
			assert.True(t, json.Valid([]byte(rec.bodies[0])), rec.bodies[0])
			assert.Equal(t, int64(len(rec.bodies[0])), got.ContentLength)
			assertNoGatewayHeaders(t, got.Header)
		})
	}
}

func assertNoGatewayHeaders(t *testing.T, h http.Header) {
	t.Helper()
	for k := range h {
		assert.False(t, strings.HasPrefix(strings.ToLower(k), "x-aigateway-"), k)
	}
}

func TestValidate(t *testing.T) {
	t.Setenv("FALLBACK_TEST_KEY", "k")
	ok := Config{Targets: []Target{{Name: "a"}, {Name: "b", Provider: provider.Groq, APIKeyEnv: "FALLBACK_TEST_KEY"}}}
	assert.NoError(t, ok.Validate())

	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "no targets"},
		{Config{Targets: []Target{{Name: "a"}, {Name: "a"}}}, `name "a" is used twice`},
		{Config{Targets: []Target{{}, {}}}, `name "origin" is used twice`},
		{Config{Targets: []Target{{APIKeyEnv: "FALLBACK_TEST_UNSET"}}}, "FALLBACK_TEST_UNSET is not set"},
		{Config{Targets: []Target{{APIKey: "k", APIKeyEnv: "FALLBACK_TEST_KEY"}}}, "not both"},
		{Config{Targets: []Target{{BaseURL: "localhost:8080"}}}, "not an absolute http(s) URL"},
		{Config{Targets: []Target{{Models: []string{"gpt-*", "claude-*-x"}}}}, `"claude-*-x" is not a model name or a prefix ending in '*'`},
		{Config{Targets: []Target{{Models: []string{""}}}}, `"" is not a model name`},
		{Config{Targets: []Target{{}}, MaxAttempts: -1}, "max_attempts -1 is negative"},
		{Config{Targets: []Target{{}}, Cooldown: -1}, "cooldown -1ns is negative"},
		{Config{Targets: []Target{{}}, RetryOn: []int{200}}, "retry_on status 200"},
	}
	require.NoError(t, Config{Targets: []Target{{Provider: provider.OpenAI}, {Provider: provider.Anthropic}, {Provider: provider.Gemini}}}.Validate(),
		"targets of different formats: the stack translates")
	for _, c := range cases {
		err := c.cfg.Validate()
		if assert.Error(t, err, c.want) {
			assert.Contains(t, err.Error(), c.want)
		}
	}
}

// A Config loads from JSON: providers by name, durations as strings, keys
// never written back.
func TestConfigJSON(t *testing.T) {
	var cfg Config
	err := json.Unmarshal([]byte(`{
		"targets": [
			{"name": "primary"},
			{"name": "groq", "provider": "groq", "model": "llama-3.3-70b-versatile", "priority": 1, "headers": {"X-Team": "a"}}
		],
		"attempts_per_target": 3,
		"max_retry_wait": "5s",
		"request_timeout": "30s",
		"cooldown": "1m",
		"retry_on": [429, 503]
	}`), &cfg)
	require.NoError(t, err)
	assert.Equal(t, provider.Groq, cfg.Targets[1].Provider)
	assert.Equal(t, 5*time.Second, cfg.MaxRetryWait)
	assert.Equal(t, []int{429, 503}, cfg.RetryOn)
	assert.NoError(t, cfg.Validate())

	cfg.Targets[1].APIKey = "gsk-secret"
	out, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.NotContains(t, string(out), "gsk-secret")
	assert.Contains(t, string(out), `"provider":"groq"`)
	assert.Contains(t, string(out), `"cooldown":"1m0s"`)
}

// A Target or a Config printed into a log shows no key.
func TestKeyNeverFormatted(t *testing.T) {
	const secret = "sk-live-secret"
	tg := Target{Name: "groq", Provider: provider.Groq, APIKey: secret, Model: "llama"}
	cfg := Config{Targets: []Target{tg}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{tg, &tg, cfg, &cfg, []Target{tg}} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, secret, verb)
			assert.Contains(t, out, "llama", verb)
		}
	}
	assert.Contains(t, fmt.Sprintf("%+v", tg), "APIKey:[REDACTED]")
	assert.True(t, strings.HasPrefix(fmt.Sprintf("%#v", tg), "fallback.Target{"), fmt.Sprintf("%#v", tg))
	assert.Equal(t, secret, tg.APIKey, "the Target itself keeps its key")
}

// The first attempt sends the body the stack prepared (no second reader of
// it is made: aigateway.LayerCall.AttemptBody); every later attempt, to the
// same target or another, sends the whole body again, read from a replay.
func TestEveryAttemptSendsTheWholeBody(t *testing.T) {
	rec := &recorder{fake: llmtest.NewTransport()}
	failFirst := 2 // two 503s, then answers
	base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := rec.RoundTrip(req)
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if failFirst > 0 && err == nil {
			failFirst--
			resp.Body.Close()
			return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{},
				Body: io.NopCloser(strings.NewReader(`{"error":{"message":"busy"}}`)), Request: req}, nil
		}
		return resp, err
	})
	gw := mustNew(t, base, New(Config{
		Targets: []Target{{Name: "primary"}, {Name: "renamed", Model: "gpt-4o"}},
		Sleep:   func(context.Context, time.Duration) error { return nil },
	}))
	req, _ := http.NewRequest(http.MethodPost, primaryURL+chatPath, strings.NewReader(chatBody))
	req.Header.Set("Content-Type", "application/json")
	resp, err := gw.RoundTrip(req)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, rec.bodies, 3, "two on the primary, one on the next target")
	assert.Equal(t, chatBody, rec.bodies[0])
	assert.Equal(t, chatBody, rec.bodies[1], "a retry sends the whole body again")
	assert.Contains(t, rec.bodies[2], `"model":"gpt-4o"`)
}
