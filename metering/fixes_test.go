package metering_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/metering"
	"github.com/aigateway-go/aigateway/provider"
)

// twice sends every call upstream twice, keeping the second answer, as a
// retrying or fallback layer does.
var twice = aigateway.MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		first, err := next.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, first.Body)
		first.Body.Close()
		again := req.Clone(req.Context())
		again.Body, _ = req.GetBody()
		return next.RoundTrip(again)
	})
})

// Each upstream response is priced on its own: two 150k-token answers stay
// under claude-sonnet-4-5's 200k long-context tier, though their sum is not.
func TestEachUpstreamResponseIsPricedOnItsOwn(t *testing.T) {
	fake := llmtest.NewTransport(llmtest.WithUsage(llmtest.Usage{InputTokens: 150_000, OutputTokens: 100}))
	meter := metering.New(metering.Config{})
	defer meter.Close()
	gw := mustNew(t, fake, meter, twice)
	body := `{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`
	call, _ := do(t, context.Background(), gw, "/v1/messages", body, http.Header{"Anthropic-Version": {"2023-06-01"}})
	r := call.Result()
	require.True(t, r.CostKnown)
	want := 2 * (150_000*3.0 + 100*15.0) / 1e6 // base prices, twice
	assert.InDelta(t, want, r.Cost, 1e-9)
	require.Len(t, r.Upstreams, 2)
	assert.InDelta(t, want/2, r.Upstreams[0].Cost, 1e-9, "each priced on its own")
	assert.Equal(t, 2, fake.Count())
}

// A transport error that quotes the URL does not carry Gemini's ?key= into
// the record.
func TestErrorsDoNotLeakQueryKeys(t *testing.T) {
	sink := &testSink{}
	meter := metering.New(metering.Config{Sinks: []metering.Sink{sink}})
	gw := mustNew(t, nil, meter)
	client := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("connection refused")
	})}
	req := newRequest(t, context.Background(), "/v1beta/models/gemini-2.5-flash:generateContent?key=AIzaSECRET", `{"contents":[{"parts":[{"text":"hi"}]}]}`, nil)
	_, err := gw.SDKMiddleware(req, client.Do)
	require.Error(t, err)
	require.NoError(t, meter.Close())
	recs, _ := sink.got()
	require.Len(t, recs, 1)
	assert.NotContains(t, recs[0].Error, "AIzaSECRET")
	assert.Contains(t, recs[0].Error, "key=REDACTED")
	assert.Contains(t, recs[0].Error, "connection refused")
}

func TestInvalidConfigStillClosesSinks(t *testing.T) {
	s := &testSink{}
	m := metering.New(metering.Config{SinkBuffer: -1, Sinks: []metering.Sink{s}})
	require.Error(t, metering.Config{SinkBuffer: -1}.Validate())
	assert.NoError(t, m.Close())
	_, closed := s.got()
	assert.Equal(t, 1, closed)
}

// The stack's own refusals (an oversized body, a malformed control header)
// are calls too: the meter records them as errors, whether it sits in a
// Gateway or is stacked by hand, and nothing reaches the upstream.
func TestRefusalsAreMetered(t *testing.T) {
	fake := llmtest.NewTransport()
	for name, rt := range map[string]func(*metering.Meter) http.RoundTripper{
		"gateway": func(m *metering.Meter) http.RoundTripper {
			gw := mustNew(t, fake, m, cache.New(cache.Config{}))
			gw.MaxRequestBytes = 64
			return gw
		},
		"by hand": func(m *metering.Meter) http.RoundTripper {
			return m.Wrap(cache.New(cache.Config{}).Wrap(fake))
		},
	} {
		t.Run(name, func(t *testing.T) {
			sink := &testSink{}
			meter := metering.New(metering.Config{Sinks: []metering.Sink{sink}})
			rt := rt(meter)
			before := fake.Count()
			big := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("x", 200) + `"}]}`
			if name == "by hand" {
				big = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("x", int(aigateway.DefaultMaxRequestBytes)) + `"}]}`
			}
			call, out := do(t, context.Background(), rt, "/v1/chat/completions", big, nil)
			assert.Contains(t, string(out), "exceeds")
			assert.True(t, call.Refused())
			call, out = do(t, context.Background(), rt, "/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[]}`,
				http.Header{"X-Aigateway-Cache-Ttl": {"soon"}})
			assert.Contains(t, string(out), "Cache-Ttl")
			assert.True(t, call.Refused())
			assert.Equal(t, before, fake.Count(), "nothing went upstream")
			assert.Zero(t, call.Result().Attempts)

			require.NoError(t, meter.Close())
			recs, _ := sink.got()
			require.Len(t, recs, 2)
			assert.Equal(t, 413, recs[0].Status)
			assert.Equal(t, 400, recs[1].Status)
			assert.Empty(t, recs[1].CacheStatus, "the cache left the refusal alone")
			tot := meter.Ledger().Totals()
			assert.Equal(t, int64(2), tot.Requests)
			assert.Equal(t, int64(2), tot.Errors)
		})
	}
}

