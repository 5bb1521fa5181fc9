package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/provider"
)

// A ResponseScanner declared in a function (as the fallback's and the
// translation's error readers declare theirs) stays on its stack: the
// reader of the usage it hands its Capturer is no closure over it, nor
// handed a pointer into it. The allocations left are the buffers a new
// scanner grows: its three captured values (usage, model, id), the
// choices' elements and their values, and the finish reasons.
func TestResponseScannerOnTheStackStaysThere(t *testing.T) {
	body := []byte(`{"id":"c","model":"m","choices":[{"index":0,"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`)
	allocs := testing.AllocsPerRun(10, func() {
		var s ResponseScanner
		s.Reset(provider.FormatOpenAIChat, false, 200)
		s.Write(body)
		u, ok := s.Usage()
		require.True(t, ok)
		require.Equal(t, int64(2), u.OutputTokens)
	})
	assert.Equal(t, float64(3+2+1), allocs)
}
