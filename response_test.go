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
)

// TestResultResponseIDAndFinishReasons checks that a Call records the id and
// the finish reasons of the upstream response (gen_ai.response.id and
// gen_ai.response.finish_reasons), streamed and not, for every format the
// fake speaks, and for a reply cut at max tokens.
func TestResultResponseIDAndFinishReasons(t *testing.T) {
	gw := mustNew(t, llmtest.NewTransport())
	const (
		chat      = "https://api.openai.com/v1/chat/completions"
		responses = "https://api.openai.com/v1/responses"
		messages  = "https://api.anthropic.com/v1/messages"
		gemini    = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:"
	)
	for _, tc := range []struct {
		name, url, body string
		idPrefix        string
		reasons         []string
	}{
		{"chat stream", chat, `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`, "chatcmpl-llmtest", []string{"stop"}},
		{"chat json", chat, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`, "chatcmpl-llmtest", []string{"stop"}},
		{"chat json cut at max tokens", chat, `{"model":"gpt-4o-mini","max_completion_tokens":1,"messages":[{"role":"user","content":"hi"}]}`, "chatcmpl-llmtest", []string{"length"}},
		{"chat stream cut at max tokens", chat, `{"model":"gpt-4o-mini","stream":true,"max_tokens":1,"messages":[{"role":"user","content":"hi"}]}`, "chatcmpl-llmtest", []string{"length"}},
		{"responses stream", responses, `{"model":"gpt-4o","stream":true,"input":"hi"}`, "resp_llmtest", []string{"completed"}},
		{"responses json cut", responses, `{"model":"gpt-4o","max_output_tokens":1,"input":"hi"}`, "resp_llmtest", []string{"max_output_tokens"}},
		{"anthropic stream", messages, `{"model":"claude-haiku-4-5","stream":true,"max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`, "msg_01llmtest", []string{"end_turn"}},
		{"anthropic json cut", messages, `{"model":"claude-haiku-4-5","max_tokens":1,"messages":[{"role":"user","content":"hi"}]}`, "msg_01llmtest", []string{"max_tokens"}},
		{"gemini stream", gemini + "streamGenerateContent?alt=sse", `{"contents":[{"parts":[{"text":"hi"}]}]}`, "llmtest", []string{"STOP"}},
		{"gemini json", gemini + "generateContent", `{"contents":[{"parts":[{"text":"hi"}]}]}`, "llmtest", []string{"STOP"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, tr := Track(context.Background())
			req := newChatRequest(t, tc.url, tc.body).WithContext(ctx)
			if strings.Contains(tc.url, "anthropic") {
				req.Header.Set("Anthropic-Version", "2023-06-01")
			}
			resp, err := gw.RoundTrip(req)
			require.NoError(t, err)
			_, err = io.Copy(io.Discard, resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, http.StatusOK, resp.StatusCode)

			c := tr.Last()
			require.NotNil(t, c)
			<-c.Done()
			r := c.Result()
			assert.NoError(t, r.Err)
			assert.True(t, strings.HasPrefix(r.ResponseID, tc.idPrefix), "response id %q", r.ResponseID)
			assert.Greater(t, len(r.ResponseID), len(tc.idPrefix), "response id %q", r.ResponseID)
			assert.Equal(t, tc.reasons, r.FinishReasons)
		})
	}
}

// An embeddings response has neither an id nor a finish reason.
func TestResultResponseIDOfEmbeddingsIsEmpty(t *testing.T) {
	gw := mustNew(t, llmtest.NewTransport())
	ctx, tr := Track(context.Background())
	req := newChatRequest(t, "https://api.openai.com/v1/embeddings", `{"model":"text-embedding-3-small","input":"hi"}`).WithContext(ctx)
	resp, err := gw.RoundTrip(req)
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	c := tr.Last()
	require.NotNil(t, c)
	<-c.Done()
	r := c.Result()
	assert.True(t, r.UsageKnown)
	assert.Empty(t, r.ResponseID)
	assert.Nil(t, r.FinishReasons)
}
