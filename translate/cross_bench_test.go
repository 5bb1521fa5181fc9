package translate

import (
	"strings"
	"testing"

	"github.com/aigateway-go/aigateway/provider"
)

// BenchmarkTranslateRequest is what the transport pays per translated
// attempt: a 1 KB request read in the caller's format and written in the
// target's (TranslateRequest), in all six directions. The budget
// is 5 us for 1 KB; b.SetBytes gives the rate, so a body's size does not
// hide in the time.
func BenchmarkTranslateRequest(b *testing.B) {
	formats := []struct {
		name   string
		format provider.Format
		body   string
		model  string
	}{
		{"openai", provider.FormatOpenAIChat, openAIBenchRequest, "gpt-4.1"},
		{"anthropic", provider.FormatAnthropicMessages, anthropicBenchRequest, "claude-sonnet-4-5"},
		// Without its temperature: Anthropic takes none but 1 with
		// thinking, and refuses the request (rightly) otherwise.
		{"gemini", provider.FormatGemini, strings.Replace(geminiBenchRequest, `"temperature":0.7,`, "", 1), "gemini-2.5-flash"},
	}
	for _, from := range formats {
		for _, to := range formats {
			if from.name == to.name {
				continue
			}
			b.Run(from.name+"-to-"+to.name, func(b *testing.B) {
				body := []byte(from.body)
				meta := RequestMeta{Model: from.model, Stream: true}
				if _, _, err := TranslateRequest(from.format, to.format, body, meta, to.model); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := TranslateRequest(from.format, to.format, body, meta, to.model); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
