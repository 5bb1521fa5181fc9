package wire

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aigateway-go/aigateway/provider"
)

// benchStream is a realistic OpenAI chat stream of n content chunks with
// include_usage: every chunk carries "usage":null.
func benchStream(n int) string {
	var b strings.Builder
	b.WriteString(`data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n")
	for i := range n {
		fmt.Fprintf(&b, `data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":" token%d"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"vKx9"}`+"\n\n", i)
	}
	b.WriteString(`data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":400,"total_tokens":412,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}` + "\n\ndata: [DONE]\n\n")
	return b.String()
}

func benchmarkScan(b *testing.B, f provider.Format, stream bool, body string, readSize int) {
	data := []byte(body)
	pieces := splitEvery(data, readSize)
	var s ResponseScanner
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s.Reset(f, stream, 200)
		for _, p := range pieces {
			s.Write(p)
		}
		s.Finish()
		if _, ok := s.Usage(); !ok {
			b.Fatal("no usage")
		}
	}
}

func BenchmarkResponseScanner(b *testing.B) {
	chat := benchStream(400)
	b.Run("openai-chat-sse/read=4KiB", func(b *testing.B) { benchmarkScan(b, provider.FormatOpenAIChat, true, chat, 4096) })
	b.Run("openai-chat-sse/read=32KiB", func(b *testing.B) { benchmarkScan(b, provider.FormatOpenAIChat, true, chat, 32<<10) })
	anthropic := strings.Repeat(anthropicStream, 1)
	b.Run("anthropic-sse/read=4KiB", func(b *testing.B) { benchmarkScan(b, provider.FormatAnthropicMessages, true, anthropic, 4096) })
	b.Run("gemini-sse/read=4KiB", func(b *testing.B) { benchmarkScan(b, provider.FormatGemini, true, geminiStream, 4096) })
	b.Run("openai-chat-json/1KiB", func(b *testing.B) { benchmarkScan(b, provider.FormatOpenAIChat, false, openAIReasoningJSON, 4096) })
	var emb strings.Builder
	emb.WriteString(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[`)
	for i := range 1536 {
		if i > 0 {
			emb.WriteByte(',')
		}
		emb.WriteString("-0.012345678")
	}
	emb.WriteString(`]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`)
	b.Run("embeddings-json/20KiB", func(b *testing.B) { benchmarkScan(b, provider.FormatOpenAIEmbeddings, false, emb.String(), 4096) })
}
