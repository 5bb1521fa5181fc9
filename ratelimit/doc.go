// Package ratelimit is the rate-limit layer of the aigateway stack: limits
// on requests, tokens and spend, per key, user, team or model, that count
// streamed output and enforce exactly what they say.
//
// It sits inside the cache (so calls the cache answers never count) and
// outside fallback:
//
//	gw, err := aigateway.New(http.DefaultTransport,
//		meter,
//		cache.New(cache.Config{}),
//		ratelimit.New(ratelimit.Config{Rules: []ratelimit.Rule{
//			{Name: "per-user tokens", Key: "metadata:user", Tokens: 100_000, Per: time.Minute, Wait: true},
//			{Name: "monthly budget", Key: "metadata:team", CostUSD: 500, Period: ratelimit.PeriodMonth},
//		}}),
//		router,
//	)
//
// # Rules
//
// A Rule counts one of three things, for every caller sharing its Key:
//
//   - Requests and Tokens are token buckets (GCRA): a sustained rate of N
//     per Per, in bursts of up to N, or up to Burst when it is set. Tokens
//     are input plus output tokens as the upstream reports them, input
//     including cache reads unless ExcludeCachedTokens is set.
//   - CostUSD is a budget, charged the price the stack puts on each answer
//     (aigateway.Upstream.Cost, with the Gateway's Prices table: the
//     embedded one by default, the same the meter reports), for each calendar Period ("day", "week" from Monday,
//     "month", starting at midnight in Config.TimeZone, or when the date
//     begins where a clock change skips midnight) or over a rolling
//     Per (a bucket that refills CostUSD every Per). A call is charged to
//     the period it was admitted in.
//
// A call goes upstream only when every rule admits it, and a refused call
// is charged to none of them.
//
// # Models without a price
//
// A budget that let through what it cannot price would not hold, so it
// refuses a call whose model (for the call's provider) the table has no
// row for, "chatgpt-4o-latest" or a fine-tuned id, say, and a call whose
// body the stack cannot read (no model to price). Nothing is sent
// upstream; the caller gets a provider-shaped 403 naming the rule, the
// model and the provider, with x-should-retry: false and the rule in
// HeaderRule (a 403, not a 429: no wait will help; an SDK raises it as a
// permission error, and a router moves on to its next target), and
// Result.Err unwraps to ErrUnpriced. Add the price to the Gateway's Prices:
//
//	prices, err := pricing.Default().Set("openai", "ft:gpt-4o-mini-2024-07-18:acme::9xYz",
//		pricing.Price{Input: 0.30, Output: 1.20})
//
// (or Merge a table read with pricing.LoadFile), or set AllowUnpriced on
// the rule to admit such calls at no cost to it.
//
// A budget charges the price the stack put on each answer, the same the
// meter reports: an answer whose model the table lacks (a newer snapshot
// than the table knows) is priced as the model the attempt asked for. An
// answer the stack cannot price at all (a fallback target's provider the
// table lacks: the meter reports its cost as unknown) is not free for a
// budget: it is priced as the provider and model the call was admitted
// for, and one admitted by AllowUnpriced that no row prices either costs
// nothing. Stats.Unpriced counts those answers.
//
// # Reserve, then settle
//
// Tokens and cost are only known once the answer is in, so admission
// reserves an estimate: the request's prompt estimate (body bytes / 4,
// an upper bound) plus its max_tokens when it sets one, priced for a
// budget. When the call completes (the caller read or closed the body, or
// its context ended) the reservation is replaced by what the upstream
// responses reported, streams included: the stack asks a stream for its
// usage chunk even when the client did not. A call cut or cancelled before
// its usage arrived is charged what was seen, and at least the estimate of
// its input; a whole answer that reported no usage (a provider that does
// not report stream usage) keeps its reservation, since its output is
// unknown, not zero; an upstream error status is charged nothing (requests
// rules still count it). A usage report out of bounds (a negative count, or
// one above provider.MaxUsageTokens) counts as no report. A request the
// stack cannot size (a body that does not parse) reserves nothing, is
// admitted unless a counter is already in debt (a budget refuses it, see
// above), and is settled on its reported usage.
//
// With the memory store, the settlement runs inside the caller's Read or
// Close that completes the call. With any other Store (Redis) it would add
// a round trip to the end of every answer, so it runs just after, on a
// bounded queue, stamped with the instant the call completed: the
// counters come out the same, a moment later (Limiter.Flush waits for
// them; a Gateway's Close drains the queue).
//
// So calls in flight together can never overshoot a limit by more than
// they use beyond their estimates: with max_tokens set, only by input the
// estimate did not see (an image passed by URL, say); without it, by
// their output. A counter a call overshot is in debt (Status.Remaining
// below zero) and refuses until it has refilled. A request whose estimate
// alone is more than a rule holds is refused at once (there is no wait
// after which it would fit).
//
// # Refusals and waiting
//
// A call refused by a limit gets a 429 shaped like its provider's own
// errors (OpenAI, Anthropic, Gemini), naming the rule, with Retry-After
// (and retry-after-ms) saying when that rule would admit it,
// x-should-retry: false (an SDK does not retry it behind the application's
// back), and the rule's name in HeaderRule. Nothing is sent upstream. It is never a Go
// error from RoundTrip; the call's Result.Err (Track, a meter's records)
// unwraps to ErrLimited, and to the *provider.Error of the 429.
//
// A rule with Wait blocks the call instead, until it is admitted or its
// context ends (then RoundTrip returns the context's error). A wait that
// cannot end before the context's deadline is refused at once with the
// same 429, rather than slept through. A call refused by a rule without
// Wait is refused at once, whatever the other rules say.
//
// # Keys
//
// Key is a spec: "" (everyone shares one limit), "metadata:NAME" (a tag set
// with aigateway.WithMetadata or the X-Aigateway-Metadata header),
// "api_key" (a fingerprint of the caller's credential; the key itself is
// never stored), "model" (as requested), "provider" (gen_ai.provider.name),
// or several joined by commas ("metadata:team,model": each team on each
// model). KeyFunc computes a key in code instead. Values are joined
// unambiguously (length-prefixed; long ones hashed). Calls without the tag
// share one counter. Status takes the same values to report a counter.
//
// # Behind a fallback target
//
// A limiter can also sit in one fallback target's own layers, to keep
// under a provider's limit before the provider refuses: "Groq at 30
// requests per minute, then fall back". Its local 429 makes the router try
// the next target, without a request going to Groq, and its Retry-After
// says when Groq can take calls again:
//
//	{Name: "groq", Provider: provider.Groq, APIKeyEnv: "GROQ_API_KEY",
//		Layers: []aigateway.Middleware{ratelimit.New(ratelimit.Config{Rules: []ratelimit.Rule{
//			{Name: "groq rpm", Requests: 30, Per: time.Minute},
//		}})}}
//
// There, each attempt the limiter admits (the router's retries of that
// target included) is settled to that attempt's own upstream records
// (aigateway.LayerCall.AppendUpstreams, by the Route of the attempt): a
// response from another target is never charged to it. A budget there
// prices what the target is sent: the target's Model and provider (the
// router says so in the attempt's context: aigateway.LayerCall.RouteOf), so a
// call that names an alias the target replaces is priced, and refused only
// when the target's own model has no price.
//
// # Counters
//
// Counters live in a Store: NewMemoryStore by default, bounded by its
// number of keys, or any implementation passing storetest.Run. Memory
// counters and budgets start from zero when the process restarts, and each
// replica has its own: a shared store (Redis, to come) keeps them across
// restarts and replicas. A Store error lets the call through (counted in
// Stats.StoreErrors), or refuses it with a 503 when Config.FailClosed.
//
// Only calls the stack recognises are limited (chat, messages, responses,
// embeddings, generateContent); other requests pass through untouched.
package ratelimit
