package aigateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/fallback"
	"github.com/aigateway-go/aigateway/metering"
	"github.com/aigateway-go/aigateway/provider"
	"github.com/aigateway-go/aigateway/ratelimit"
)

// closeSink is a request-log sink that notes its Close.
type closeSink struct{ closed int }

func (s *closeSink) Write(context.Context, *metering.Record) error { return nil }
func (s *closeSink) Close() error                                  { s.closed++; return nil }

// Issue 11, item 3: a layer's configuration error surfaces when the
// Gateway is built, naming the layer and the field, instead of a 500 on
// every call (the README's stack with GROQ_API_KEY unset failed every call,
// the primary target's too).
func TestNewReportsEveryLayersConfigError(t *testing.T) {
	t.Setenv("GROQ_API_KEY", "")
	readme := func() fallback.Config {
		return fallback.Config{Targets: []fallback.Target{
			{Name: "openai"},
			{Name: "groq", Provider: provider.Groq, APIKeyEnv: "GROQ_API_KEY", Model: "llama-3.3-70b-versatile"},
		}}
	}
	t.Run("the README's stack with an unset key variable", func(t *testing.T) {
		sink := &closeSink{}
		gw, err := aigateway.New(nil,
			metering.New(metering.Config{Sinks: []metering.Sink{sink}}),
			cache.New(cache.Config{}),
			ratelimit.New(ratelimit.Config{Rules: []ratelimit.Rule{{Name: "per-user tokens", Key: "metadata:user", Tokens: 100_000, Per: time.Minute}}}),
			fallback.New(readme()),
		)
		assert.Nil(t, gw)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `fallback: target "groq"`)
		assert.Contains(t, err.Error(), "GROQ_API_KEY", "the variable is named")
		assert.Equal(t, 1, sink.closed, "New took the layers: it closed them")
	})
	t.Run("every layer's error, joined", func(t *testing.T) {
		_, err := aigateway.New(nil,
			metering.New(metering.Config{SinkBuffer: -1}),
			cache.New(cache.Config{TTL: -1}),
			ratelimit.New(ratelimit.Config{Rules: []ratelimit.Rule{{Requests: 1, Per: time.Minute}}}),
			fallback.New(readme()),
		)
		require.Error(t, err)
		for _, want := range []string{"metering: sink_buffer", "cache: ttl", "ratelimit: rule", "GROQ_API_KEY"} {
			assert.Contains(t, err.Error(), want)
		}
	})
	t.Run("a target's own layers", func(t *testing.T) {
		_, err := aigateway.New(nil, fallback.New(fallback.Config{Targets: []fallback.Target{
			{Name: "openai", Layers: []aigateway.Middleware{ratelimit.New(ratelimit.Config{})}},
		}}))
		require.Error(t, err)
		assert.Contains(t, err.Error(), `fallback: target "openai": ratelimit: no rules`)
	})
	t.Run("a valid stack", func(t *testing.T) {
		t.Setenv("GROQ_API_KEY", "gsk-test")
		gw, err := aigateway.New(nil, metering.New(metering.Config{}), cache.New(cache.Config{}), fallback.New(readme()))
		require.NoError(t, err)
		require.NoError(t, gw.Close())
	})
}
