// Package metering counts what every call through the stack used and cost,
// and reports it: OpenTelemetry GenAI metrics and spans, an in-process
// Ledger, a per-call hook, and request-log sinks.
//
// A Meter is a layer. Put it first in aigateway.New's list, outermost, so
// that it sees every call, cache hits included, and must not sit inside a
// layer that retries (a fallback layer): it meters each pass through it.
//
//	meter := metering.New(metering.Config{})   // global OpenTelemetry providers, embedded prices
//	gw, err := aigateway.New(http.DefaultTransport, meter, cache.New(cache.Config{}))
//	defer gw.Close()                          // closes the meter: flushes its sinks
//	...
//	fmt.Println(meter.Ledger().Totals().CostUSD)
//
// # When a call completes
//
// When the call completes (the caller has read the response body to its
// end, closed it, or its context ended), in the Read or Close that
// completed it, the meter builds the call's Record, adds it to the Ledger,
// calls Config.OnRecord, and queues the Record for the sinks without
// waiting (a full queue drops it and counts it, see Meter.Dropped): the
// ledger is up to date the moment the body is done. The metrics and the
// span (ended with the instant the call completed) are recorded just
// after, off the caller's path, on a bounded queue: the OpenTelemetry SDK's
// work (several microseconds a call) is not added to the caller's last
// Read. Meter.Flush waits for them; Close drains them. At most
// TelemetryQueue calls wait; beyond that a call's metrics and span are
// recorded in its caller's Read again (Meter.TelemetryInline counts
// them), so none is lost. With no-op providers nothing is queued.
//
// The meter reports the price the stack put on the call (Result.Cost): each
// upstream answer priced once, where it was read, with the Gateway's table
// (aigateway.Gateway.Prices), for the provider that answered it (the
// call's own, or the target a fallback layer sent the attempt to) and the
// model it reported (else the model asked for); the budgets of a rate
// limiter charge the same price. A model without a price has an unknown
// cost (CostKnown false), never a cost of 0: it is counted in
// Totals.UnknownCost and left out of aigateway.cost.
//
// # Metrics
//
// Instrumentation scope ScopeName (the module path), the instrument types of
// the OpenTelemetry GenAI conventions (semconv v1.41.0 genaiconv) with their
// advised bucket boundaries:
//
//   - gen_ai.client.token.usage (Int64 histogram, {token}), once with
//     gen_ai.token.type=input and, except for embeddings, once with output.
//     Only tokens spent: a call answered from the cache records none.
//   - gen_ai.client.operation.duration (s), every call.
//   - gen_ai.client.operation.time_to_first_chunk (s), streams only.
//   - gen_ai.client.operation.time_per_output_chunk (s), streams only. The
//     conventions record it per chunk; the stack does not time each chunk,
//     so the meter records one value per stream: the time after the first
//     chunk divided by the output tokens after the first, (duration − time
//     to first chunk) / (output tokens − 1), a per-token average.
//   - aigateway.cost (Float64 counter, USD): the cost of spent tokens.
//   - aigateway.cost.saved (Float64 counter, USD): what calls answered from
//     the cache (hit or coalesced) would have cost. A separate counter rather
//     than an attribute on aigateway.cost, so that summing aigateway.cost
//     never mixes money spent with money saved.
//   - aigateway.cache.requests (Int64 counter, {request}), calls a cache
//     layer looked at, by aigateway.cache.status (hit, miss, bypass,
//     coalesced).
//
// Every metric carries gen_ai.provider.name, gen_ai.operation.name,
// gen_ai.request.model, and when known gen_ai.response.model, server.address,
// aigateway.cache.status, error.type on failure, and
// aigateway.metadata.<key> for the metadata keys listed in
// Config.MetricMetadata (only those: attributes multiply time series).
//
// error.type is the provider's error type (rate_limit_error,
// invalid_request_error, RESOURCE_EXHAUSTED ...), else the HTTP status
// ("500"), else "timeout", "canceled", "incomplete_stream" or
// "closed_early" for the stack's own outcomes, else the Go type of the
// error, or "_OTHER".
//
// # Spans
//
// One span per call, kind CLIENT, named "{operation} {model}", started when
// the call started (Call.Start) and ended when it completes, at start +
// Result.Duration: the end of the stream, not the arrival of the headers.
// The request goes on with the span in its context, so the spans of inner
// layers and HTTP instrumentation nest under it; a span the SDK's sampler
// dropped goes on too (it records nothing, but what the request sends
// further, a traceparent, carries the decision). With the OpenTelemetry
// API's no-op TracerProvider (trace/noop, no SDK installed) the meter
// starts no span at all and leaves the request's context as it is.
// Attributes:
// gen_ai.provider.name, gen_ai.operation.name, gen_ai.request.model,
// gen_ai.request.max_tokens, gen_ai.request.stream, server.address,
// gen_ai.response.model, gen_ai.response.id, gen_ai.response.finish_reasons,
// gen_ai.usage.input_tokens, output_tokens,
// cache_read.input_tokens, cache_creation.input_tokens,
// gen_ai.usage.reasoning.output_tokens, gen_ai.response.time_to_first_chunk,
// aigateway.cost_usd, aigateway.cache.status, aigateway.target,
// aigateway.fallback, aigateway.attempts, and every metadata tag as
// aigateway.metadata.<key>; on failure, status Error and error.type. A call
// answered from the cache carries its usage as aigateway.saved.input_tokens,
// aigateway.saved.output_tokens and aigateway.saved.cost_usd instead of the
// gen_ai.usage attributes, so that backends adding up gen_ai.usage count
// only tokens spent. A call a routing layer (fallback) sent to several
// targets, or whose one attempt failed, has one aigateway.attempt event per
// attempt, in order, with aigateway.target, http.response.status_code,
// gen_ai.request.model, aigateway.attempt.duration (s) and
// aigateway.attempt.error; a call that succeeded on its first attempt has
// none (its attributes name the target), unless Config.AllAttemptEvents.
//
// anthropic-sdk-go emits a GenAI span of its own for every API call, usage
// included. Pass option.WithoutOpenTelemetry() to the Anthropic client that
// uses the gateway, so that trace backends do not count its usage twice.
//
// # Ledger, records and sinks
//
// Meter.Ledger keeps totals (requests, errors, tokens, cost, unknown-cost
// calls, cache hits and what they saved), overall and grouped by provider,
// model, response model, operation, target or metadata key. Each call
// leaves one Record, built from the Call and its Result, never from request
// headers, so it holds no credential. Bodies are recorded only with
// Config.LogBodies: the request body as it went upstream and the response
// body as the caller read it (kept as it is read, up to MaxBodyBytes),
// each passed through Config.Redact and capped. In JSON (a JSONLSink's
// lines) a Record's durations are Go duration strings ("duration":"1.2s"),
// as in the Configs.
//
// The Ledger's size is bounded whatever requests carry: each dimension
// keeps at most Config.LedgerMaxGroups values of at most MaxGroupBytes (the
// calls of later or longer values add up in OtherGroup, so an unbounded tag
// such as a request id cannot grow memory), and it groups by the metadata
// keys Config.LedgerMetadata lists or, when it lists none, by the first
// Config.LedgerMaxDimensions keys seen and those MetricMetadata lists
// (Ledger.Ungrouped counts the calls with a key beyond them). The cache of
// metric attribute sets is bounded too, and so is that of span names and
// start attributes. A Record holds the call's metadata
// whole: the tags of an X-Aigateway-Metadata header, within the bounds the
// aigateway package puts on that header, and those the application set with
// aigateway.WithMetadata, which are its own to bound.
//
// Sinks are written from one goroutine that New starts when Config.Sinks is
// not empty; Meter.Close (or the Gateway's Close) writes what is queued,
// then closes the sinks, and returns when that goroutine has ended, or when
// Config.CloseTimeout has passed (Meter.CloseContext takes a context
// instead): a sink stuck in Write then has its context cancelled, the
// records still queued are dropped and counted, and the sinks are closed
// when that Write returns.
//
// # Refusals
//
// A request the stack refuses before sending it (a body over the size
// limit, a malformed X-Aigateway-* header) is still a call: it passes
// through the meter, which records it with its 413 or 400 (Call.Refused),
// and nothing goes upstream.
package metering
