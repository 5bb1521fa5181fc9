package metering_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/metering"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// telemetry is an OpenTelemetry SDK setup whose metrics and spans a test
// can read back.
type telemetry struct {
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	mp     *sdkmetric.MeterProvider
	tp     *sdktrace.TracerProvider
	meters []*metering.Meter
}

// track returns m, flushed before each reading of the telemetry: a Meter
// records metrics and spans just after a call completes, off the caller's
// path.
func (tel *telemetry) track(m *metering.Meter) *metering.Meter {
	tel.meters = append(tel.meters, m)
	return m
}

func (tel *telemetry) flush(t testing.TB) {
	t.Helper()
	for _, m := range tel.meters {
		require.NoError(t, m.Flush(context.Background()))
	}
}

// ended returns the spans ended so far.
func (tel *telemetry) ended(t testing.TB) []sdktrace.ReadOnlySpan {
	t.Helper()
	tel.flush(t)
	return tel.spans.Ended()
}

func newTelemetry(t testing.TB) *telemetry {
	tel := &telemetry{reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder()}
	tel.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	tel.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tel.spans))
	t.Cleanup(func() {
		_ = tel.mp.Shutdown(context.Background())
		_ = tel.tp.Shutdown(context.Background())
	})
	return tel
}

func (tel *telemetry) config() metering.Config {
	return metering.Config{MeterProvider: tel.mp, TracerProvider: tel.tp}
}

// metric returns the named metric of the meter's scope.
func (tel *telemetry) metric(t testing.TB, name string) (metricdata.Metrics, bool) {
	t.Helper()
	tel.flush(t)
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != metering.ScopeName {
			continue
		}
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// intHist sums the data points of an Int64 histogram whose attributes
// include every one of want.
func (tel *telemetry) intHist(t testing.TB, name string, want ...attribute.KeyValue) (sum int64, count uint64) {
	t.Helper()
	m, ok := tel.metric(t, name)
	if !ok {
		return 0, 0
	}
	h, ok := m.Data.(metricdata.Histogram[int64])
	require.True(t, ok, "%s is %T", name, m.Data)
	for _, dp := range h.DataPoints {
		if hasAll(dp.Attributes, want) {
			sum += dp.Sum
			count += dp.Count
		}
	}
	return sum, count
}

func (tel *telemetry) floatHist(t testing.TB, name string, want ...attribute.KeyValue) (sum float64, count uint64, points []metricdata.HistogramDataPoint[float64]) {
	t.Helper()
	m, ok := tel.metric(t, name)
	if !ok {
		return 0, 0, nil
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "%s is %T", name, m.Data)
	for _, dp := range h.DataPoints {
		if hasAll(dp.Attributes, want) {
			sum += dp.Sum
			count += dp.Count
			points = append(points, dp)
		}
	}
	return sum, count, points
}

func (tel *telemetry) floatSum(t testing.TB, name string, want ...attribute.KeyValue) (float64, bool) {
	t.Helper()
	m, ok := tel.metric(t, name)
	if !ok {
		return 0, false
	}
	s, ok := m.Data.(metricdata.Sum[float64])
	require.True(t, ok, "%s is %T", name, m.Data)
	var sum float64
	found := false
	for _, dp := range s.DataPoints {
		if hasAll(dp.Attributes, want) {
			sum += dp.Value
			found = true
		}
	}
	return sum, found
}

func (tel *telemetry) intSum(t testing.TB, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	m, ok := tel.metric(t, name)
	if !ok {
		return 0
	}
	s, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is %T", name, m.Data)
	var sum int64
	for _, dp := range s.DataPoints {
		if hasAll(dp.Attributes, want) {
			sum += dp.Value
		}
	}
	return sum
}

func hasAll(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		v, ok := set.Value(kv.Key)
		if !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// format is one wire format the fake speaks.
type format struct {
	name, path, body, provider, operation string
	header                                http.Header
	streams                               bool
}

var formats = []format{
	{"openai chat", "/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`, "openai", "chat", nil, true},
	{"openai responses", "/v1/responses", `{"model":"gpt-4o-mini","input":"hi"}`, "openai", "chat", nil, true},
	{"openai embeddings", "/v1/embeddings", `{"model":"text-embedding-3-small","input":"hi"}`, "openai", "embeddings", nil, false},
	{"anthropic", "/v1/messages", `{"model":"claude-haiku-4-5","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`, "anthropic", "chat",
		http.Header{"Anthropic-Version": {"2023-06-01"}}, true},
	{"gemini", "/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":[{"parts":[{"text":"hi"}]}]}`, "gcp.gemini", "generate_content", nil, true},
}

// streamed returns the format's request as a stream.
func (f format) streamed() (path, body string) {
	if f.provider == "gcp.gemini" {
		return strings.Replace(f.path, ":generateContent", ":streamGenerateContent", 1) + "?alt=sse", f.body
	}
	return f.path, strings.Replace(f.body, `{"model"`, `{"stream":true,"model"`, 1)
}

func newRequest(t testing.TB, ctx context.Context, path, body string, header http.Header) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, llmtest.TransportURL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-secret-key")
	for k, v := range header {
		req.Header[k] = v
	}
	return req
}

// do sends one request through rt and reads the whole answer; it returns
// the call the stack made of it, completed.
func do(t testing.TB, ctx context.Context, rt http.RoundTripper, path, body string, header http.Header) (*aigateway.Call, []byte) {
	t.Helper()
	ctx, tr := aigateway.Track(ctx)
	resp, err := rt.RoundTrip(newRequest(t, ctx, path, body, header))
	require.NoError(t, err)
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	c := tr.Last()
	require.NotNil(t, c)
	<-c.Done()
	return c, out
}

// chat is an OpenAI chat request body for model.
func chat(model string) string {
	return `{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]}`
}

// testSink collects records; when block is set, Write waits for it.
type testSink struct {
	mu       sync.Mutex
	records  []*metering.Record
	closed   int
	closeErr error
	entered  chan struct{} // signalled at the first Write, when set
	block    chan struct{} // Write waits for it to close, when set
	onClose  chan struct{} // closed by Close, when set
	once     sync.Once
}

func (s *testSink) Write(_ context.Context, r *metering.Record) error {
	if s.entered != nil {
		s.once.Do(func() { close(s.entered) })
	}
	if s.block != nil {
		<-s.block
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, r)
	return nil
}

func (s *testSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed++
	if s.onClose != nil && s.closed == 1 {
		close(s.onClose)
	}
	return s.closeErr
}

func (s *testSink) got() ([]*metering.Record, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*metering.Record(nil), s.records...), s.closed
}

// mustNew builds a Gateway, failing the test on a configuration error.
func mustNew(tb testing.TB, base http.RoundTripper, layers ...aigateway.Middleware) *aigateway.Gateway {
	tb.Helper()
	g, err := aigateway.New(base, layers...)
	require.NoError(tb, err)
	return g
}
