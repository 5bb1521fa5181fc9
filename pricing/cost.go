package pricing

import "github.com/aigateway-go/aigateway/provider"

// rates are a row's (or tier's) prices, USD per 1M tokens, with the
// missing cache prices already derived, so Cost never branches on them.
type rates struct{ in, out, read, w5, w1h float64 }

type tierRates struct {
	above int64
	r     rates
}

// compile derives the cache prices a row leaves at zero: Anthropic's
// published multipliers for the "anthropic" provider, the input price for
// every other.
func compile(providerName string, in, out, read, w5, w1h float64) rates {
	r := rates{in: in, out: out, read: read, w5: w5, w1h: w1h}
	readX, w5X, w1hX := 1.0, 1.0, 1.0
	if providerName == anthropicName {
		readX, w5X, w1hX = 0.1, 1.25, 2
	}
	if r.read == 0 {
		r.read = in * readX
	}
	if r.w5 == 0 {
		r.w5 = in * w5X
	}
	if r.w1h == 0 {
		r.w1h = in * w1hX
	}
	return r
}

// Cost returns what u cost in USD when providerName (a gen_ai.provider.name
// such as "openai", "anthropic", "gcp.gemini") answered for model, the
// model the provider reports. ok is false when no row prices the model:
// the cost is then unknown, and usd is 0 only because it has to be
// something; never record it as a cost of 0.
//
// Usage is normalised (InputTokens includes cache reads and writes,
// OutputTokens includes reasoning), so one formula covers every provider:
//
//	(input − cache_read − cache_write)·in + cache_read·read
//	  + (cache_write − cache_write_1h)·write_5m + cache_write_1h·write_1h
//	  + output·out
//
// which is OpenAI's (input − cached)·in + cached·read + output·out when no
// cache writes are reported, Gemini's (prompt − cached)·in + cached·read +
// (candidates + thoughts)·out, and Anthropic's uncached, 5-minute-write,
// 1-hour-write and read pricing. A row with long-context tiers is priced
// at the highest tier whose threshold InputTokens exceeds. Negative counts
// count as zero, and cache counts are capped so that no token is billed
// twice.
//
// Cost does not allocate and is safe for concurrent use.
func (t *Table) Cost(providerName, model string, u provider.Usage) (usd float64, ok bool) {
	e := t.orDefault().resolve(providerName, model)
	if e == nil {
		return 0, false
	}
	return e.cost(u), true
}

func (e *entry) cost(u provider.Usage) float64 {
	r := &e.base
	for i := len(e.tiers) - 1; i >= 0; i-- {
		if u.InputTokens > e.tiers[i].above {
			r = &e.tiers[i].r
			break
		}
	}
	input := max(u.InputTokens, 0)
	read := min(max(u.CacheReadTokens, 0), input)
	write := min(max(u.CacheCreationTokens, 0), input-read)
	write1h := min(max(u.CacheCreation1hTokens, 0), write)
	uncached := input - read - write
	sum := float64(uncached)*r.in +
		float64(read)*r.read +
		float64(write-write1h)*r.w5 +
		float64(write1h)*r.w1h +
		float64(max(u.OutputTokens, 0))*r.out
	return sum / 1e6
}
