package metering_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/metering"
	"github.com/aigateway-go/aigateway/provider"
)

var (
	tokenInput  = attribute.String("gen_ai.token.type", "input")
	tokenOutput = attribute.String("gen_ai.token.type", "output")
)

func TestTokenMetricsEqualReportedUsageForEveryFormat(t *testing.T) {
	want := llmtest.Usage{InputTokens: 120, OutputTokens: 40, CacheReadTokens: 30, CacheCreationTokens: 20, CacheCreation1hTokens: 5, ReasoningTokens: 10}
	for _, f := range formats {
		for _, stream := range []bool{false, true} {
			if stream && !f.streams {
				continue
			}
			t.Run(fmt.Sprintf("%s stream=%v", f.name, stream), func(t *testing.T) {
				tel := newTelemetry(t)
				meter := tel.track(metering.New(tel.config()))
				gw := mustNew(t, llmtest.NewTransport(llmtest.WithUsage(want)), meter)
				defer gw.Close()
				path, body := f.path, f.body
				if stream {
					path, body = f.streamed()
				}
				call, _ := do(t, context.Background(), gw, path, body, f.header)
				r := call.Result()
				require.NoError(t, r.Err)
				require.True(t, r.UsageKnown)

				prov := attribute.String("gen_ai.provider.name", f.provider)
				op := attribute.String("gen_ai.operation.name", f.operation)
				in, n := tel.intHist(t, "gen_ai.client.token.usage", tokenInput, prov, op)
				assert.Equal(t, want.InputTokens, in)
				assert.Equal(t, uint64(1), n)
				out, n := tel.intHist(t, "gen_ai.client.token.usage", tokenOutput, prov, op)
				if f.operation == "embeddings" {
					assert.Zero(t, n, "embeddings report no output tokens")
				} else {
					assert.Equal(t, want.OutputTokens, out)
					assert.Equal(t, uint64(1), n)
				}
				_, n, _ = tel.floatHist(t, "gen_ai.client.operation.duration", prov, op)
				assert.Equal(t, uint64(1), n)
				_, n, _ = tel.floatHist(t, "gen_ai.client.operation.time_to_first_chunk")
				if stream {
					assert.Equal(t, uint64(1), n)
					_, n, _ = tel.floatHist(t, "gen_ai.client.operation.time_per_output_chunk")
					assert.Equal(t, uint64(1), n)
				} else {
					assert.Zero(t, n, "time to first chunk is for streams only")
				}

				tot := meter.Ledger().Totals()
				assert.Equal(t, r.Usage.InputTokens, tot.InputTokens)
				assert.Equal(t, r.Usage.OutputTokens, tot.OutputTokens)
				assert.Equal(t, r.Usage.CacheReadTokens, tot.CacheReadTokens)
				assert.Equal(t, int64(1), tot.Requests)
				assert.True(t, r.CostKnown, "every format's model is priced")
				assert.Equal(t, r.Cost, tot.CostUSD)
			})
		}
	}
}

func TestInstrumentsFollowTheConventions(t *testing.T) {
	tel := newTelemetry(t)
	gw := mustNew(t, llmtest.NewTransport(), tel.track(metering.New(tel.config())), cache.New(cache.Config{}))
	defer gw.Close()
	f := formats[0]
	path, body := f.streamed()
	do(t, context.Background(), gw, path, body, nil)
	do(t, context.Background(), gw, path, body, nil) // a hit: saved cost
	for _, tc := range []struct{ name, unit string }{
		{"gen_ai.client.token.usage", "{token}"},
		{"gen_ai.client.operation.duration", "s"},
		{"gen_ai.client.operation.time_to_first_chunk", "s"},
		{"gen_ai.client.operation.time_per_output_chunk", "s"},
		{"aigateway.cost", "USD"},
		{"aigateway.cost.saved", "USD"},
		{"aigateway.cache.requests", "{request}"},
	} {
		m, ok := tel.metric(t, tc.name)
		if assert.True(t, ok, tc.name) {
			assert.Equal(t, tc.unit, m.Unit, tc.name)
			assert.NotEmpty(t, m.Description, tc.name)
		}
	}
	_, _, points := tel.floatHist(t, "gen_ai.client.operation.duration")
	require.NotEmpty(t, points)
	assert.Equal(t, []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}, points[0].Bounds)
}

