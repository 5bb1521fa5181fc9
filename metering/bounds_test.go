package metering_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/metering"
)

// ledgerSize is the dimensions of a ledger and the groups in all of them.
func ledgerSize(l *metering.Ledger) (dims, groups int) {
	for _, d := range l.Dimensions() {
		dims++
		groups += len(l.By(d))
	}
	return dims, groups
}

// Calls that each bring fresh metadata keys and values, and now and then a
// model name of 2 KB, cannot grow the meter's state without bound: the
// ledger stops adding dimensions at LedgerMaxDimensions (the issue: 40,000
// dimensions after 20,000 requests of two fresh keys) and groups at
// LedgerMaxGroups, and the caches of metric attribute sets and of span
// starts stop at their bounds, so the second half of the calls adds
// nothing. Every dimension
// still sums to the calls it covers.
func TestMeterStateIsBoundedUnderFreshMetadata(t *testing.T) {
	const calls, maxGroups = 10_000, 50 // each half brings more combinations than MaxCachedSets
	meter := metering.New(metering.Config{
		MeterProvider:   enabledMeters{}, // the attribute sets are built
		LedgerMaxGroups: maxGroups,
		MetricMetadata:  []string{"team"},
	})
	gw := mustNew(t, llmtest.NewTransport(llmtest.WithCaptureLimit(1)), meter)
	t.Cleanup(func() { assert.NoError(t, gw.Close()) })
	longModel := strings.Repeat("m", 2<<10)

	send := func(from, to int) {
		for i := from; i < to; i++ {
			tags, err := json.Marshal(map[string]string{
				fmt.Sprintf("key-%d-a", i): fmt.Sprint(i),
				fmt.Sprintf("key-%d-b", i): fmt.Sprint(i),
				"team":                     fmt.Sprintf("team-%d", i),
			})
			require.NoError(t, err)
			model := fmt.Sprintf("model-%d", i)
			if i%10 == 0 {
				model = longModel + model
			}
			do(t, context.Background(), gw, "/v1/chat/completions", chat(model), http.Header{aigateway.HeaderMetadata: {string(tags)}})
		}
	}
	send(0, calls/2)
	dims, groups := ledgerSize(meter.Ledger())
	sets, largest := meter.CachedSets()
	starts, largestStart := meter.CachedStarts()
	send(calls/2, calls)

	l := meter.Ledger()
	gotDims, gotGroups := ledgerSize(l)
	assert.Equal(t, dims, gotDims, "no dimension added by the second half")
	assert.Equal(t, groups, gotGroups, "no group added by the second half")
	assert.LessOrEqual(t, gotDims, 5+metering.DefaultLedgerMaxDimensions)
	// Each call brings two fresh keys beside team: the 32 places are full
	// after call 15, which keeps one of its keys and not the other.
	assert.Equal(t, int64(calls-15), l.Ungrouped())

	total := l.Totals().Requests
	require.Equal(t, int64(calls), total)
	for _, d := range l.Dimensions() {
		by := l.By(d)
		assert.LessOrEqual(t, len(by), maxGroups+1, d)
		var sum int64
		for v, g := range by {
			assert.LessOrEqual(t, len(v), metering.MaxGroupBytes, d)
			sum += g.Requests
		}
		if !strings.HasPrefix(d, "metadata:key-") { // a fresh key: only its own call has it
			assert.Equal(t, total, sum, "%s sums to the calls", d)
		}
	}

	gotSets, gotLargest := meter.CachedSets()
	assert.Equal(t, sets, gotSets, "no attribute sets cached by the second half")
	assert.Equal(t, metering.MaxCachedSets, gotSets)
	assert.Equal(t, largest, gotLargest)
	assert.LessOrEqual(t, gotLargest, metering.MaxCachedKeyBytes, "a 2 KB model name is not cached")

	gotStarts, gotLargestStart := meter.CachedStarts()
	assert.Equal(t, starts, gotStarts, "no span start cached by the second half")
	assert.Equal(t, metering.MaxCachedSets, gotStarts)
	assert.Equal(t, largestStart, gotLargestStart)
	assert.LessOrEqual(t, gotLargestStart, metering.MaxCachedKeyBytes, "a 2 KB model name is not cached")
}

