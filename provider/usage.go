package provider

import "github.com/aigateway-go/aigateway/internal/jsonscan"

// Usage is normalised across providers: InputTokens INCLUDES cached input,
// OutputTokens INCLUDES reasoning (see WIRE.md).
type Usage struct {
	InputTokens           int64 `json:"input_tokens"`
	OutputTokens          int64 `json:"output_tokens"`
	CacheReadTokens       int64 `json:"cache_read_tokens,omitempty"`        // gen_ai.usage.cache_read.input_tokens, inside InputTokens
	CacheCreationTokens   int64 `json:"cache_creation_tokens,omitempty"`    // gen_ai.usage.cache_creation.input_tokens, inside InputTokens
	CacheCreation1hTokens int64 `json:"cache_creation_1h_tokens,omitempty"` // the part of CacheCreationTokens written for 1 hour (priced higher)
	ReasoningTokens       int64 `json:"reasoning_tokens,omitempty"`         // inside OutputTokens
}

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

// openAIUsage reads an OpenAI usage object: Chat Completions
// (prompt_tokens, completion_tokens and their _details), Responses
// (input_tokens, output_tokens and their _details), embeddings
// (prompt_tokens), and DeepSeek's prompt_cache_hit_tokens, which wins over
// cached_tokens. ok is false for null, a non-object, or an object without
// token counts.
func openAIUsage(v []byte) (u Usage, ok bool) {
	if !jsonscan.IsObject(v) {
		return Usage{}, false
	}
	var cached, cacheHit int64
	hit := false
	it := jsonscan.Members(v)
	for it.Next() {
		val := it.Value()
		switch string(it.Key()) {
		case "prompt_tokens", "input_tokens":
			if n, isInt := jsonscan.Int(val); isInt {
				u.InputTokens, ok = n, true
			}
		case "completion_tokens", "output_tokens":
			if n, isInt := jsonscan.Int(val); isInt {
				u.OutputTokens, ok = n, true
			}
		case "total_tokens":
			if _, isInt := jsonscan.Int(val); isInt {
				ok = true
			}
		case "prompt_tokens_details", "input_tokens_details":
			if d, found := jsonscan.Get(val, "cached_tokens"); found {
				cached, _ = jsonscan.Int(d)
			}
		case "completion_tokens_details", "output_tokens_details":
			if d, found := jsonscan.Get(val, "reasoning_tokens"); found {
				u.ReasoningTokens, _ = jsonscan.Int(d)
			}
		case "prompt_cache_hit_tokens":
			cacheHit, hit = jsonscan.Int(val)
		}
	}
	if it.Err() != nil {
		return Usage{}, false
	}
	u.CacheReadTokens = cached
	if hit {
		u.CacheReadTokens = cacheHit
	}
	return u, ok
}

// anthropicUsage keeps Anthropic's raw counts across a stream: message_start
// sets them, each message_delta replaces the ones it carries (output_tokens
// is cumulative).
type anthropicUsage struct {
	input, output, cacheCreation, cacheRead, cache1h, thinking int64
}

// merge replaces the counts present in the usage object v and reports
// whether it had any.
func (a *anthropicUsage) merge(v []byte) bool {
	if !jsonscan.IsObject(v) {
		return false
	}
	seen := false
	set := func(dst *int64, val []byte) {
		if n, ok := jsonscan.Int(val); ok {
			*dst, seen = n, true
		}
	}
	it := jsonscan.Members(v)
	for it.Next() {
		val := it.Value()
		switch string(it.Key()) {
		case "input_tokens":
			set(&a.input, val)
		case "output_tokens":
			set(&a.output, val)
		case "cache_creation_input_tokens":
			set(&a.cacheCreation, val)
		case "cache_read_input_tokens":
			set(&a.cacheRead, val)
		case "cache_creation":
			if d, ok := jsonscan.Get(val, "ephemeral_1h_input_tokens"); ok {
				set(&a.cache1h, d)
			}
		case "output_tokens_details": // thinking_tokens is inside output_tokens
			if d, ok := jsonscan.Get(val, "thinking_tokens"); ok {
				set(&a.thinking, d)
			}
		}
	}
	return seen && it.Err() == nil
}

func (a anthropicUsage) usage() Usage {
	return Usage{
		InputTokens:           a.input + a.cacheCreation + a.cacheRead,
		OutputTokens:          a.output,
		CacheReadTokens:       a.cacheRead,
		CacheCreationTokens:   a.cacheCreation,
		CacheCreation1hTokens: a.cache1h,
		ReasoningTokens:       a.thinking,
	}
}

// geminiUsage reads a usageMetadata object. ok is false when it has no
// token counts (early stream chunks may lack them).
func geminiUsage(v []byte) (u Usage, ok bool) {
	if !jsonscan.IsObject(v) {
		return Usage{}, false
	}
	var candidates, thoughts int64
	it := jsonscan.Members(v)
	for it.Next() {
		n, isInt := jsonscan.Int(it.Value())
		if !isInt {
			continue
		}
		switch string(it.Key()) {
		case "promptTokenCount":
			u.InputTokens, ok = n, true
		case "candidatesTokenCount":
			candidates, ok = n, true
		case "thoughtsTokenCount":
			thoughts, ok = n, true
		case "cachedContentTokenCount":
			u.CacheReadTokens = n
		case "totalTokenCount":
			ok = true
		}
	}
	if it.Err() != nil {
		return Usage{}, false
	}
	u.OutputTokens = candidates + thoughts
	u.ReasoningTokens = thoughts
	return u, ok
}