func TestCostFollowsTheFormula(t *testing.T) {
	anthropic := http.Header{"Anthropic-Version": {"2023-06-01"}}
	msg := `{"model":"claude-haiku-4-5","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`
	for _, tc := range []struct {
		name, path, body string
		header           http.Header
		usage            llmtest.Usage
		want             float64 // hand-computed from the prices in pricing/prices.json, USD
	}{
		// gpt-4o-mini: 0.15 in, 0.60 out, 0.075 cache read per 1M.
		{"openai uncached", "/v1/chat/completions", chat("gpt-4o-mini"), nil,
			llmtest.Usage{InputTokens: 1000, OutputTokens: 500},
			(1000*0.15 + 500*0.60) / 1e6},
		{"openai cached input", "/v1/chat/completions", chat("gpt-4o-mini"), nil,
			llmtest.Usage{InputTokens: 1000, CacheReadTokens: 400, OutputTokens: 500, ReasoningTokens: 100},
			(600*0.15 + 400*0.075 + 500*0.60) / 1e6},
		// claude-haiku-4-5: 1.00 in, 5.00 out, 0.10 read, 1.25 5-minute write, 2×1.00 1-hour write.
		{"anthropic 5-minute cache write", "/v1/messages", msg, anthropic,
			llmtest.Usage{InputTokens: 1000, CacheCreationTokens: 300, OutputTokens: 50},
			(700*1.00 + 300*1.25 + 50*5.00) / 1e6},
		{"anthropic 1-hour cache write and read", "/v1/messages", msg, anthropic,
			llmtest.Usage{InputTokens: 1000, CacheReadTokens: 200, CacheCreationTokens: 300, CacheCreation1hTokens: 100, OutputTokens: 50},
			(500*1.00 + 200*0.10 + 200*1.25 + 100*2.00 + 50*5.00) / 1e6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tel := newTelemetry(t)
			meter := tel.track(metering.New(tel.config()))
			gw := mustNew(t, llmtest.NewTransport(llmtest.WithUsage(tc.usage)), meter)
			defer gw.Close()
			call, _ := do(t, context.Background(), gw, tc.path, tc.body, tc.header)
			r := call.Result()
			require.True(t, r.CostKnown)
			assert.InDelta(t, tc.want, r.Cost, 1e-12, "the call's cost is set for Track")
			assert.InDelta(t, tc.want, meter.Ledger().Totals().CostUSD, 1e-12)
			got, ok := tel.floatSum(t, "aigateway.cost")
			require.True(t, ok)
			assert.InDelta(t, tc.want, got, 1e-12)
		})
	}
}

func TestCacheHitsAndCoalescedCallsAreSaved(t *testing.T) {
	usage := llmtest.Usage{InputTokens: 1000, OutputTokens: 500}
	cost := (1000*0.15 + 500*0.60) / 1e6
	tel := newTelemetry(t)
	fake := llmtest.NewTransport(llmtest.WithUsage(usage))
	meter := tel.track(metering.New(tel.config()))
	c := cache.New(cache.Config{})
	gw := mustNew(t, fake, meter, c)
	defer gw.Close()
	ctx := context.Background()
	body := strings.Replace(chat("gpt-4o-mini"), `{"model"`, `{"stream":true,"model"`, 1)

	// A miss, then a hit.
	call, _ := do(t, ctx, gw, "/v1/chat/completions", body, nil)
	require.Equal(t, aigateway.CacheMiss, call.Result().CacheStatus)
	call, _ = do(t, ctx, gw, "/v1/chat/completions", body, nil)
	require.Equal(t, aigateway.CacheHit, call.Result().CacheStatus)
	assert.InDelta(t, cost, call.Result().Cost, 1e-12, "a hit's cost is what it saved")

	// A leader held at the gate and a follower that joins it.
	gate := llmtest.NewGate()
	fake.Push(llmtest.Hold(gate))
	other := strings.Replace(body, `"hi"`, `"hello"`, 1)
	leaderCtx, leaderTr := aigateway.Track(ctx)
	resp, err := gw.RoundTrip(newRequest(t, leaderCtx, "/v1/chat/completions", other, nil))
	require.NoError(t, err)
	var follower *aigateway.Call
	done := make(chan struct{})
	go func() {
		defer close(done)
		follower, _ = do(t, ctx, gw, "/v1/chat/completions", other, nil)
	}()
	require.Eventually(t, func() bool { return c.Stats().Waiting == 1 }, 5*time.Second, time.Millisecond)
	gate.Open()
	_, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	<-done
	<-leaderTr.Last().Done()
	require.Equal(t, aigateway.CacheCoalesced, follower.Result().CacheStatus)

	tot := meter.Ledger().Totals()
	assert.Equal(t, int64(4), tot.Requests)
	assert.Equal(t, int64(2), tot.CacheHits, "a hit and a coalesced call")
	assert.Equal(t, 2*usage.InputTokens, tot.InputTokens, "only the two upstream calls spent tokens")
	assert.Equal(t, 2*usage.OutputTokens, tot.OutputTokens)
	assert.Equal(t, 2*usage.InputTokens, tot.SavedInputTokens)
	assert.InDelta(t, 2*cost, tot.CostUSD, 1e-12)
	assert.InDelta(t, 2*cost, tot.SavedUSD, 1e-12)

	in, n := tel.intHist(t, "gen_ai.client.token.usage", tokenInput)
	assert.Equal(t, 2*usage.InputTokens, in, "saved tokens are not spent token usage")
	assert.Equal(t, uint64(2), n)
	spent, _ := tel.floatSum(t, "aigateway.cost")
	assert.InDelta(t, 2*cost, spent, 1e-12)
	saved, _ := tel.floatSum(t, "aigateway.cost.saved")
	assert.InDelta(t, 2*cost, saved, 1e-12)
	status := attribute.Key("aigateway.cache.status")
	assert.Equal(t, int64(2), tel.intSum(t, "aigateway.cache.requests", status.String("miss")))
	assert.Equal(t, int64(1), tel.intSum(t, "aigateway.cache.requests", status.String("hit")))
	assert.Equal(t, int64(1), tel.intSum(t, "aigateway.cache.requests", status.String("coalesced")))
}

