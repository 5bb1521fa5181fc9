package aigateway

import (
	"context"
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 11, item 6: TimeToFirstChunk is the first event with content, in
// every format. The events that only open an answer (OpenAI's role chunk,
// Anthropic's message_start and content_block_start, the Responses
// stream's response.created) come at once, and the model may think for a
// long time before the first text: those were counted as the first chunk
// (go-openai: 361 µs reported, first text at 61 ms).
func TestTimeToFirstChunkIsTheFirstContent(t *testing.T) {
	cases := []struct {
		name, url, body string
		opening         []string // sent at once
		content         []string // sent a second later
	}{
		{
			name: "OpenAI chat", url: "https://api.openai.com/v1/chat/completions",
			body: `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}`,
			opening: []string{
				`data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"finish_reason":null}],"usage":null}` + "\n\n",
			},
			content: []string{
				`data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}],"usage":null}` + "\n\ndata: [DONE]\n\n",
			},
		},
		{
			name: "OpenAI chat, usage the stack asked for (the filtered body)", url: "https://api.openai.com/v1/chat/completions",
			body: `{"model":"gpt-4o-mini","stream":true}`,
			opening: []string{
				`data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}` + "\n\n",
			},
			content: []string{
				`data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}],"usage":null}` + "\n\ndata: [DONE]\n\n",
			},
		},
		{
			name: "OpenAI chat, a tool call", url: "https://api.openai.com/v1/chat/completions",
			body: `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}`,
			opening: []string{
				`data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":null},"finish_reason":null}],"usage":null}` + "\n\n",
			},
			content: []string{
				`data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}],"usage":null}` + "\n\ndata: [DONE]\n\n",
			},
		},
		{
			name: "Anthropic", url: "https://api.anthropic.com/v1/messages",
			body: `{"model":"claude-haiku-4-5","max_tokens":10,"stream":true,"messages":[]}`,
			opening: []string{
				"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-haiku-4-5\",\"content\":[],\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n",
				"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
				"event: ping\ndata: {\"type\":\"ping\"}\n\n",
			},
			content: []string{
				"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n" +
					"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
			},
		},
		{
			name: "OpenAI Responses", url: "https://api.openai.com/v1/responses",
			body: `{"model":"gpt-4.1","stream":true,"input":"hi"}`,
			opening: []string{
				"event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"r\",\"model\":\"gpt-4.1\",\"status\":\"in_progress\"}}\n\n",
				"event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"output_index\":0,\"item\":{\"type\":\"message\",\"content\":[]}}\n\n",
			},
			content: []string{
				"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\n" +
					"event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"r\",\"model\":\"gpt-4.1\",\"status\":\"completed\"}}\n\n",
			},
		},
		{
			name: "Gemini", url: "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
			body: `{"contents":[]}`,
			opening: []string{
				"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"\"}]}}],\"modelVersion\":\"gemini-2.5-flash\"}\r\n\r\n",
			},
			content: []string{
				"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hi\"}]},\"finishReason\":\"STOP\"}],\"modelVersion\":\"gemini-2.5-flash\"}\r\n\r\n",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				body := newGatedBody(append(append([]string{}, tc.opening...), tc.content...)...)
				gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
					io.Copy(io.Discard, r.Body)
					r.Body.Close()
					return sseResponse(r, body), nil
				}))
				ctx, tr := Track(context.Background())
				req := newChatRequest(t, tc.url, tc.body).WithContext(ctx)
				resp, err := gw.RoundTrip(req)
				require.NoError(t, err)
				for range tc.opening {
					body.release <- struct{}{}
				}
				done := make(chan string)
				go func() { done <- readAllString(t, resp.Body) }()
				time.Sleep(time.Second) // the model thinks
				for range tc.content {
					body.release <- struct{}{}
				}
				<-done
				resp.Body.Close()
				r := tr.Last().Result()
				require.NoError(t, r.Err)
				assert.Less(t, r.TimeToFirstByte, time.Second, "the opening events came at once")
				assert.GreaterOrEqual(t, r.TimeToFirstChunk, time.Second, "the first content came a second later")
			})
		})
	}
}
