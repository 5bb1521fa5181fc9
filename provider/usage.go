package provider

// Usage is normalised across providers: InputTokens INCLUDES cached input,
// OutputTokens INCLUDES reasoning (see docs/wire.md, "Usage, normalised").
//
// A Usage the stack reads from an upstream response (a Call's Result, each
// of its Upstreams) is within bounds and consistent: every count is
// between 0 and MaxUsageTokens, and a part is never larger than what it is
// part of (the cache counts fit in InputTokens without overlapping,
// CacheCreation1hTokens in CacheCreationTokens, ReasoningTokens in
// OutputTokens), a part an upstream overstated being cut down to its
// whole. A usage object with a
// count out of bounds is not taken: the response reports no usage (see
// MaxUsageTokens).
type Usage struct {
	InputTokens           int64 `json:"input_tokens"`
	OutputTokens          int64 `json:"output_tokens"`
	CacheReadTokens       int64 `json:"cache_read_tokens,omitempty"`        // gen_ai.usage.cache_read.input_tokens, inside InputTokens
	CacheCreationTokens   int64 `json:"cache_creation_tokens,omitempty"`    // gen_ai.usage.cache_creation.input_tokens, inside InputTokens, beside CacheReadTokens
	CacheCreation1hTokens int64 `json:"cache_creation_1h_tokens,omitempty"` // the part of CacheCreationTokens written for 1 hour (priced higher)
	ReasoningTokens       int64 `json:"reasoning_tokens,omitempty"`         // inside OutputTokens
}

// MaxUsageTokens bounds every token count of one upstream response's
// usage, InputTokens and OutputTokens included: a usage object reporting
// more (or a negative count, or one that is not a whole number) is not
// taken: the stack reports no usage for that response, so that the layers
// counting tokens and cost fall back on what they estimated rather than on
// garbage. In a stream, one such object makes the whole stream's usage
// unknown: an earlier event's counts (Gemini's cumulative ones so far,
// Anthropic's message_start with its placeholder output_tokens) would
// undercount the answer.
//
// It is 10× the largest context window any model offers (10M tokens):
// a response's input and its output both fit in its model's context
// window, and even a response that bills several model turns (a Responses
// API call running built-in tools) stays far below it. A figure above it
// is an upstream's bug, or a server that is not what it claims, never
// usage. Within it, token arithmetic cannot overflow an int64: the sum
// over tens of billions of responses still fits.
const MaxUsageTokens = 100_000_000

// Add returns the field-wise sum.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		InputTokens:           u.InputTokens + v.InputTokens,
		OutputTokens:          u.OutputTokens + v.OutputTokens,
		CacheReadTokens:       u.CacheReadTokens + v.CacheReadTokens,
		CacheCreationTokens:   u.CacheCreationTokens + v.CacheCreationTokens,
		CacheCreation1hTokens: u.CacheCreation1hTokens + v.CacheCreation1hTokens,
		ReasoningTokens:       u.ReasoningTokens + v.ReasoningTokens,
	}
}

// TotalTokens returns InputTokens + OutputTokens.
func (u Usage) TotalTokens() int64 { return u.InputTokens + u.OutputTokens }
