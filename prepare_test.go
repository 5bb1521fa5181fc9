package aigateway

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInjectedStreamUsage(t *testing.T) {
	for _, tc := range []struct {
		url, body string
		want      bool
	}{
		{"https://api.openai.com/v1/chat/completions", chatStreamBody, true},
		{"https://api.openai.com/v1/chat/completions", `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]}`, false},
		{"https://api.openai.com/v1/chat/completions", chatBody, false},
		{"https://api.mistral.ai/v1/chat/completions", chatStreamBody, false}, // Mistral rejects the field
	} {
		_, out, err := prepare(newChatRequest(t, tc.url, tc.body), 0, false)
		require.NoError(t, err)
		assert.Equal(t, tc.want, CallFrom(out.Context()).InjectedStreamUsage(), tc.url+" "+tc.body)
	}
}
