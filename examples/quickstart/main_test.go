package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstartOnTheFake(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	var out strings.Builder
	require.NoError(t, run(context.Background(), &out))
	got := out.String()
	assert.Equal(t, 2, strings.Count(got, "reply:  Hello from llmtest."))
	assert.Contains(t, got, "stream: Hello from llmtest.")
	assert.Equal(t, 1, strings.Count(got, "(stream false) -> 200, model gpt-4o-mini, attempts 1, cache miss\n"), got)
	assert.Equal(t, 1, strings.Count(got, "(stream false) -> 200, model gpt-4o-mini, attempts 0, cache hit\n"), got)
	assert.Equal(t, 1, strings.Count(got, "(stream true) -> 200, model gpt-4o-mini, attempts 1, cache miss\n"), got)
	assert.Equal(t, 1, strings.Count(got, "out (0 reasoning), saved"), "the hit's tokens are saved, not spent")
	assert.NotContains(t, got, "tokens: unknown", "stream usage is known even though openai-go did not ask for it")
	assert.NotContains(t, got, "error:")
	assert.Equal(t, 3, strings.Count(got, "  cost:   $0.0000"), "every call priced (gpt-4o-mini is in the table)")

	assert.Contains(t, got, "ledger: 3 calls, 0 errors\n", got)
	assert.Contains(t, got, "  saved: 1 cache hits,", "the hit is counted as saved")
	assert.NotContains(t, got, "saved: 1 cache hits, 0 in", "with the tokens it saved")
	assert.NotContains(t, got, "unknown cost", "gpt-4o-mini is priced")
	assert.Regexp(t, `spent: \d+ in \(0 cached\), 6 out \(0 reasoning\), \$0\.0000\d\d\n`, got, "two upstream calls of three words each")
	assert.Contains(t, got, "  model gpt-4o-mini: 3 calls,")
}
