package wire

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// Usage objects as the providers send them, for BenchmarkUsage: OpenAI's
// chat usage as its pretty JSON answers hold it (details and all),
// Anthropic's message usage, Gemini's usageMetadata.
var (
	benchOpenAIUsage = []byte(`{
    "prompt_tokens": 21,
    "completion_tokens": 119,
    "total_tokens": 140,
    "prompt_tokens_details": {
      "cached_tokens": 0,
      "audio_tokens": 0
    },
    "completion_tokens_details": {
      "reasoning_tokens": 0,
      "audio_tokens": 0,
      "accepted_prediction_tokens": 0,
      "rejected_prediction_tokens": 0
    }
  }`)
	benchAnthropicUsage = []byte(`{"input_tokens":472,"cache_creation_input_tokens":1500,"cache_read_input_tokens":3000,"cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":500},"output_tokens":89,"service_tier":"standard","server_tool_use":{"web_search_requests":0}}`)
	benchGeminiUsage    = []byte(`{"promptTokenCount":8,"candidatesTokenCount":204,"totalTokenCount":1212,"promptTokensDetails":[{"modality":"TEXT","tokenCount":8}],"thoughtsTokenCount":1000}`)
)

func BenchmarkUsage(b *testing.B) {
	b.Run("openai", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, st := openAIUsage(benchOpenAIUsage); st != usageTaken {
				b.Fatal(st)
			}
		}
	})
	b.Run("anthropic", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var a anthropicUsage
			if st := a.merge(benchAnthropicUsage); st != usageTaken {
				b.Fatal(st)
			}
		}
	})
	b.Run("gemini", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, st := geminiUsage(benchGeminiUsage); st != usageTaken {
				b.Fatal(st)
			}
		}
	})
}

// fakeAnswer returns the answer of the in-memory fake the stack benchmarks
// call (llmtest, the reply of BenchmarkStack): an OpenAI chat completion
// as OpenAI writes it, indented, with a ~900-byte message.
func fakeAnswer(b *testing.B) []byte {
	fake := llmtest.NewTransport(llmtest.WithReply(strings.TrimSpace(strings.Repeat("The quarterly report shows steady growth overall. ", 17))))
	req, err := http.NewRequest(http.MethodPost, llmtest.TransportURL+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Summarise the quarterly report in one line."}],"max_tokens":256}`))
	require.NoError(b, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-bench")
	resp, err := fake.RoundTrip(req)
	require.NoError(b, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b, err)
	return body
}

// BenchmarkResponseScannerAnswer is the scan of one JSON answer as the
// stack runs it on a cache miss: the body in one Write, then what the call
// records.
func BenchmarkResponseScannerAnswer(b *testing.B) {
	body := fakeAnswer(b)
	var s ResponseScanner
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		s.Reset(provider.FormatOpenAIChat, false, 200)
		s.Write(body)
		if !s.Terminated() {
			b.Fatal("not terminated")
		}
		if _, ok := s.Usage(); !ok {
			b.Fatal("no usage")
		}
		_, _, _, _, _ = s.Model(), s.ResponseID(), s.FinishReasons(), s.Err(), s.Malformed()
	}
}
