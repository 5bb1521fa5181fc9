package metering_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/metering"
)

// spanSeen is an upstream that remembers the span of the context each
// request reached it with: what HTTP instrumentation there would nest
// under and send on as a traceparent.
type spanSeen struct {
	next http.RoundTripper
	span trace.Span
}

func (s *spanSeen) RoundTrip(req *http.Request) (*http.Response, error) {
	s.span = trace.SpanFromContext(req.Context())
	return s.next.RoundTrip(req)
}

// A meter whose tracer does nothing (no SDK installed) starts no span and
// leaves the request's context as it is: the layers and instrumentation
// further in see the caller's own span, recording, not a stand-in that
// hides it. Metrics are recorded all the same.
func TestATracerThatDoesNothingLeavesTheCallersSpanInPlace(t *testing.T) {
	for _, tc := range []struct {
		name string
		tp   trace.TracerProvider // nil: the global provider, no SDK installed
	}{
		{"noop provider", tracenoop.NewTracerProvider()},
		//lint:ignore SA1019 the deprecated no-op provider is still in use
		{"deprecated noop provider", trace.NewNoopTracerProvider()},
		{"global provider without an SDK", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caller := tracetest.NewSpanRecorder()
			callerTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(caller))
			t.Cleanup(func() { _ = callerTP.Shutdown(context.Background()) })
			ctx, parent := callerTP.Tracer("app").Start(context.Background(), "handler")
			defer parent.End()

			tel := newTelemetry(t)
			meter := tel.track(metering.New(metering.Config{MeterProvider: tel.mp, TracerProvider: tc.tp}))
			seen := &spanSeen{next: llmtest.NewTransport()}
			gw := mustNew(t, seen, meter)
			defer gw.Close()

			call, _ := do(t, ctx, gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
			require.NoError(t, call.Result().Err)
			assert.True(t, seen.span == parent, "upstream sees the caller's span itself, got %T %v", seen.span, seen.span.SpanContext())
			assert.True(t, seen.span.IsRecording())
			_, n, _ := tel.floatHist(t, "gen_ai.client.operation.duration")
			assert.Equal(t, uint64(1), n, "metrics do not depend on tracing")
			assert.Empty(t, caller.Ended(), "nothing ended in the caller's trace")
		})
	}
}

// With an SDK whose sampler drops the span, the meter still starts one and
// sends the request on with it: a span context of its own, in the caller's
// trace, not sampled, so that what goes further (a traceparent) carries
// the decision; nothing is recorded. A sampled span goes on the same way.
func TestAnUnsampledSpanStillPropagates(t *testing.T) {
	remote := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3},
		SpanID:     trace.SpanID{4, 5, 6},
		TraceFlags: trace.FlagsSampled,
		Remote:     true,
	})
	for _, tc := range []struct {
		name      string
		sampler   sdktrace.Sampler
		parent    bool
		sampled   bool
		recording int
	}{
		{"never sample, sampled parent", sdktrace.NeverSample(), true, false, 0},
		{"never sample, no parent", sdktrace.NeverSample(), false, false, 0},
		{"parent based, sampled parent", sdktrace.ParentBased(sdktrace.NeverSample()), true, true, 1},
		{"always sample, no parent", sdktrace.AlwaysSample(), false, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spans := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(tc.sampler), sdktrace.WithSpanProcessor(spans))
			t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			meter := metering.New(metering.Config{TracerProvider: tp})
			seen := &spanSeen{next: llmtest.NewTransport()}
			gw := mustNew(t, seen, meter)
			defer gw.Close()
			ctx := context.Background()
			if tc.parent {
				ctx = trace.ContextWithRemoteSpanContext(ctx, remote)
			}

			call, _ := do(t, ctx, gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
			require.NoError(t, call.Result().Err)
			require.NoError(t, meter.Flush(context.Background()))
			sc := seen.span.SpanContext()
			require.True(t, sc.IsValid(), "the meter's span context went on")
			assert.NotEqual(t, remote.SpanID(), sc.SpanID(), "a span of the meter's own")
			if tc.parent {
				assert.Equal(t, remote.TraceID(), sc.TraceID(), "in the caller's trace")
			}
			assert.Equal(t, tc.sampled, sc.IsSampled())
			ended := spans.Ended()
			require.Len(t, ended, tc.recording)
			if tc.recording > 0 {
				assert.Equal(t, sc, ended[0].SpanContext())
			}
		})
	}
}

