package wire

import (
	"github.com/aigateway-go/aigateway/internal/jsonscan"
	"github.com/aigateway-go/aigateway/provider"
)

// inBounds reports whether every count of u is between 0 and
// MaxUsageTokens.
func inBounds(u provider.Usage) bool {
	for _, n := range [...]int64{u.InputTokens, u.OutputTokens, u.CacheReadTokens, u.CacheCreationTokens, u.CacheCreation1hTokens, u.ReasoningTokens} {
		if n < 0 || n > provider.MaxUsageTokens {
			return false
		}
	}
	return true
}

// consistent returns u (in bounds) with each part cut down to what it is
// part of. Pricing bills the parts of the input at their own rates, so an
// overstated part (more cached tokens than input tokens) would bill tokens
// that were never sent; the whole is what the provider counted.
func consistent(u provider.Usage) provider.Usage {
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
	if !ok || n < 0 || n > provider.MaxUsageTokens {
		return 0, true, true
	}
	return n, true, false
}

// usageState is what reading one usage object found.
type usageState uint8

const (
	usageAbsent usageState = iota // null, not an object, or no token counts: not reported
	usageTaken                    // counts within bounds: the Usage returned
	usageBad                      // a count out of bounds (see MaxUsageTokens), or a malformed object: not taken
)

// lastMembers reads the members of object v named by names into vals, the
// last occurrence of each (as JSON decoders keep duplicate keys), and
// reports whether v is a well-formed object.
func lastMembers(v []byte, names []string, vals [][]byte) bool {
	it := jsonscan.Members(v)
	for it.Next() {
		for i, n := range names {
			if string(it.Key()) == n {
				vals[i] = it.Value()
				break
			}
		}
	}
	return it.Err() == nil
}

var openAIUsageNames = []string{"prompt_tokens", "input_tokens", "completion_tokens", "output_tokens", "total_tokens",
	"prompt_tokens_details", "input_tokens_details", "completion_tokens_details", "output_tokens_details", "prompt_cache_hit_tokens"}

// OpenAIUsage reads an OpenAI usage object as the stack does (see
// openAIUsage), and reports whether it held usage that can be taken: the
// translation reads an OpenAI answer's usage with it.
func OpenAIUsage(v []byte) (provider.Usage, bool) {
	u, state := openAIUsage(v)
	return u, state == usageTaken
}

// openAIUsage reads an OpenAI usage object: Chat Completions
// (prompt_tokens, completion_tokens and their _details, cache writes
// included), Responses
// (input_tokens, output_tokens and their _details), embeddings
// (prompt_tokens), and DeepSeek's prompt_cache_hit_tokens, which wins over
// cached_tokens. Each member is read as an SDK reads it: its last
// occurrence, a null counting as absent; the Chat Completions names win
// over the Responses ones when an object has both.
func openAIUsage(v []byte) (provider.Usage, usageState) {
	if !jsonscan.IsObject(v) {
		return provider.Usage{}, usageAbsent
	}
	var vals [10][]byte
	if !lastMembers(v, openAIUsageNames, vals[:]) {
		return provider.Usage{}, usageBad
	}
	var r countReader
	var u provider.Usage
	var total, cached, cacheHit int64
	in := r.read(&u.InputTokens, vals[0]) || r.read(&u.InputTokens, vals[1])
	out := r.read(&u.OutputTokens, vals[2]) || r.read(&u.OutputTokens, vals[3])
	tot := r.read(&total, vals[4])
	for _, d := range [...][]byte{vals[5], vals[6]} {
		if c, found := jsonscan.Get(d, "cached_tokens"); found && r.read(&cached, c) {
			break
		}
	}
	// Cache writes, which openai-go reads as cache_write_tokens.
	if c, found := jsonscan.Get(vals[5], "cache_write_tokens"); found {
		r.read(&u.CacheCreationTokens, c)
	}
	for _, d := range [...][]byte{vals[7], vals[8]} {
		if c, found := jsonscan.Get(d, "reasoning_tokens"); found && r.read(&u.ReasoningTokens, c) {
			break
		}
	}
	hit := r.read(&cacheHit, vals[9])
	switch {
	case r.bad:
		return provider.Usage{}, usageBad
	case !in && !out && !tot:
		return provider.Usage{}, usageAbsent
	}
	u.CacheReadTokens = cached
	if hit {
		u.CacheReadTokens = cacheHit
	}
	return consistent(u), usageTaken
}

