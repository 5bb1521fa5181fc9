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
	assert.Equal(t, 3, strings.Count(got, "reply:  Hello from llmtest."))
	assert.Contains(t, got, "stream: Hello from llmtest.")

	// Fallback: the primary is down; the first call falls back to Claude,
	// in Anthropic's format, then the primary rests and calls go straight
	// to Claude; each answer is translated back for openai-go.
	assert.Equal(t, 1, strings.Count(got, "chat gpt-4o-mini -> 200, model claude-haiku-4-5, attempts 2, cache miss\n"), got)
	assert.Contains(t, got, "  route:  primary (503, provider: HTTP 503")
	assert.Equal(t, 1, strings.Count(got, "), claude (200) -> answered by claude\n"), "one fallback")
	assert.Equal(t, 2, strings.Count(got, "  route:  claude (200) -> answered by claude\n"), "then the primary rests")
	assert.Equal(t, 3, strings.Count(got, "  format: sent to anthropic claude-haiku-4-5 as anthropic.messages, answer translated back to openai.chat\n"), got)

	// Cache: the repeated call is a hit, with no upstream attempt.
	assert.Equal(t, 1, strings.Count(got, "chat gpt-4o-mini -> 200, model claude-haiku-4-5, attempts 0, cache hit\n"), got)
	assert.Equal(t, 1, strings.Count(got, "stream gpt-4o-mini -> 200, model claude-haiku-4-5, attempts 1, cache miss\n"), got)
	assert.Equal(t, 1, strings.Count(got, "out (0 reasoning), saved"), "the hit's tokens are saved, not spent")
	assert.NotContains(t, got, "tokens: unknown", "stream usage is known even though openai-go did not ask for it")
	assert.Equal(t, 4, strings.Count(got, "  cost:   $0.0000"), "every answered call priced (claude-haiku-4-5 is in the table)")

	// Rate limit: the user's fourth call in the minute (the hit does not
	// count) is refused, and nothing goes upstream for it.
	assert.Equal(t, 1, strings.Count(got, "refused: 429, "), got)
	assert.Contains(t, got, `rate limit "quickstart per-user"`)
	assert.Regexp(t, `Retry-After: (1\d|20), `, got, "a slot frees 20 s after the first of the 3 calls")
	assert.Equal(t, 1, strings.Count(got, "  call:   openai chat gpt-4o-mini -> 429, answered by the gateway itself, nothing sent\n"), got)
	assert.Equal(t, 1, strings.Count(got, "(3 requests per minute) exceeded"), "the refusal is printed once")
	assert.NotContains(t, got, "  error:  ", "only the refusal failed, printed as the SDK raised it")
	assert.Equal(t, 1, strings.Count(got, ", first chunk "), "only the stream has a first chunk")
	assert.NotContains(t, got, "first chunk 0s")

	assert.Contains(t, got, "ledger: 5 calls, 1 errors\n", got)
	assert.Contains(t, got, "  saved: 1 cache hits,", "the hit is counted as saved")
	assert.NotContains(t, got, "saved: 1 cache hits, 0 in", "with the tokens it saved")
	assert.NotContains(t, got, "unknown cost", "claude-haiku-4-5 is priced")
	assert.Regexp(t, `spent: \d+ in \(0 cached\), 9 out \(0 reasoning\), \$0\.000\d+\n`, got, "three upstream answers of three words each")
	assert.Contains(t, got, "  model gpt-4o-mini: 5 calls,")
}
