package fallback

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// An OpenAI caller that did not ask for stream usage gets no usage chunk
// from a translated target, whatever body the attempt replays (the
// prepared one asks for usage on the stack's behalf); one that asked gets
// it. The call's usage is known either way.
func TestTranslatedStreamUsageOnlyWhenAsked(t *testing.T) {
	for _, asked := range []bool{false, true} {
		cfg := Config{Targets: []Target{{Name: "primary"}, {Name: "other", Provider: provider.Anthropic, BaseURL: backupURL + "/v1", APIKey: backupKey, Priority: 1}}}
		g := newRig(t, cfg, true)
		g.primary.Always(llmtest.HTTPError(503))
		body := `{"model":"claude-haiku-4-5","stream":true,"messages":[{"role":"user","content":"Say hello"}]}`
		if asked {
			body = `{"model":"claude-haiku-4-5","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello"}]}`
		}
		r := g.do(t, nil, body)
		require.Equal(t, 200, r.status, r.body)
		assert.Equal(t, asked, containsUsageChunk(r.body), "asked %v: %s", asked, r.body)
		assert.True(t, r.call.Result().UsageKnown)
	}
}

func containsUsageChunk(stream string) bool {
	return strings.Contains(stream, `"usage":{"prompt_tokens"`)
}