// countReader reads token counts, noting any that cannot be one.
type countReader struct{ bad bool }

// read sets *dst from the raw value v and reports whether v was a count
// (nil, null and non-numbers are absent; a bad number is noted).
func (r *countReader) read(dst *int64, v []byte) bool {
	if v == nil {
		return false
	}
	n, found, wrong := count(v)
	r.bad = r.bad || wrong
	if found && !wrong {
		*dst = n
	}
	return found && !wrong
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

var anthropicUsageNames = []string{"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "cache_creation", "output_tokens_details"}

// merge replaces the counts present in the usage object v (each count's
// last occurrence; a null one is not present) and reports what it found.
func (a *anthropicUsage) merge(v []byte) usageState {
	if a.rejected {
		return usageBad
	}
	if !jsonscan.IsObject(v) {
		return usageAbsent
	}
	var vals [6][]byte
	if !lastMembers(v, anthropicUsageNames, vals[:]) {
		a.rejected = true
		return usageBad
	}
	next := *a
	var r countReader
	seen := r.read(&next.input, vals[0])
	seen = r.read(&next.output, vals[1]) || seen
	seen = r.read(&next.cacheCreation, vals[2]) || seen
	seen = r.read(&next.cacheRead, vals[3]) || seen
	if d, ok := jsonscan.Get(vals[4], "ephemeral_1h_input_tokens"); ok {
		seen = r.read(&next.cache1h, d) || seen
	}
	if d, ok := jsonscan.Get(vals[5], "thinking_tokens"); ok { // inside output_tokens
		seen = r.read(&next.thinking, d) || seen
	}
	if r.bad || !inBounds(next.raw()) {
		a.rejected = true
		return usageBad
	}
	if !seen {
		return usageAbsent
	}
	*a = next
	return usageTaken
}

// raw is the usage the counts say, before consistency.
func (a anthropicUsage) raw() provider.Usage {
	return provider.Usage{
		InputTokens:           a.input + a.cacheCreation + a.cacheRead,
		OutputTokens:          a.output,
		CacheReadTokens:       a.cacheRead,
		CacheCreationTokens:   a.cacheCreation,
		CacheCreation1hTokens: a.cache1h,
		ReasoningTokens:       a.thinking,
	}
}

// usage is the merged usage, consistent (see Usage).
func (a anthropicUsage) usage() provider.Usage { return consistent(a.raw()) }

var geminiUsageNames = []string{"promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount", "cachedContentTokenCount", "totalTokenCount"}

// geminiUsage reads a usageMetadata object (each count's last occurrence;
// early stream chunks may lack counts: absent).
func geminiUsage(v []byte) (provider.Usage, usageState) {
	if !jsonscan.IsObject(v) {
		return provider.Usage{}, usageAbsent
	}
	var vals [5][]byte
	if !lastMembers(v, geminiUsageNames, vals[:]) {
		return provider.Usage{}, usageBad
	}
	var r countReader
	var u provider.Usage
	var candidates, thoughts, total int64
	ok := r.read(&u.InputTokens, vals[0])
	ok = r.read(&candidates, vals[1]) || ok
	ok = r.read(&thoughts, vals[2]) || ok
	r.read(&u.CacheReadTokens, vals[3])
	ok = r.read(&total, vals[4]) || ok
	switch {
	case r.bad:
		return provider.Usage{}, usageBad
	case !ok:
		return provider.Usage{}, usageAbsent
	}
	u.OutputTokens = candidates + thoughts
	u.ReasoningTokens = thoughts
	if !inBounds(u) {
		return provider.Usage{}, usageBad
	}
	return consistent(u), usageTaken
}
