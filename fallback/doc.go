// Package fallback is the routing layer of the aigateway stack: it decides
// where each attempt of a call goes, retries, falls back across providers
// and keys, and balances load between them.
//
// It sits innermost, below the cache and the rate limiters, so that a cache
// hit never goes upstream and a limit counts a call once, whatever its
// attempts:
//
//	gw, err := aigateway.New(http.DefaultTransport,
//		meter,
//		cache.New(cache.Config{}),
//		limiter,
//		fallback.New(fallback.Config{Targets: []fallback.Target{
//			{Name: "openai"}, // the request as the SDK sent it
//			{Name: "groq", Provider: provider.Groq, APIKeyEnv: "GROQ_API_KEY",
//				Model: "llama-3.3-70b-versatile"},
//		}}),
//	)
//
// It also works alone: &http.Client{Transport: router.Wrap(http.DefaultTransport)}.
//
// # Routing
//
// Targets are tried by Priority, lowest first, and in the order listed: a
// plain list of targets is a fallback chain. Targets of equal priority
// share traffic when any of them sets a Weight: each call draws their order
// at random by weight, so several keys of one provider share the load and
// the others stand in when one fails. A single Config both balances across
// keys and falls back across providers:
//
//	Targets: []fallback.Target{
//		{Name: "key-a", APIKeyEnv: "OPENAI_KEY_A", Weight: 1},
//		{Name: "key-b", APIKeyEnv: "OPENAI_KEY_B", Weight: 1},
//		{Name: "groq", Provider: provider.Groq, APIKeyEnv: "GROQ_API_KEY", Priority: 1},
//	}
//
// Each attempt is a fresh clone of the caller's request (which is never
// modified): the target's URL (the provider's base URL, or BaseURL, joined
// with the API path; Azure OpenAI's deployments shape with its api-version),
// the caller's credentials (Authorization, api-key, x-api-key,
// x-goog-api-key, ?key=) replaced by the target's key in the target's auth
// style (OpenAI-Organization and OpenAI-Project, which name the caller's
// account, are dropped for another host), the target's Headers, the model replaced (in the body for the
// OpenAI and Anthropic formats, in the path for Gemini), and the body
// replayed from the prepared request. A target without a key keeps the
// caller's credentials only when it is the request's own origin: a key
// never leaves for another host. Each upstream response is scanned for usage
// and priced for the provider that answered: each attempt is a Route
// (aigateway.LayerCall.Route), and its records (Result.Upstreams) carry
// the target's provider and model.
//
// # When a call moves on
//
// Transport errors, timeouts and the statuses in Config.RetryOn (by default
// 408, 409, 429, 500, 502, 503, 504, 529) are retried on the same target up
// to AttemptsPerTarget, then the call moves to the next target. 401, 402, 403
// and 404 concern one target (a bad key, an unpaid account, a model that
// provider does not serve): the call moves to the next target at once. So
// does a 429 whose body says the quota or the money is gone (OpenAI
// insufficient_quota, Anthropic enforced_spend_limit_reached, billing_error),
// which also rests the target (see Cooldown).
// Any other status, 400, 413 and 422 included, is the request's own fault
// and is returned at once.
//
// Before a retry on the same target the router waits: the upstream's
// retry-after-ms or Retry-After (seconds or an HTTP date) when given, up to
// Config.MaxRetryWait (10 s by default); a longer wait moves the call to the
// next target at once. Without one it backs off exponentially from
// BackoffBase to BackoffMax, with jitter. MaxAttempts caps the attempts of
// a call across targets; RequestTimeout bounds each attempt until its
// response headers and, for a stream, its first content event. A request's
// X-Aigateway-Max-Attempts and X-Aigateway-Request-Timeout headers (or
// aigateway.WithControls) may lower these limits for one call, never raise
// them: the Config is the operator's, the headers anyone's. The caller's
// context bounds everything: when it ends, the wait or the attempt in
// flight stops at once and RoundTrip returns the context's error.
//
// When every attempt fails, the caller gets the last provider-shaped error
// response, or, when no attempt got an error response (transport errors,
// timeouts, streams that failed before their first content), a
// provider-shaped 502 naming the last failure; either is marked
// x-should-retry: false: the router already retried, and a Go error would
// make the SDK retry the whole sequence again. The Call's Result.Err then
// unwraps to ErrExhausted as well as to the answer's *provider.Error, so
// code that reads Results tells a call that ran out of targets from one the
// request itself failed (errors.Is(r.Err, fallback.ErrExhausted)). Every
// error response the router does not return is read (up to 64 KiB, to
// classify it) and closed; so is every stream it gives up on.
//
// The answer carries X-Aigateway-Target (the target that answered) and
// X-Aigateway-Attempts (the attempts the router made, a per-target layer's
// own refusals included). The Call records the target (Result.Target, and
// Result.Fallback when it was not the first choice) and every attempt in
// order (Result.AttemptLog: target, provider, model, status, duration,
// error).
//
// # Streams
//
// A stream falls back only before its first content byte reaches the
// caller. The router reads an upstream stream until its first content event
// (past Anthropic's message_start and the Responses API's
// response.created and response.in_progress) before it answers: an error
// event that comes first after HTTP 200 (Anthropic's overloaded_error), a
// stream that ends before any content, or no content within the request
// timeout still moves the call on, and the caller sees only the stream that
// worked. It holds back nothing more: the answer's body replays the bytes
// read so far and then streams on as the upstream sends. A stream (or an
// error) in gzip or deflate, which a caller that set Accept-Encoding itself
// gets as it came, is read inflated and passed on compressed. After that point
// a failure (a cut connection, an error event) reaches the caller as the
// stream's error, and the Call records it. Config.IdleTimeout ends a stream
// whose upstream goes silent between chunks with ErrIdleTimeout (before the
// first content event, that too moves the call on); it counts only the time
// a Read waits for the upstream, never a slow reader.
//
// # Cooldown
//
// A target that fails CooldownFailures attempts in a row (3 by default,
// across calls), or answers with Retry-After, rests for Cooldown (30 s by
// default) or for the Retry-After duration (an hour at most); one whose
// quota is gone rests for Cooldown at least. While it rests, calls go
// straight to the next target, and a call already under way does not retry
// it (unless the rest ends within the wait before that retry). When the
// rest is over one call at a time probes it (the others still skip it): a
// success restores it, one more failure rests it again. If every target
// rests, a call tries the one whose rest ends first rather than failing
// without trying. The health state belongs to the Router, shared by every
// stack it is part of; Router.Health reports it per target, for a
// dashboard or a health endpoint.
//
// # Pacing
//
// A target with Pace reads its provider's rate-limit headers from every
// answer (x-ratelimit-remaining-requests, -tokens and their -reset
// durations on OpenAI and the OpenAI-compatible providers;
// anthropic-ratelimit-requests-, -tokens-, -input-tokens- and
// -output-tokens-remaining and their RFC 3339 -reset times on
// Anthropic; the -limit headers when sent), so that the router spares it
// before it answers 429 rather than after. A provider refills its windows
// continuously until their reset: with the limit known, what a call needs
// comes back in its share of that time. While a window lacks a request,
// or the tokens a call is estimated to use (its prompt estimate plus
// max_tokens), the call skips the target for another that is ready
// sooner, or waits for it when none is (within MaxRetryWait and the
// request's deadline, as for a Retry-After). Otherwise a rate.Limiter per
// target spreads its calls over the time to the reset, a tenth of what is
// left at once; a call whose turn comes later than another target could
// take it gives its turn back and moves on. Router.Health reports each
// paced target's windows and pace. A target without Pace costs nothing
// more and ignores the headers.
//
// # Per-target layers
//
// Target.Layers wrap that target's attempts only, once, at Wrap time: a
// rate limiter per key, say. A layer's own answer counts as the target's:
// a success or an error the request caused is returned. An error status a
// layer answers without sending anything upstream (a limiter's local 429)
// moves the call on to the next target at once, without a retry on this
// one; it rests the target for its Retry-After but does not count toward
// CooldownFailures, since the target itself did not fail.
//
// # Wire formats
//
// Targets must speak the request's wire format: an OpenAI-format request
// can go to OpenAI, Azure OpenAI and every OpenAI-compatible provider, an
// Anthropic request to Anthropic, a Gemini request to Gemini. Translation
// between formats comes later; until then Config.Validate reports targets
// whose providers speak different formats, and a call meeting a target that
// does not speak its format is answered with a provider-shaped 500 naming
// that target.
//
// # SDKs
//
// openai-go and anthropic-sdk-go retry twice by default, and each SDK retry
// passes through the whole stack, so the SDK's retries multiply the
// router's. Let the router own retries:
//
//	client := openai.NewClient(option.WithHTTPClient(gw.Client()), option.WithMaxRetries(0))
//
// The router's final error carries x-should-retry: false, which both SDKs
// obey, so even with their defaults they do not repeat a failed sequence.
// In SDKMiddleware mode (option.WithMiddleware(gw.SDKMiddleware)) the SDK's
// own transport refuses hosts other than its base URL: the Gateway sends
// attempts to other hosts through its base transport, with no configuration.
package fallback
