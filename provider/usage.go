package provider

import "github.com/aigateway-go/aigateway/internal/jsonscan"

// Usage is normalised across providers: InputTokens INCLUDES cached input,
// OutputTokens INCLUDES reasoning (see WIRE.md).
//
// A Usage read from an upstream response (ResponseScanner.Usage) is within
// bounds and consistent: every count is between 0 and MaxUsageTokens, and
// a part is never larger than what it is part of (the cache counts fit in
// InputTokens without overlapping, CacheCreation1hTokens in
// CacheCreationTokens, ReasoningTokens in OutputTokens), a part an
// upstream overstated being cut down to its whole. A usage object with a
// count out of bounds is not taken: the response reports no usage, or, in
// a stream, the usage an earlier event reported (see MaxUsageTokens).
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
// taken: ResponseScanner.Usage reports no usage for it, so that the layers
// counting tokens and cost fall back on what they estimated rather than on
// garbage. In a stream, the usage of an earlier event stands: an OpenAI or
// Gemini chunk's before it, or an Anthropic message_start's when a
// message_delta's counts would leave the merged ones out of bounds (no
// later event of that message is merged then).
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

// inBounds reports whether every count of u is between 0 and
// MaxUsageTokens.
func (u Usage) inBounds() bool {
	for _, n := range [...]int64{u.InputTokens, u.OutputTokens, u.CacheReadTokens, u.CacheCreationTokens, u.CacheCreation1hTokens, u.ReasoningTokens} {
		if n < 0 || n > MaxUsageTokens {
			return false
		}
	}
	return true
}

// consistent returns u (in bounds) with each part cut down to what it is
// part of. Pricing bills the parts of the input at their own rates, so an
// overstated part (more cached tokens than input tokens) would bill tokens
// that were never sent; the whole is what the provider counted.
func (u Usage) consistent() Usage {
	u.CacheReadTokens = min(u.CacheReadTokens, u.InputTokens)
	u.CacheCreationTokens = min(u.CacheCreationTokens, u.InputTokens-u.CacheReadTokens)
	u.CacheCreation1hTokens = min(u.CacheCreation1hTokens, u.CacheCreationTokens)
	u.ReasoningTokens = min(u.ReasoningTokens, u.OutputTokens)
	return u
}

// count reads one token count of a usage object. found is false when v is
// not a number (null, a string, an object: not a count, as if absent);
// bad is true for a number that cannot be one: negative, fractional, in
// exponent form, or above MaxUsageTokens.
func count(v []byte) (n int64, found, bad bool) {
	if len(v) == 0 || v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return 0, false, false
	}
	n, ok := jsonscan.Int(v)
	if !ok || n < 0 || n > MaxUsageTokens {
		return 0, true, true
	}
	return n, true, false
}

// openAIUsage reads an OpenAI usage object: Chat Completions
// (prompt_tokens, completion_tokens and their _details), Responses
// (input_tokens, output_tokens and their _details), embeddings
// (prompt_tokens), and DeepSeek's prompt_cache_hit_tokens, which wins over
// cached_tokens. ok is false for null, a non-object, an object without
// token counts, and one with a count out of bounds (see MaxUsageTokens).
func openAIUsage(v []byte) (u Usage, ok bool) {
	if !jsonscan.IsObject(v) {
		return Usage{}, false
	}
	var cached, cacheHit int64
	hit, bad := false, false
	read := func(dst *int64, val []byte) bool {
		n, found, wrong := count(val)
		bad = bad || wrong
		if found && !wrong {
			*dst = n
		}
		return found
	}
	var total int64
	it := jsonscan.Members(v)
	for it.Next() {
		val := it.Value()
		switch string(it.Key()) {
		case "prompt_tokens", "input_tokens":
			ok = read(&u.InputTokens, val) || ok
		case "completion_tokens", "output_tokens":
			ok = read(&u.OutputTokens, val) || ok
		case "total_tokens":
			ok = read(&total, val) || ok
		case "prompt_tokens_details", "input_tokens_details":
			if d, found := jsonscan.Get(val, "cached_tokens"); found {
				read(&cached, d)
			}
		case "completion_tokens_details", "output_tokens_details":
			if d, found := jsonscan.Get(val, "reasoning_tokens"); found {
				read(&u.ReasoningTokens, d)
			}
		case "prompt_cache_hit_tokens":
			hit = read(&cacheHit, val) || hit
		}
	}
	if it.Err() != nil || bad || !ok {
		return Usage{}, false
	}
	u.CacheReadTokens = cached
	if hit {
		u.CacheReadTokens = cacheHit
	}
	return u.consistent(), true
}

