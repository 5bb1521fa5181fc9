package aigateway_test

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/fallback"
	"github.com/aigateway-go/aigateway/metering"
	"github.com/aigateway-go/aigateway/ratelimit"
)

// heapProbe samples the live heap (after a collection) while a stream
// passes through the stack.
type heapProbe struct {
	mu   sync.Mutex
	base uint64
	peak uint64
}

func newHeapProbe() *heapProbe {
	p := &heapProbe{}
	p.base = liveHeap()
	return p
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func (p *heapProbe) sample() {
	h := liveHeap()
	p.mu.Lock()
	p.peak = max(p.peak, h)
	p.mu.Unlock()
}

// growth is how far above its level before the stream the live heap went.
func (p *heapProbe) growth() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.peak < p.base {
		return 0
	}
	return p.peak - p.base
}

// generatedBody is an upstream body of total bytes made of unit repeated,
// sampling the heap every sampleEvery bytes it hands out.
type generatedBody struct {
	unit        []byte
	left        int64
	sinceSample int64
	sampleEvery int64
	probe       *heapProbe
	off         int
}

func (b *generatedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if b.sinceSample >= b.sampleEvery {
		b.sinceSample = 0
		b.probe.sample()
	}
	n := 0
	for n < len(p) && int64(n) < b.left {
		c := copy(p[n:min(len(p), n+int(b.left-int64(n)))], b.unit[b.off:])
		n += c
		b.off = (b.off + c) % len(b.unit)
	}
	b.left -= int64(n)
	b.sinceSample += int64(n)
	return n, nil
}

func (*generatedBody) Close() error { return nil }

// fullStack is the README's stack over upstream, with no-op telemetry.
func fullStack(t *testing.T, upstream http.RoundTripper) *aigateway.Gateway {
	t.Helper()
	gw := mustNew(t, upstream,
		metering.New(metering.Config{MeterProvider: metricnoop.NewMeterProvider(), TracerProvider: tracenoop.NewTracerProvider()}),
		cache.New(cache.Config{}),
		ratelimit.New(ratelimit.Config{Rules: []ratelimit.Rule{{Name: "tokens", Key: "metadata:user", Tokens: 1 << 40, Per: time.Minute}}}),
		fallback.New(fallback.Config{Targets: []fallback.Target{{Name: "primary"}}}),
	)
	t.Cleanup(func() { gw.Close() })
	return gw
}

// Issue 10, item 1: a hostile upstream stream must not grow the stack's
// memory without bound, whatever it sends; the caller gets the bytes
// before the point where it gives up, then a clear error.
func TestStreamsLeaveTheHeapFlat(t *testing.T) {
	// Four times the event bound, sixteen times the cache's entry bound.
	const total = 4 * aigateway.MaxEventBytes
	chunk := `data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"` + strings.Repeat("x", 200) + `"},"finish_reason":null}],"usage":null}` + "\n\n"
	cases := []struct {
		name    string
		unit    string
		wantErr error
		// the most the live heap may grow while the stream passes
		maxGrowth uint64
	}{
		{"data lines that never end an event", "data: " + strings.Repeat("y", 1000) + "\n", aigateway.ErrEventTooLarge, 6 * aigateway.MaxEventBytes},
		{"one line that never ends", strings.Repeat("z", 4096), aigateway.ErrEventTooLarge, 6 * aigateway.MaxEventBytes},
		{"well-formed chunks, far more than any bound", chunk, aigateway.ErrIncompleteStream, 8 << 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			probe := newHeapProbe()
			var body *generatedBody
			gw := fullStack(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
				body = &generatedBody{unit: []byte(tc.unit), left: total, sampleEvery: 4 << 20, probe: probe}
				return &http.Response{
					StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
					Header:        http.Header{"Content-Type": {"text/event-stream"}},
					Body:          body,
					ContentLength: -1,
					Request:       r,
				}, nil
			}))
			ctx, tr := aigateway.Track(aigateway.WithMetadata(context.Background(), "user", "u-1"))
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://api.openai.com/v1/chat/completions",
				strings.NewReader(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer sk-test")
			resp, err := gw.RoundTrip(req)
			require.NoError(t, err)
			n, err := io.Copy(io.Discard, &sampledReader{r: resp.Body, probe: probe, every: 4 << 20})
			resp.Body.Close()
			probe.sample()

			if tc.wantErr == aigateway.ErrEventTooLarge {
				assert.ErrorIs(t, err, aigateway.ErrEventTooLarge, "the caller's read fails with a clear error")
				assert.LessOrEqual(t, total-body.left, int64(2*aigateway.MaxEventBytes), "the stack gave up near the bound")
				assert.Greater(t, body.left, int64(0), "and stopped reading the upstream")
			} else {
				assert.NoError(t, err)
				assert.Equal(t, int64(0), body.left, "the whole stream went through")
			}
			<-tr.Last().Done()
			assert.ErrorIs(t, tr.Last().Result().Err, tc.wantErr)
			assert.LessOrEqual(t, probe.growth(), tc.maxGrowth,
				"live heap grew by %d MiB while the stream passed", probe.growth()>>20)
			t.Logf("streamed %d MiB to the caller (%d MiB read upstream); live heap grew by at most %d MiB", n>>20, (total-body.left)>>20, probe.growth()>>20)
		})
	}
}

// sampledReader samples the heap as the caller reads.
type sampledReader struct {
	r     io.Reader
	probe *heapProbe
	every int64
	since int64
}

func (s *sampledReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.since += int64(n)
	if s.since >= s.every {
		s.since = 0
		s.probe.sample()
	}
	return n, err
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// mustNew builds a Gateway, failing the test on a configuration error.
func mustNew(tb testing.TB, base http.RoundTripper, layers ...aigateway.Middleware) *aigateway.Gateway {
	tb.Helper()
	g, err := aigateway.New(base, layers...)
	require.NoError(tb, err)
	return g
}