// A dimension with more values than LedgerMaxGroups adds the rest up in
// OtherGroup, and still sums to the totals.
func TestLedgerGroupsAreBounded(t *testing.T) {
	meter := metering.New(metering.Config{LedgerMaxGroups: 2})
	gw := mustNew(t, llmtest.NewTransport(), meter)
	for _, id := range []string{"r1", "r2", "r3", "r4", "r1", "r5"} {
		do(t, aigateway.WithMetadata(context.Background(), "request", id), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
	}
	by := meter.Ledger().By("metadata:request")
	require.Len(t, by, 3)
	assert.Equal(t, int64(2), by["r1"].Requests)
	assert.Equal(t, int64(1), by["r2"].Requests)
	assert.Equal(t, int64(3), by[metering.OtherGroup].Requests)
	var sum int64
	for _, g := range by {
		sum += g.InputTokens
	}
	assert.Equal(t, meter.Ledger().Totals().InputTokens, sum)
	assert.Error(t, metering.Config{LedgerMaxGroups: -1}.Validate())
}

// A fixed dimension's groups are the same whether its value changes from
// call to call or repeats (the ledger remembers each dimension's last
// group): own groups for the first LedgerMaxGroups values, OtherGroup for
// the rest, repeated or not.
func TestLedgerFixedDimensionRepeatsAndChanges(t *testing.T) {
	meter := metering.New(metering.Config{LedgerMaxGroups: 2})
	gw := mustNew(t, llmtest.NewTransport(), meter)
	for _, model := range []string{"m-a", "m-a", "m-b", "m-c", "m-c", "m-a", "m-d", "m-b", "m-b", "m-c", "m-a"} {
		do(t, context.Background(), gw, "/v1/chat/completions", chat(model), nil)
	}
	by := meter.Ledger().By(metering.ByModel)
	assert.Equal(t, map[string]int64{"m-a": 4, "m-b": 3, metering.OtherGroup: 4}, requests(by))
	assert.Equal(t, map[string]int64{"openai": 11}, requests(meter.Ledger().By(metering.ByProvider)))
}

func requests(by map[string]metering.Totals) map[string]int64 {
	out := make(map[string]int64, len(by))
	for v, g := range by {
		out[v] = g.Requests
	}
	return out
}

// router stands in for a fallback layer: a first attempt to one target
// that fails, a second to another, both recorded.
func router(next http.RoundTripper) http.RoundTripper {
	return aigateway.Layer(next, func(call aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
		call.RecordAttempt(aigateway.Attempt{Target: "primary", Status: 503, Duration: time.Millisecond, Err: errors.New("overloaded")})
		ctx, _ := call.Route(req.Context(), aigateway.Route{Provider: provider.Groq})
		resp, err := next.RoundTrip(req.Clone(ctx))
		if err == nil {
			call.RecordAttempt(aigateway.Attempt{Target: "backup", Provider: "groq", Model: "llama-3.3-70b-versatile", Status: resp.StatusCode})
			call.SetTarget("backup", true)
		}
		return resp, err
	})
}

// The attempts a router records reach the Record and the span, and the
// usage is priced for the provider the attempt went to.
func TestRoutedAttemptsAreRecorded(t *testing.T) {
	tel := newTelemetry(t)
	sink := &testSink{}
	cfg := tel.config()
	cfg.Sinks = []metering.Sink{sink}
	meter := tel.track(metering.New(cfg))
	gw := mustNew(t, llmtest.NewTransport(llmtest.WithResponseModel(func(string) string { return "llama-3.3-70b-versatile" })), meter, aigateway.MiddlewareFunc(router))
	call, _ := do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
	require.NoError(t, meter.Close())
	recs, _ := sink.got()
	require.Len(t, recs, 1)
	rec := recs[0]
	require.Len(t, rec.AttemptLog, 2)
	assert.Equal(t, metering.Attempt{Target: "primary", Status: 503, Duration: time.Millisecond, Error: "overloaded"}, rec.AttemptLog[0])
	assert.Equal(t, "groq", rec.AttemptLog[1].Provider)
	assert.Equal(t, "backup", rec.Target)
	assert.Equal(t, "groq", call.Result().Upstreams[0].Provider)
	assert.True(t, rec.CostKnown, "priced at Groq's llama price, which the openai row does not have")

	spans := tel.ended(t)
	require.Len(t, spans, 1)
	var targets []string
	for _, ev := range spans[0].Events() {
		if ev.Name == "aigateway.attempt" {
			for _, a := range ev.Attributes {
				if a.Key == "aigateway.target" {
					targets = append(targets, a.Value.AsString())
				}
			}
		}
	}
	assert.Equal(t, []string{"primary", "backup"}, targets)
}

// The token histogram's input and output points carry every attribute the
// call's other metrics do (building the input set once sorted the shared
// attributes in place, and the output set lost server.address).
func TestTokenMetricsCarryEveryAttribute(t *testing.T) {
	tel := newTelemetry(t)
	meter := tel.track(metering.New(tel.config()))
	gw := mustNew(t, llmtest.NewTransport(), meter)
	do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
	do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil) // from the cached sets
	_, _, points := tel.floatHist(t, "gen_ai.client.operation.duration")
	require.Len(t, points, 1)
	want := points[0].Attributes.ToSlice()
	require.Contains(t, want, attribute.String("server.address", "llmtest.invalid"))
	for _, typ := range []attribute.KeyValue{tokenInput, tokenOutput} {
		m, ok := tel.metric(t, "gen_ai.client.token.usage")
		require.True(t, ok)
		var got []attribute.KeyValue
		for _, dp := range m.Data.(metricdata.Histogram[int64]).DataPoints {
			if v, _ := dp.Attributes.Value(typ.Key); v == typ.Value {
				require.Nil(t, got, "one point per token type")
				got = dp.Attributes.ToSlice()
				assert.Equal(t, uint64(2), dp.Count)
			}
		}
		assert.ElementsMatch(t, append(want[:len(want):len(want)], typ), got, typ.Value.AsString())
	}
}