// Which metadata keys the ledger groups by, and what it does with values
// and keys too long to keep.
func TestLedgerMetadataDimensions(t *testing.T) {
	long := strings.Repeat("x", metering.MaxGroupBytes+1)
	type call struct {
		model string
		tags  map[string]string
	}
	for _, tc := range []struct {
		name      string
		cfg       metering.Config
		calls     []call
		want      map[string]map[string]int64 // metadata dimension → value → requests
		ungrouped int64
	}{
		{
			name:  "LedgerMetadata lists the keys grouped",
			cfg:   metering.Config{LedgerMetadata: []string{"team"}},
			calls: []call{{tags: map[string]string{"team": "search", "user": "u1"}}, {tags: map[string]string{"user": "u2"}}},
			want:  map[string]map[string]int64{"metadata:team": {"search": 1}},
		},
		{
			name: "the first LedgerMaxDimensions keys seen",
			cfg:  metering.Config{LedgerMaxDimensions: 2},
			calls: []call{
				{tags: map[string]string{"a": "1"}}, {tags: map[string]string{"b": "1"}},
				{tags: map[string]string{"c": "1"}}, {tags: map[string]string{"a": "2", "c": "2"}},
			},
			want:      map[string]map[string]int64{"metadata:a": {"1": 1, "2": 1}, "metadata:b": {"1": 1}},
			ungrouped: 2,
		},
		{
			name: "MetricMetadata keys are grouped once the places are taken",
			cfg:  metering.Config{LedgerMaxDimensions: 1, MetricMetadata: []string{"team"}},
			calls: []call{
				{tags: map[string]string{"junk": "1"}}, {tags: map[string]string{"more-junk": "1"}},
				{tags: map[string]string{"team": "search"}},
			},
			want:      map[string]map[string]int64{"metadata:junk": {"1": 1}, "metadata:team": {"search": 1}},
			ungrouped: 1,
		},
		{
			name:      "a key longer than MaxGroupBytes is not grouped",
			calls:     []call{{tags: map[string]string{long: "1", "team": "search"}}},
			want:      map[string]map[string]int64{"metadata:team": {"search": 1}},
			ungrouped: 1,
		},
		{
			name:  "a value longer than MaxGroupBytes adds up in OtherGroup",
			calls: []call{{tags: map[string]string{"user": long}}, {tags: map[string]string{"user": "u1"}}},
			want:  map[string]map[string]int64{"metadata:user": {metering.OtherGroup: 1, "u1": 1}},
		},
		{
			// The stack cuts a requested model to aigateway.MaxModelBytes
			// (no longer than MaxGroupBytes) before a layer sees it.
			name:  "a model name is cut before it reaches the ledger",
			calls: []call{{model: long}, {model: "gpt-4o-mini"}},
			want:  map[string]map[string]int64{metering.ByModel: {long[:aigateway.MaxModelBytes]: 1, "gpt-4o-mini": 1}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.cfg.Validate())
			meter := metering.New(tc.cfg)
			gw := mustNew(t, llmtest.NewTransport(), meter)
			t.Cleanup(func() { assert.NoError(t, gw.Close()) })
			for _, c := range tc.calls {
				ctx := context.Background()
				for k, v := range c.tags {
					ctx = aigateway.WithMetadata(ctx, k, v)
				}
				model := c.model
				if model == "" {
					model = "gpt-4o-mini"
				}
				do(t, ctx, gw, "/v1/chat/completions", chat(model), nil)
			}
			l := meter.Ledger()
			got := map[string]map[string]int64{}
			for _, d := range l.Dimensions() {
				_, want := tc.want[d]
				if !strings.HasPrefix(d, "metadata:") && !want {
					continue
				}
				got[d] = map[string]int64{}
				for v, g := range l.By(d) {
					got[d][v] = g.Requests
				}
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.ungrouped, l.Ungrouped())
		})
	}
	for _, bad := range []metering.Config{{LedgerMaxDimensions: -1}, {LedgerMetadata: []string{"team", " "}}} {
		assert.Error(t, bad.Validate(), "%+v", bad)
	}
}

// enabledMeters is a MeterProvider whose instruments record nothing but
// report themselves enabled, so that the meter builds (and caches) the
// attribute sets of every call at no cost of the SDK's.
type enabledMeters struct{ metricnoop.MeterProvider }

func (enabledMeters) Meter(string, ...metric.MeterOption) metric.Meter { return enabledMeter{} }

type enabledMeter struct{ metricnoop.Meter }

func (enabledMeter) Float64Counter(string, ...metric.Float64CounterOption) (metric.Float64Counter, error) {
	return enabledCounter{}, nil
}

type enabledCounter struct{ metricnoop.Float64Counter }

func (enabledCounter) Enabled(context.Context) bool { return true }