func TestUnknownModelHasUnknownCost(t *testing.T) {
	tel := newTelemetry(t)
	meter := tel.track(metering.New(tel.config()))
	gw := mustNew(t, llmtest.NewTransport(llmtest.WithUsage(llmtest.Usage{InputTokens: 10, OutputTokens: 5})), meter)
	defer gw.Close()
	call, _ := do(t, context.Background(), gw, "/v1/chat/completions", chat("made-up-model"), nil)
	r := call.Result()
	require.True(t, r.UsageKnown)
	assert.False(t, r.CostKnown, "never a made-up zero")
	tot := meter.Ledger().Totals()
	assert.Equal(t, int64(1), tot.UnknownCost)
	assert.Equal(t, int64(10), tot.InputTokens)
	assert.Zero(t, tot.CostUSD)
	_, found := tel.floatSum(t, "aigateway.cost")
	assert.False(t, found, "no cost data point for an unpriced call")
}

func TestSpan(t *testing.T) {
	tel := newTelemetry(t)
	usage := llmtest.Usage{InputTokens: 100, OutputTokens: 20, CacheReadTokens: 40, ReasoningTokens: 5}
	fake := llmtest.NewTransport(llmtest.WithUsage(usage))
	var innerSpan trace.SpanContext
	base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		innerSpan = trace.SpanContextFromContext(req.Context())
		return fake.RoundTrip(req)
	})
	cfg := tel.config()
	cfg.MetricMetadata = []string{"team"}
	gw := mustNew(t, base, tel.track(metering.New(cfg)))
	defer gw.Close()

	gate := llmtest.NewGate()
	fake.Push(llmtest.Hold(gate))
	ctx := aigateway.WithMetadata(aigateway.WithMetadata(context.Background(), "team", "search"), "user", "u-42")
	ctx, tr := aigateway.Track(ctx)
	body := `{"stream":true,"model":"gpt-4o-mini","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`
	resp, err := gw.RoundTrip(newRequest(t, ctx, "/v1/chat/completions", body, nil))
	require.NoError(t, err)
	headersAt := time.Now()
	time.Sleep(2 * time.Millisecond)
	assert.Empty(t, tel.ended(t), "the span is not ended when the headers arrive")
	require.Len(t, tel.spans.Started(), 1)
	gate.Open()
	_, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	<-tr.Last().Done()

	spans := tel.ended(t)
	require.Len(t, spans, 1)
	s := spans[0]
	assert.Equal(t, "chat gpt-4o-mini", s.Name())
	assert.Equal(t, trace.SpanKindClient, s.SpanKind())
	assert.Equal(t, tr.Last().Start(), s.StartTime())
	assert.True(t, s.EndTime().After(headersAt), "the span ends at the end of the stream")
	assert.Equal(t, s.SpanContext().SpanID(), innerSpan.SpanID(), "inner layers and the upstream request run under the span")
	assert.Equal(t, codes.Unset, s.Status().Code)

	attrs := attribute.NewSet(s.Attributes()...)
	for k, v := range map[string]any{
		"gen_ai.provider.name":                     "openai",
		"gen_ai.operation.name":                    "chat",
		"gen_ai.request.model":                     "gpt-4o-mini",
		"gen_ai.request.max_tokens":                int64(64),
		"gen_ai.response.model":                    "gpt-4o-mini",
		"gen_ai.usage.input_tokens":                int64(100),
		"gen_ai.usage.output_tokens":               int64(20),
		"gen_ai.usage.cache_read.input_tokens":     int64(40),
		"gen_ai.usage.cache_creation.input_tokens": int64(0),
		"gen_ai.usage.reasoning.output_tokens":     int64(5),
		"server.address":                           "llmtest.invalid",
		"aigateway.attempts":                       int64(1),
		"aigateway.metadata.team":                  "search",
		"aigateway.metadata.user":                  "u-42",
	} {
		got, ok := attrs.Value(attribute.Key(k))
		if assert.True(t, ok, k) {
			assert.Equal(t, v, got.AsInterface(), k)
		}
	}
	id, ok := attrs.Value("gen_ai.response.id")
	assert.True(t, ok)
	assert.NotEmpty(t, id.AsString())
	reasons, ok := attrs.Value("gen_ai.response.finish_reasons")
	assert.True(t, ok)
	assert.Equal(t, []string{"stop"}, reasons.AsStringSlice())
	cost, ok := attrs.Value("aigateway.cost_usd")
	assert.True(t, ok)
	assert.InDelta(t, (60*0.15+40*0.075+20*0.60)/1e6, cost.AsFloat64(), 1e-12)

	// Metrics carry only the listed metadata keys.
	_, _, points := tel.floatHist(t, "gen_ai.client.operation.duration")
	require.Len(t, points, 1)
	v, ok := points[0].Attributes.Value("aigateway.metadata.team")
	assert.True(t, ok)
	assert.Equal(t, "search", v.AsString())
	_, ok = points[0].Attributes.Value("aigateway.metadata.user")
	assert.False(t, ok, "an unlisted metadata key is not a metric attribute")
}

