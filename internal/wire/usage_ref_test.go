package wire

// The usage readers as they were before they read the usual usage object
// in one pass (usageShape.readQuick): the reference the differential
// tests and FuzzUsageReadersMatchTheReference hold them to, kept verbatim
// but for the names.

import (
	"github.com/aigateway-go/aigateway/internal/jsonscan"
	"github.com/aigateway-go/aigateway/provider"
)

// lastMembersRef reads the members of object v named by names into vals, the
// last occurrence of each (as JSON decoders keep duplicate keys), and
// reports whether v is a well-formed object.
func lastMembersRef(v []byte, names []string, vals [][]byte) bool {
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

var openAIUsageNamesRef = []string{"prompt_tokens", "input_tokens", "completion_tokens", "output_tokens", "total_tokens",
	"prompt_tokens_details", "input_tokens_details", "completion_tokens_details", "output_tokens_details", "prompt_cache_hit_tokens"}

// openAIUsage reads an OpenAI usage object: Chat Completions
// (prompt_tokens, completion_tokens and their _details, cache writes
// included), Responses
// (input_tokens, output_tokens and their _details), embeddings
// (prompt_tokens), and DeepSeek's prompt_cache_hit_tokens, which wins over
// cached_tokens. Each member is read as an SDK reads it: its last
// occurrence, a null counting as absent; the Chat Completions names win
// over the Responses ones when an object has both.
func openAIUsageRef(v []byte) (provider.Usage, usageState) {
	if !jsonscan.IsObject(v) {
		return provider.Usage{}, usageAbsent
	}
	var vals [10][]byte
	if !lastMembersRef(v, openAIUsageNamesRef, vals[:]) {
		return provider.Usage{}, usageBad
	}
	var r countReaderRef
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

// countReaderRef reads token counts, noting any that cannot be one.
type countReaderRef struct{ bad bool }

// read sets *dst from the raw value v and reports whether v was a count
// (nil, null and non-numbers are absent; a bad number is noted).
func (r *countReaderRef) read(dst *int64, v []byte) bool {
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

var anthropicUsageNamesRef = []string{"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "cache_creation", "output_tokens_details"}

// merge replaces the counts present in the usage object v (each count's
// last occurrence; a null one is not present) and reports what it found.
func (a *anthropicUsage) mergeRef(v []byte) usageState {
	if a.rejected {
		return usageBad
	}
	if !jsonscan.IsObject(v) {
		return usageAbsent
	}
	var vals [6][]byte
	if !lastMembersRef(v, anthropicUsageNamesRef, vals[:]) {
		a.rejected = true
		return usageBad
	}
	next := *a
	var r countReaderRef
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

var geminiUsageNamesRef = []string{"promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount", "cachedContentTokenCount", "totalTokenCount"}

// geminiUsage reads a usageMetadata object (each count's last occurrence;
// early stream chunks may lack counts: absent).
func geminiUsageRef(v []byte) (provider.Usage, usageState) {
	if !jsonscan.IsObject(v) {
		return provider.Usage{}, usageAbsent
	}
	var vals [5][]byte
	if !lastMembersRef(v, geminiUsageNamesRef, vals[:]) {
		return provider.Usage{}, usageBad
	}
	var r countReaderRef
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