// requestAttrs are the attributes of s that the meter knows when the call
// starts, by key.
func requestAttrs(s sdktrace.ReadOnlySpan) map[string]any {
	got := map[string]any{}
	for _, kv := range s.Attributes() {
		switch k := string(kv.Key); {
		case k == "gen_ai.provider.name", k == "gen_ai.operation.name", k == "gen_ai.request.model",
			k == "gen_ai.request.stream", k == "gen_ai.request.max_tokens", k == "server.address",
			strings.HasPrefix(k, "aigateway.metadata."):
			got[k] = kv.Value.AsInterface()
		}
	}
	return got
}

// The name and request attributes a span starts with are kept per
// combination of request facts, metadata included: calls that differ in
// any one of them (the same tags with their values swapped too) each get
// their own, and calls that repeat one get the same again.
func TestSpanStartsAreKeptPerCombination(t *testing.T) {
	type tags = map[string]string
	base := func(more map[string]any) map[string]any {
		m := map[string]any{"gen_ai.provider.name": "openai", "gen_ai.operation.name": "chat",
			"gen_ai.request.model": "gpt-4o-mini", "server.address": "llmtest.invalid"}
		for k, v := range more {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		path, body string
		tags       tags
		name       string
		want       map[string]any
	}{
		{"/v1/chat/completions", chat("gpt-4o-mini"), nil, "chat gpt-4o-mini", base(nil)},
		{"/v1/chat/completions", chat("gpt-4o"), nil, "chat gpt-4o", base(map[string]any{"gen_ai.request.model": "gpt-4o"})},
		{"/v1/chat/completions", `{"stream":true,"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`, nil,
			"chat gpt-4o-mini", base(map[string]any{"gen_ai.request.stream": true})},
		{"/v1/chat/completions", `{"model":"gpt-4o-mini","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`, nil,
			"chat gpt-4o-mini", base(map[string]any{"gen_ai.request.max_tokens": int64(64)})},
		{"/v1/chat/completions", `{"model":"gpt-4o-mini","max_tokens":65,"messages":[{"role":"user","content":"hi"}]}`, nil,
			"chat gpt-4o-mini", base(map[string]any{"gen_ai.request.max_tokens": int64(65)})},
		{"/v1/chat/completions", chat("gpt-4o-mini"), tags{"team": "a"},
			"chat gpt-4o-mini", base(map[string]any{"aigateway.metadata.team": "a"})},
		{"/v1/chat/completions", chat("gpt-4o-mini"), tags{"team": "b"},
			"chat gpt-4o-mini", base(map[string]any{"aigateway.metadata.team": "b"})},
		{"/v1/chat/completions", chat("gpt-4o-mini"), tags{"team": "a", "user": "b"},
			"chat gpt-4o-mini", base(map[string]any{"aigateway.metadata.team": "a", "aigateway.metadata.user": "b"})},
		{"/v1/chat/completions", chat("gpt-4o-mini"), tags{"team": "b", "user": "a"},
			"chat gpt-4o-mini", base(map[string]any{"aigateway.metadata.team": "b", "aigateway.metadata.user": "a"})},
		{"/v1/embeddings", `{"model":"text-embedding-3-small","input":"hi"}`, nil,
			"embeddings text-embedding-3-small", base(map[string]any{"gen_ai.operation.name": "embeddings", "gen_ai.request.model": "text-embedding-3-small"})},
		{"/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":[{"parts":[{"text":"hi"}]}]}`, nil,
			"generate_content gemini-2.5-flash", base(map[string]any{"gen_ai.provider.name": "gcp.gemini",
				"gen_ai.operation.name": "generate_content", "gen_ai.request.model": "gemini-2.5-flash"})},
	}
	tel := newTelemetry(t)
	meter := tel.track(metering.New(tel.config()))
	gw := mustNew(t, llmtest.NewTransport(), meter)
	defer gw.Close()
	for pass := range 2 {
		for i, c := range cases {
			ctx := context.Background()
			for k, v := range c.tags {
				ctx = aigateway.WithMetadata(ctx, k, v)
			}
			do(t, ctx, gw, c.path, c.body, nil)
			spans := tel.ended(t)
			require.Len(t, spans, pass*len(cases)+i+1)
			s := spans[len(spans)-1]
			assert.Equal(t, c.name, s.Name(), "pass %d case %d", pass, i)
			assert.Equal(t, c.want, requestAttrs(s), "pass %d case %d", pass, i)
		}
	}
	n, _ := meter.CachedStarts()
	assert.Equal(t, len(cases), n)
}

// attempting stands in for a routing layer that recorded attempts before
// the one that goes upstream.
func attempting(attempts ...aigateway.Attempt) aigateway.Middleware {
	return aigateway.MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return aigateway.Layer(next, func(call aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			for _, a := range attempts {
				call.RecordAttempt(a)
			}
			call.SetTarget(attempts[len(attempts)-1].Target, len(attempts) > 1)
			return next.RoundTrip(req)
		})
	})
}

// A call that succeeded on its first and only attempt has no
// aigateway.attempt event unless Config.AllAttemptEvents asks for it (its
// span's attributes name the target and the one attempt); a call with
// several attempts, or a failed one, or that failed itself, has one event
// per attempt either way.
func TestAttemptEventsAreForCallsThatDidNotSucceedAtOnce(t *testing.T) {
	ok := aigateway.Attempt{Target: "primary", Status: 200}
	failed := aigateway.Attempt{Target: "primary", Status: 503, Err: errors.New("overloaded")}
	backup := aigateway.Attempt{Target: "backup", Status: 200}
	for _, tc := range []struct {
		name     string
		attempts []aigateway.Attempt
		faults   []llmtest.Fault
		all      bool
		want     []string
	}{
		{"first try succeeded", []aigateway.Attempt{ok}, nil, false, nil},
		{"first try succeeded, all asked for", []aigateway.Attempt{ok}, nil, true, []string{"primary"}},
		{"the one attempt failed", []aigateway.Attempt{failed}, nil, false, []string{"primary"}},
		{"the call failed", []aigateway.Attempt{ok}, []llmtest.Fault{llmtest.ServerError()}, false, []string{"primary"}},
		{"second try succeeded", []aigateway.Attempt{failed, backup}, nil, false, []string{"primary", "backup"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tel := newTelemetry(t)
			cfg := tel.config()
			cfg.AllAttemptEvents = tc.all
			meter := tel.track(metering.New(cfg))
			fake := llmtest.NewTransport()
			fake.Push(tc.faults...)
			gw := mustNew(t, fake, meter, attempting(tc.attempts...))
			defer gw.Close()
			do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
			spans := tel.ended(t)
			require.Len(t, spans, 1)
			var targets []string
			for _, ev := range spans[0].Events() {
				require.Equal(t, "aigateway.attempt", ev.Name)
				for _, a := range ev.Attributes {
					if a.Key == "aigateway.target" {
						targets = append(targets, a.Value.AsString())
					}
				}
			}
			assert.Equal(t, tc.want, targets)
			attrs := attribute.NewSet(spans[0].Attributes()...)
			target, _ := attrs.Value("aigateway.target")
			assert.Equal(t, tc.attempts[len(tc.attempts)-1].Target, target.AsString())
		})
	}
}

// The Record that OnRecord and the sinks see carries a copy of the call's
// metadata; the ledger and the metrics read the call's own, so an OnRecord
// that rewrites the Record's changes neither.
func TestRecordsCarryACopyOfTheTags(t *testing.T) {
	tel := newTelemetry(t)
	sink := &testSink{}
	var seen []map[string]string
	cfg := tel.config()
	cfg.MetricMetadata = []string{"team"}
	cfg.Sinks = []metering.Sink{sink}
	cfg.OnRecord = func(r *metering.Record) {
		seen = append(seen, maps.Clone(r.Metadata))
		if r.Metadata != nil {
			r.Metadata["team"] = "rewritten"
		}
	}
	meter := tel.track(metering.New(cfg))
	gw := mustNew(t, llmtest.NewTransport(), meter)
	ctx := aigateway.WithMetadata(aigateway.WithMetadata(context.Background(), "team", "search"), "user", "u-1")
	do(t, ctx, gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
	do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
	require.NoError(t, meter.Flush(context.Background()))

	assert.Equal(t, []map[string]string{{"team": "search", "user": "u-1"}, nil}, seen)
	assert.Equal(t, int64(1), meter.Ledger().By("metadata:team")["search"].Requests)
	assert.Equal(t, int64(1), meter.Ledger().By("metadata:user")["u-1"].Requests)
	_, n, _ := tel.floatHist(t, "gen_ai.client.operation.duration", attribute.String("aigateway.metadata.team", "search"))
	assert.Equal(t, uint64(1), n)
	require.NoError(t, gw.Close())
	recs, _ := sink.got()
	require.Len(t, recs, 2)
	assert.Equal(t, map[string]string{"team": "rewritten", "user": "u-1"}, recs[0].Metadata, "the same Record goes to the sinks")
	assert.Nil(t, recs[1].Metadata)
}