func TestErrorsAreRecorded(t *testing.T) {
	tel := newTelemetry(t)
	fake := llmtest.NewTransport()
	meter := tel.track(metering.New(tel.config()))
	gw := mustNew(t, fake, meter)
	defer gw.Close()

	fake.Push(llmtest.HTTPError(http.StatusTooManyRequests))
	call, _ := do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
	var pe *provider.Error
	require.ErrorAs(t, call.Result().Err, &pe)

	spans := tel.ended(t)
	require.Len(t, spans, 1)
	assert.Equal(t, codes.Error, spans[0].Status().Code)
	attrs := attribute.NewSet(spans[0].Attributes()...)
	et, ok := attrs.Value("error.type")
	require.True(t, ok)
	assert.Equal(t, pe.Type, et.AsString())
	_, n, _ := tel.floatHist(t, "gen_ai.client.operation.duration", attribute.String("error.type", pe.Type))
	assert.Equal(t, uint64(1), n)

	// A transport error.
	broken := mustNew(t, roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("dial refused")
	}), meter)
	ctx, tr := aigateway.Track(context.Background())
	_, err := broken.RoundTrip(newRequest(t, ctx, "/v1/chat/completions", chat("gpt-4o-mini"), nil))
	require.Error(t, err)
	<-tr.Last().Done()
	spans = tel.ended(t)
	require.Len(t, spans, 2)
	attrs = attribute.NewSet(spans[1].Attributes()...)
	et, _ = attrs.Value("error.type")
	assert.Equal(t, "_OTHER", et.AsString())

	tot := meter.Ledger().Totals()
	assert.Equal(t, int64(2), tot.Requests)
	assert.Equal(t, int64(2), tot.Errors)
}

