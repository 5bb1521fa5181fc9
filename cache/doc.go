// Package cache is the exact-match response cache layer of the aigateway
// stack.
//
// It sits inside the metering layer (so hits are metered as saved usage)
// and outside the rate limiters and fallback (so hits cost no quota and
// never go upstream):
//
//	gw, err := aigateway.New(http.DefaultTransport,
//		meter,
//		cache.New(cache.Config{TTL: time.Hour}),
//		limiter,
//		router,
//	)
//
// What it gets right where hosted gateways are known to fail:
//
//   - Tenants never share answers. The key is a SHA-256 over the method,
//     provider, host, path and query, the headers that change the answer
//     (anthropic-version, anthropic-beta, OpenAI-Organization,
//     OpenAI-Project), the caller's credentials (hashed with the rest,
//     never kept or stored; Gemini's ?key= too), an optional partition by
//     metadata, the stream flag, and the request body in canonical form: JSON
//     key order and whitespace do not matter, and fields that do not change
//     the answer (stream_options, metadata, store, service_tier, user ...) do
//     not split the key.
//   - Streams are cached and replayed as streams. A stream is teed into the
//     store as it passes, in the upstream's own bytes (usage chunk included),
//     and stored only if it reached its terminator; a hit replays it with the
//     original framing, so openai-go and anthropic-sdk-go parse exactly the
//     original answer. Only complete 200 answers are stored.
//   - Identical calls in flight at the same time make one upstream call
//     (coalescing). The others wait for it and get its answer when it is
//     complete (not chunk by chunk: only a complete 200 is shared), reported
//     as COALESCED. If the leading call fails or is cancelled, the waiting
//     calls do not inherit that: one of them goes upstream instead. A waiting
//     call goes upstream itself after Config.CoalesceWait, or sooner when
//     the answer it waits for has begun but its caller stopped reading it
//     for Config.CoalesceIdle (a goroutine that starts the same call twice
//     before reading the first does not wait for itself); its own context
//     ends its wait at once.
//
// A hit reports the stored answer's usage as saved, never as spent
// (Result.CacheStatus is CacheHit or CacheCoalesced), and costs no upstream
// attempt. Response headers: X-Aigateway-Cache (HIT, MISS, BYPASS,
// COALESCED) and Age on hits.
//
// Per-request controls (see aigateway.Controls): X-Aigateway-Cache-Ttl,
// X-Aigateway-Cache-Key (replaces the request part of the key; still
// partitioned by credential), X-Aigateway-Skip-Cache (neither read nor
// write), X-Aigateway-Refresh-Cache (go upstream, store the new answer).
// WithTTL, WithKey, Skip and Refresh set the same from Go. The request's
// own Cache-Control (no-store, no-cache) counts only when
// Config.HonorCacheControl is set: SDKs and browsers send no-cache on
// every stream.
//
// A Store error never fails a call: the call goes upstream and the error is
// counted in Stats. Entries live in a Store: NewMemoryStore by default
// (bounded by bytes, LRU), or any implementation passing storetest.Run.
// The memory store keeps an answer inside the caller's Read or Close that
// completes the call; any other Store (Redis) gets it just after, from a
// bounded queue, so the end of a stream does not wait for a round trip
// (Cache.Flush waits for it; a Gateway's Close drains the queue). Calls
// coalesced onto the call get its answer once it is stored.
package cache