// anthropicUsage keeps Anthropic's raw counts across a stream: message_start
// sets them, each message_delta replaces the ones it carries (output_tokens
// is cumulative). Each usage object is judged on the counts it leaves: one
// that would leave them out of bounds (see MaxUsageTokens) is not merged,
// and no later object of the message is either, since counts that follow
// one the stream got wrong cannot be trusted to complete it.
type anthropicUsage struct {
	input, output, cacheCreation, cacheRead, cache1h, thinking int64
	rejected                                                   bool
}

// merge replaces the counts present in the usage object v and reports
// whether it had any and they were taken.
func (a *anthropicUsage) merge(v []byte) bool {
	if a.rejected || !jsonscan.IsObject(v) {
		return false
	}
	next := *a
	seen, bad := false, false
	set := func(dst *int64, val []byte) {
		n, found, wrong := count(val)
		bad = bad || wrong
		if found && !wrong {
			*dst, seen = n, true
		}
	}
	it := jsonscan.Members(v)
	for it.Next() {
		val := it.Value()
		switch string(it.Key()) {
		case "input_tokens":
			set(&next.input, val)
		case "output_tokens":
			set(&next.output, val)
		case "cache_creation_input_tokens":
			set(&next.cacheCreation, val)
		case "cache_read_input_tokens":
			set(&next.cacheRead, val)
		case "cache_creation":
			if d, ok := jsonscan.Get(val, "ephemeral_1h_input_tokens"); ok {
				set(&next.cache1h, d)
			}
		case "output_tokens_details": // thinking_tokens is inside output_tokens
			if d, ok := jsonscan.Get(val, "thinking_tokens"); ok {
				set(&next.thinking, d)
			}
		}
	}
	if it.Err() != nil {
		return false
	}
	if bad || !next.raw().inBounds() {
		a.rejected = true
		return false
	}
	if seen {
		*a = next
	}
	return seen
}

// raw is the usage the counts say, before consistency.
func (a anthropicUsage) raw() Usage {
	return Usage{
		InputTokens:           a.input + a.cacheCreation + a.cacheRead,
		OutputTokens:          a.output,
		CacheReadTokens:       a.cacheRead,
		CacheCreationTokens:   a.cacheCreation,
		CacheCreation1hTokens: a.cache1h,
		ReasoningTokens:       a.thinking,
	}
}

// usage is the merged usage, consistent (see Usage).
func (a anthropicUsage) usage() Usage { return a.raw().consistent() }

// geminiUsage reads a usageMetadata object. ok is false when it has no
// token counts (early stream chunks may lack them), or a count out of
// bounds (see MaxUsageTokens).
func geminiUsage(v []byte) (u Usage, ok bool) {
	if !jsonscan.IsObject(v) {
		return Usage{}, false
	}
	var candidates, thoughts, total int64
	bad := false
	read := func(dst *int64, val []byte) bool {
		n, found, wrong := count(val)
		bad = bad || wrong
		if found && !wrong {
			*dst = n
		}
		return found
	}
	it := jsonscan.Members(v)
	for it.Next() {
		val := it.Value()
		switch string(it.Key()) {
		case "promptTokenCount":
			ok = read(&u.InputTokens, val) || ok
		case "candidatesTokenCount":
			ok = read(&candidates, val) || ok
		case "thoughtsTokenCount":
			ok = read(&thoughts, val) || ok
		case "cachedContentTokenCount":
			read(&u.CacheReadTokens, val)
		case "totalTokenCount":
			ok = read(&total, val) || ok
		}
	}
	if it.Err() != nil || bad || !ok {
		return Usage{}, false
	}
	u.OutputTokens = candidates + thoughts
	u.ReasoningTokens = thoughts
	if !u.inBounds() {
		return Usage{}, false
	}
	return u.consistent(), true
}