func TestLedgerExactUnderConcurrency(t *testing.T) {
	const calls = 1000
	fake := llmtest.NewTransport(llmtest.WithCaptureLimit(calls))
	meter := metering.New(metering.Config{})
	gw := mustNew(t, fake, meter)
	defer gw.Close()

	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			ctx := aigateway.WithMetadata(context.Background(), "user", fmt.Sprintf("u%d", i%10))
			body := fmt.Sprintf(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"%s"}]}`, strings.Repeat("x", i))
			if i%2 == 1 {
				body = strings.Replace(body, `{"model"`, `{"stream":true,"model"`, 1)
			}
			do(t, ctx, gw, "/v1/chat/completions", body, nil)
		})
	}
	wg.Wait()

	// What the fake served: input = request bytes / 4 rounded up, output =
	// the words of its reply.
	reqs := fake.Requests()
	require.Len(t, reqs, calls)
	var in int64
	for _, r := range reqs {
		in += int64((len(r.Body) + 3) / 4)
	}
	out := int64(calls * len(strings.Fields(llmtest.DefaultReply)))
	cost := (float64(in)*0.15 + float64(out)*0.60) / 1e6

	tot := meter.Ledger().Totals()
	assert.Equal(t, int64(calls), tot.Requests)
	assert.Zero(t, tot.Errors)
	assert.Equal(t, in, tot.InputTokens)
	assert.Equal(t, out, tot.OutputTokens)
	assert.InDelta(t, cost, tot.CostUSD, 1e-9)

	byUser := meter.Ledger().By("metadata:user")
	require.Len(t, byUser, 10)
	var sumIn int64
	for _, u := range byUser {
		assert.Equal(t, int64(calls/10), u.Requests)
		sumIn += u.InputTokens
	}
	assert.Equal(t, in, sumIn)
	assert.Equal(t, int64(calls), meter.Ledger().By(metering.ByProvider)["openai"].Requests)
	assert.Equal(t, int64(calls), meter.Ledger().By(metering.ByModel)["gpt-4o-mini"].Requests)
}

func TestOnRecordOncePerCall(t *testing.T) {
	var mu sync.Mutex
	var recs []*metering.Record
	meter := metering.New(metering.Config{OnRecord: func(r *metering.Record) {
		mu.Lock()
		recs = append(recs, r)
		mu.Unlock()
	}})
	fake := llmtest.NewTransport()
	gw := mustNew(t, fake, meter)
	defer gw.Close()
	fake.Push(llmtest.ServerError(), llmtest.CutAfter(2))
	do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
	path, body := formats[0].streamed()
	ctx, tr := aigateway.Track(context.Background())
	resp, err := gw.RoundTrip(newRequest(t, ctx, path, body, nil))
	require.NoError(t, err)
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body.Close()
	<-tr.Last().Done()
	do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, recs, 3)
	assert.Equal(t, "server_error", recs[0].ErrorType, "the provider's error type")
	assert.Equal(t, 500, recs[0].Status)
	assert.NotEmpty(t, recs[1].ErrorType, "a cut stream is an error")
	assert.Empty(t, recs[2].ErrorType)
	assert.Equal(t, "gpt-4o-mini", recs[2].Model)
	assert.True(t, recs[2].UsageKnown)
}

func TestRecordsHoldNoSecretsAndBodiesOnlyWhenAsked(t *testing.T) {
	for _, logBodies := range []bool{false, true} {
		t.Run(fmt.Sprint("log bodies ", logBodies), func(t *testing.T) {
			var rec *metering.Record
			meter := metering.New(metering.Config{
				OnRecord:     func(r *metering.Record) { rec = r },
				LogBodies:    logBodies,
				MaxBodyBytes: 40,
				Redact: func(b []byte) []byte {
					return []byte(strings.ReplaceAll(string(b), "hi", "[redacted]"))
				},
			})
			gw := mustNew(t, llmtest.NewTransport(), meter)
			defer gw.Close()
			do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
			require.NotNil(t, rec)
			js, err := json.Marshal(rec)
			require.NoError(t, err)
			assert.NotContains(t, string(js), "sk-secret-key")
			if !logBodies {
				assert.Empty(t, rec.RequestBody)
				assert.Empty(t, rec.ResponseBody)
				return
			}
			assert.Len(t, rec.RequestBody, 40)
			assert.Equal(t, `{"model":"gpt-4o-mini","messages":[{"rol`, rec.RequestBody)
			assert.NotEmpty(t, rec.ResponseBody)
			assert.LessOrEqual(t, len(rec.ResponseBody), 40)
		})
	}
}

func TestInvalidConfigAnswers500(t *testing.T) {
	cfg := metering.Config{SinkBuffer: -1}
	require.Error(t, cfg.Validate())
	fake := llmtest.NewTransport()
	m := metering.New(cfg)
	_, err := aigateway.New(fake, m)
	assert.ErrorContains(t, err, "metering: sink_buffer -1 is negative", "a Gateway refuses it")
	assert.EqualError(t, err, m.Err().Error())
	// Used alone, it answers every call with a provider-shaped 500.
	gw := m.Wrap(fake)
	defer m.Close()
	resp, err := gw.RoundTrip(newRequest(t, context.Background(), "/v1/chat/completions", chat("gpt-4o-mini"), nil))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Contains(t, string(body), "sink_buffer")
	assert.Zero(t, fake.Count(), "nothing goes upstream")
	assert.NoError(t, metering.Config{}.Validate())

	// A call the stack refused keeps its own answer.
	resp, err = gw.RoundTrip(newRequest(t, context.Background(), "/v1/chat/completions", chat("gpt-4o-mini"), http.Header{"X-Aigateway-Cache-Ttl": {"soon"}}))
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
