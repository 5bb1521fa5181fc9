package metering

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
)

// completedCall sends one chat request with tags through a Gateway with m
// and returns its Call.
func completedCall(t *testing.T, m *Meter, tags map[string]string) *aigateway.Call {
	t.Helper()
	gw, err := aigateway.New(llmtest.NewTransport(), m)
	require.NoError(t, err)
	ctx := context.Background()
	for k, v := range tags {
		ctx = aigateway.WithMetadata(ctx, k, v)
	}
	ctx, tr := aigateway.Track(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, llmtest.TransportURL+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
	require.NoError(t, err)
	resp, err := gw.RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	<-tr.Last().Done()
	return tr.Last()
}

// Two calls whose tags hash alike (a collision of the seeded hashes,
// forced here) do not share a span start: the cached one holds its tags and
// is checked against the call's, and the call that does not match gets
// one of its own, the cached one staying in place.
func TestSpanStartsOfTagsThatHashAlikeAreToldApart(t *testing.T) {
	m := New(Config{})
	a := completedCall(t, m, map[string]string{"team": "a"})
	b := completedCall(t, m, map[string]string{"team": "b"})
	ka, _ := m.startKey(a)
	kb, _ := m.startKey(b)
	require.NotEqual(t, ka, kb)

	cachedA := m.spanStart(a)
	m.startCache.Store(kb, cachedA) // b's key now finds a's start
	got := m.spanStart(b)
	assert.NotSame(t, cachedA, got)
	cfg := trace.NewSpanStartConfig(got.attrs)
	set := attribute.NewSet(cfg.Attributes()...)
	team, ok := set.Value("aigateway.metadata.team")
	assert.True(t, ok)
	assert.Equal(t, "b", team.AsString())
	kept, _ := m.startCache.Load(kb)
	assert.Same(t, cachedA, kept, "the cached start is left in place")
	assert.Same(t, cachedA, m.spanStart(a), "a's call still finds its own")
}

// A lone well-known finish reason's attribute is built once; any other
// list is built as it comes. Both are the slice attribute of the reasons.
func TestFinishReasonsAttribute(t *testing.T) {
	for _, reasons := range [][]string{{"stop"}, {"end_turn"}, {"STOP"}, {"made_up"}, {"stop", "length"}} {
		got := finishReasonsAttr(reasons)
		assert.Equal(t, attribute.StringSlice("gen_ai.response.finish_reasons", reasons), got, reasons)
	}
	stop := []string{"stop"}
	assert.Zero(t, testing.AllocsPerRun(100, func() { finishReasonsAttr(stop) }))
}
