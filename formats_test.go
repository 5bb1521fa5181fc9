package aigateway

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// TestEveryFormatThroughTheGateway drives each wire format, streamed and
// not, over a real socket, and checks the Call saw what the fake sent.
func TestEveryFormatThroughTheGateway(t *testing.T) {
	want := llmtest.Usage{InputTokens: 120, OutputTokens: 40, CacheReadTokens: 30, CacheCreationTokens: 20, CacheCreation1hTokens: 5, ReasoningTokens: 10}
	fake := llmtest.NewServer(llmtest.WithUsage(want), llmtest.WithResponseModel(func(m string) string { return m + "-2025" }))
	defer fake.Close()
	gw := mustNew(t, fake.Client().Transport)

	type format struct {
		name, path, body, provider, operation string
		header                                http.Header
		usage                                 provider.Usage
	}
	openaiUsage := provider.Usage{InputTokens: 120, OutputTokens: 40, CacheReadTokens: 30, ReasoningTokens: 10}
	formats := []format{
		{"openai chat", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, "openai", "chat", nil, openaiUsage},
		{"openai responses", "/v1/responses", `{"model":"gpt-4o","input":"hi"}`, "openai", "chat", nil, openaiUsage},
		{"anthropic", "/v1/messages", `{"model":"claude-haiku-4-5","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`, "anthropic", "chat",
			http.Header{"Anthropic-Version": {"2023-06-01"}},
			provider.Usage{InputTokens: 120, OutputTokens: 40, CacheReadTokens: 30, CacheCreationTokens: 20, CacheCreation1hTokens: 5}},
		{"gemini", "/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":[{"parts":[{"text":"hi"}]}]}`, "gcp.gemini", "generate_content", nil,
			provider.Usage{InputTokens: 120, OutputTokens: 40, CacheReadTokens: 30, ReasoningTokens: 10}},
	}
	for _, f := range formats {
		for _, stream := range []bool{false, true} {
			name := f.name + map[bool]string{false: " json", true: " stream"}[stream]
			t.Run(name, func(t *testing.T) {
				path, body := f.path, f.body
				if stream {
					if f.provider == "gcp.gemini" {
						path = strings.Replace(path, ":generateContent", ":streamGenerateContent", 1) + "?alt=sse"
					} else {
						body = strings.Replace(body, `{"model"`, `{"stream":true,"model"`, 1)
					}
				}
				ctx, tr := Track(context.Background())
				req := newChatRequest(t, fake.URL+path, body).WithContext(ctx)
				for k, v := range f.header {
					req.Header[k] = v
				}
				resp, err := gw.RoundTrip(req)
				require.NoError(t, err)
				_, err = io.Copy(io.Discard, resp.Body)
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, 200, resp.StatusCode)

				c := tr.Last()
				require.NotNil(t, c)
				<-c.Done()
				assert.Equal(t, f.provider, c.Provider())
				assert.Equal(t, f.operation, c.Operation())
				assert.Equal(t, stream, c.Stream())
				r := c.Result()
				assert.NoError(t, r.Err)
				assert.True(t, r.UsageKnown)
				assert.Equal(t, f.usage, r.Usage)
				assert.Equal(t, c.Model()+"-2025", r.ResponseModel)
				if stream {
					assert.Positive(t, r.TimeToFirstChunk)
				}
			})
		}
	}

	t.Run("embeddings", func(t *testing.T) {
		ctx, tr := Track(context.Background())
		resp, err := gw.RoundTrip(newChatRequest(t, fake.URL+"/v1/embeddings", `{"model":"text-embedding-3-small","input":"hi"}`).WithContext(ctx))
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		c := tr.Last()
		assert.Equal(t, "embeddings", c.Operation())
		assert.Equal(t, int64(120), c.Result().Usage.InputTokens)
	})
}

func TestErrorStatusesAndFaults(t *testing.T) {
	fake := llmtest.NewServer()
	defer fake.Close()
	gw := mustNew(t, fake.Client().Transport)
	do := func(t *testing.T, path, body string) (Result, string) {
		ctx, tr := Track(context.Background())
		req := newChatRequest(t, fake.URL+path, body).WithContext(ctx)
		req.Header.Set("anthropic-version", "2023-06-01")
		resp, err := gw.RoundTrip(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return tr.Last().Result(), string(b)
	}
	anthropicStream := `{"model":"claude-haiku-4-5","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}`

	t.Run("429 body parsed into Err", func(t *testing.T) {
		fake.Push(llmtest.RateLimited(0))
		r, _ := do(t, "/v1/chat/completions", chatBody)
		assert.Equal(t, 429, r.Status)
		var perr *provider.Error
		require.ErrorAs(t, r.Err, &perr)
		assert.Equal(t, 429, perr.Status)
	})
	t.Run("anthropic overloaded event after 200", func(t *testing.T) {
		fake.Push(llmtest.ErrorAfter(2))
		r, body := do(t, "/v1/messages", anthropicStream)
		assert.Equal(t, 200, r.Status)
		assert.Contains(t, body, "event: error")
		var perr *provider.Error
		require.ErrorAs(t, r.Err, &perr)
		assert.Equal(t, "overloaded_error", perr.Type)
	})
	t.Run("cut stream", func(t *testing.T) {
		fake.Push(llmtest.CutAfter(3))
		r, _ := do(t, "/v1/messages", anthropicStream)
		require.Error(t, r.Err)
		assert.True(t, r.UsageKnown, "message_start's usage was seen before the cut")
	})
	t.Run("malformed upstream JSON", func(t *testing.T) {
		fake.Push(llmtest.MalformedJSON())
		r, _ := do(t, "/v1/chat/completions", chatBody)
		assert.Equal(t, 200, r.Status)
		assert.False(t, r.UsageKnown)
	})
}

// An abandoned stream (read once, never closed, context cancelled) leaks no
// goroutine (TestMain runs goleak) and completes its Call.
func TestAbandonedStreamOverSocket(t *testing.T) {
	fake := llmtest.NewServer()
	defer fake.Close()
	gate := llmtest.NewGate()
	fake.Push(llmtest.Hold(gate))
	gate.Release()
	gw := mustNew(t, fake.Client().Transport)
	ctx, cancel := context.WithCancel(context.Background())
	ctx, tr := Track(ctx)
	resp, err := gw.RoundTrip(newChatRequest(t, fake.URL+"/v1/chat/completions", chatStreamBody).WithContext(ctx))
	require.NoError(t, err)
	buf := make([]byte, 1024)
	_, err = resp.Body.Read(buf)
	require.NoError(t, err)
	cancel()
	<-tr.Last().Done()
	assert.ErrorIs(t, tr.Last().Result().Err, context.Canceled)
}
