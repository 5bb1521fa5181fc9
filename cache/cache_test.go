package cache

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const chatURL = llmtest.TransportURL + "/v1/chat/completions"

const chatBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}],"temperature":0}`

type result struct {
	status int
	header http.Header
	body   string
	call   aigateway.Result
}

// do sends one request through rt and reads the whole answer.
func do(t *testing.T, rt http.RoundTripper, url, body string, header ...string) result {
	t.Helper()
	ctx, tr := aigateway.Track(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-tenant-a")
	req.Header.Set("anthropic-version", "2023-06-01")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	call := tr.Last()
	require.NotNil(t, call)
	<-call.Done()
	return result{status: resp.StatusCode, header: resp.Header, body: string(b), call: call.Result()}
}

func newStack(t *testing.T, cfg Config, opts ...llmtest.Option) (*Cache, *llmtest.Transport, http.RoundTripper) {
	t.Helper()
	fake := llmtest.NewTransport(opts...)
	c := New(cfg)
	t.Cleanup(func() { assert.NoError(t, c.Close()) })
	return c, fake, mustNew(t, fake, c)
}

func TestHitMissBypassRefresh(t *testing.T) {
	c, fake, gw := newStack(t, Config{}, llmtest.WithUsage(llmtest.Usage{InputTokens: 20, OutputTokens: 5, CacheReadTokens: 4}))

	miss := do(t, gw, chatURL, chatBody)
	assert.Equal(t, "MISS", miss.header.Get(aigateway.HeaderCache))
	assert.Equal(t, aigateway.CacheMiss, miss.call.CacheStatus)
	assert.Equal(t, 1, miss.call.Attempts)

	hit := do(t, gw, chatURL, chatBody)
	assert.Equal(t, "HIT", hit.header.Get(aigateway.HeaderCache))
	assert.Equal(t, "0", hit.header.Get("Age"))
	assert.Equal(t, miss.body, hit.body, "the hit replays the stored bytes")
	assert.Equal(t, miss.header.Get("Content-Type"), hit.header.Get("Content-Type"))
	assert.Equal(t, aigateway.CacheHit, hit.call.CacheStatus)
	assert.Equal(t, 0, hit.call.Attempts)
	assert.True(t, hit.call.UsageKnown)
	assert.Equal(t, provider.Usage{InputTokens: 20, OutputTokens: 5, CacheReadTokens: 4}, hit.call.Usage, "the usage it saved")
	assert.Equal(t, "gpt-4o-mini", hit.call.ResponseModel)
	assert.Equal(t, 1, fake.Count())

	bypass := do(t, gw, chatURL, chatBody, aigateway.HeaderSkipCache, "true")
	assert.Equal(t, "BYPASS", bypass.header.Get(aigateway.HeaderCache))
	assert.Equal(t, aigateway.CacheBypass, bypass.call.CacheStatus)
	assert.Equal(t, 2, fake.Count())
	// The request's own Cache-Control does not count unless the Config
	// says so (TestCacheControlOnlyWhenHonoured): SDKs send no-cache on
	// every stream.
	assert.Equal(t, "HIT", do(t, gw, chatURL, chatBody, "Cache-Control", "no-store").header.Get(aigateway.HeaderCache))
	assert.Equal(t, "HIT", do(t, gw, chatURL, chatBody, "Cache-Control", "no-cache").header.Get(aigateway.HeaderCache))
	assert.Equal(t, 2, fake.Count())

	refresh := do(t, gw, chatURL, chatBody, aigateway.HeaderRefreshCache, "true")
	assert.Equal(t, "MISS", refresh.header.Get(aigateway.HeaderCache))
	assert.Equal(t, 3, fake.Count())
	again := do(t, gw, chatURL, chatBody)
	assert.Equal(t, "HIT", again.header.Get(aigateway.HeaderCache))
	assert.Equal(t, refresh.body, again.body, "the refreshed answer was stored")
	assert.NotEqual(t, miss.body, refresh.body, "the fake numbers its answers")

	s := c.Stats()
	assert.Equal(t, Stats{Hits: 4, Misses: 2, Bypasses: 1, Entries: 1, Bytes: s.Bytes}, s)
	assert.Positive(t, s.Bytes)
}

// The request's Cache-Control counts only when the Config honours it:
// go-openai (and a browser's EventSource) send no-cache on every stream,
// which left their streams never cached.
func TestCacheControlOnlyWhenHonoured(t *testing.T) {
	stream := strings.Replace(chatBody, `"temperature":0`, `"temperature":0,"stream":true`, 1)
	t.Run("ignored by default: an SDK's streams are cached", func(t *testing.T) {
		_, fake, gw := newStack(t, Config{})
		assert.Equal(t, "MISS", do(t, gw, chatURL, stream, "Cache-Control", "no-cache").header.Get(aigateway.HeaderCache))
		assert.Equal(t, "HIT", do(t, gw, chatURL, stream, "Cache-Control", "no-cache").header.Get(aigateway.HeaderCache))
		assert.Equal(t, "HIT", do(t, gw, chatURL, stream, "Cache-Control", "no-store").header.Get(aigateway.HeaderCache))
		assert.Equal(t, 1, fake.Count())
	})
	t.Run("honoured", func(t *testing.T) {
		_, fake, gw := newStack(t, Config{HonorCacheControl: true})
		do(t, gw, chatURL, chatBody)
		assert.Equal(t, "BYPASS", do(t, gw, chatURL, chatBody, "Cache-Control", "no-store").header.Get(aigateway.HeaderCache))
		refresh := do(t, gw, chatURL, chatBody, "Cache-Control", "max-age=0, no-cache")
		assert.Equal(t, "MISS", refresh.header.Get(aigateway.HeaderCache))
		again := do(t, gw, chatURL, chatBody)
		assert.Equal(t, "HIT", again.header.Get(aigateway.HeaderCache))
		assert.Equal(t, refresh.body, again.body, "the refreshed answer was stored")
		assert.Equal(t, 3, fake.Count())
	})
}

func TestKeyVariation(t *testing.T) {
	_, fake, gw := newStack(t, Config{})
	do(t, gw, chatURL, chatBody)
	same := []struct {
		name, body string
		header     []string
	}{
		{"key order and whitespace", `{ "temperature":0, "messages":[{"content":"Say hello","role":"user"}],"model":"gpt-4o-mini" }`, nil},
		{"escapes", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say \u0068ello"}],"temperature":0}`, nil},
		{"fields that do not change the answer", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}],"temperature":0,"user":"u-1","metadata":{"a":"b"},"store":true,"service_tier":"flex"}`, nil},
		{"gateway metadata", chatBody, []string{aigateway.HeaderMetadata, `{"team":"x"}`}},
	}
	for _, tc := range same {
		t.Run("same/"+tc.name, func(t *testing.T) {
			r := do(t, gw, chatURL, tc.body, tc.header...)
			assert.Equal(t, "HIT", r.header.Get(aigateway.HeaderCache))
		})
	}
	different := []struct {
		name, url, body string
		header          []string
	}{
		{"temperature", chatURL, strings.Replace(chatBody, `"temperature":0`, `"temperature":1`, 1), nil},
		{"message", chatURL, strings.Replace(chatBody, "hello", "hullo", 1), nil},
		{"another credential", chatURL, chatBody, []string{"Authorization", "Bearer sk-tenant-b"}},
		{"organization", chatURL, chatBody, []string{"OpenAI-Organization", "org-2"}},
		{"query", chatURL + "?api-version=2024-10-21", chatBody, nil},
		{"stream", chatURL, strings.Replace(chatBody, `"temperature":0`, `"temperature":0,"stream":true`, 1), nil},
	}
	for _, tc := range different {
		t.Run("different/"+tc.name, func(t *testing.T) {
			before := fake.Count()
			r := do(t, gw, tc.url, tc.body, tc.header...)
			assert.Equal(t, "MISS", r.header.Get(aigateway.HeaderCache))
			assert.Equal(t, before+1, fake.Count())
		})
	}
	t.Run("anthropic-version", func(t *testing.T) {
		body := `{"model":"claude-haiku-4-5","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`
		url := llmtest.TransportURL + "/v1/messages"
		assert.Equal(t, "MISS", do(t, gw, url, body).header.Get(aigateway.HeaderCache))
		assert.Equal(t, "HIT", do(t, gw, url, body).header.Get(aigateway.HeaderCache))
		assert.Equal(t, "MISS", do(t, gw, url, body, "anthropic-beta", "prompt-caching-2024-07-31").header.Get(aigateway.HeaderCache))
	})
	t.Run("gemini key query is a credential", func(t *testing.T) {
		url := llmtest.TransportURL + "/v1beta/models/gemini-2.5-flash:generateContent"
		body := `{"contents":[{"parts":[{"text":"hi"}]}]}`
		assert.Equal(t, "MISS", do(t, gw, url+"?key=g-1", body).header.Get(aigateway.HeaderCache))
		assert.Equal(t, "HIT", do(t, gw, url+"?key=g-1", body).header.Get(aigateway.HeaderCache))
		assert.Equal(t, "MISS", do(t, gw, url+"?key=g-2", body).header.Get(aigateway.HeaderCache))
	})
}

func TestPartitionAndCustomKey(t *testing.T) {
	_, fake, gw := newStack(t, Config{Partition: "metadata:tenant", ShareAcrossCredentials: true})
	tenant := func(name string) []string {
		return []string{aigateway.HeaderMetadata, `{"tenant":"` + name + `"}`}
	}
	assert.Equal(t, "MISS", do(t, gw, chatURL, chatBody, tenant("a")...).header.Get(aigateway.HeaderCache))
	assert.Equal(t, "MISS", do(t, gw, chatURL, chatBody, tenant("b")...).header.Get(aigateway.HeaderCache), "tenants never share")
	rotated := append(tenant("a"), "Authorization", "Bearer rotated-token")
	assert.Equal(t, "HIT", do(t, gw, chatURL, chatBody, rotated...).header.Get(aigateway.HeaderCache), "a rotated token shares the tenant's entries")
	assert.Equal(t, 2, fake.Count())

	_, fake, gw = newStack(t, Config{})
	custom := []string{aigateway.HeaderCacheKey, "greeting"}
	do(t, gw, chatURL, chatBody, custom...)
	other := strings.Replace(chatBody, "hello", "something else", 1)
	assert.Equal(t, "HIT", do(t, gw, chatURL, other, custom...).header.Get(aigateway.HeaderCache), "the custom key replaces the body")
	assert.Equal(t, "MISS", do(t, gw, chatURL, other, append(custom, "Authorization", "Bearer sk-tenant-b")...).header.Get(aigateway.HeaderCache),
		"a custom key is still partitioned by credential")
	assert.Equal(t, 2, fake.Count())
}

func TestTTL(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	store := NewMemoryStore(1 << 20)
	store.Clock = clock
	_, fake, gw := newStack(t, Config{Store: store, TTL: time.Minute, Now: clock})

	do(t, gw, chatURL, chatBody)
	advance(59 * time.Second)
	hit := do(t, gw, chatURL, chatBody)
	assert.Equal(t, "HIT", hit.header.Get(aigateway.HeaderCache))
	assert.Equal(t, "59", hit.header.Get("Age"))
	advance(2 * time.Second)
	assert.Equal(t, "MISS", do(t, gw, chatURL, chatBody).header.Get(aigateway.HeaderCache), "expired")
	assert.Equal(t, 2, fake.Count())

	short := []string{aigateway.HeaderCacheTTL, "5"}
	other := strings.Replace(chatBody, "hello", "bye", 1)
	do(t, gw, chatURL, other, short...)
	advance(4 * time.Second)
	assert.Equal(t, "HIT", do(t, gw, chatURL, other).header.Get(aigateway.HeaderCache))
	advance(2 * time.Second)
	assert.Equal(t, "MISS", do(t, gw, chatURL, other).header.Get(aigateway.HeaderCache), "the per-request TTL")
}

func TestOnlyCompleteAnswersAreStored(t *testing.T) {
	stream := strings.Replace(chatBody, `"temperature":0`, `"temperature":0,"stream":true`, 1)
	anthropic := `{"model":"claude-haiku-4-5","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}`
	cases := []struct {
		name, url, body string
		fault           llmtest.Fault
	}{
		{"500", chatURL, chatBody, llmtest.ServerError()},
		{"429", chatURL, chatBody, llmtest.RateLimited(time.Second)},
		{"cut stream", chatURL, stream, llmtest.CutAfter(2)},
		{"error event after 200", llmtest.TransportURL + "/v1/messages", anthropic, llmtest.ErrorAfter(3)},
		{"malformed body", chatURL, chatBody, llmtest.MalformedJSON()},
		{"malformed stream", chatURL, stream, llmtest.MalformedJSON()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, fake, gw := newStack(t, Config{})
			fake.Push(tc.fault)
			ctx, tr := aigateway.Track(context.Background())
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, tc.url, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer sk-tenant-a") // the same tenant as do's
			req.Header.Set("anthropic-version", "2023-06-01")
			resp, err := gw.RoundTrip(req)
			require.NoError(t, err)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			<-tr.Last().Done()
			r := do(t, gw, tc.url, tc.body)
			assert.Equal(t, "MISS", r.header.Get(aigateway.HeaderCache))
			assert.Equal(t, 2, fake.Count())
		})
	}
	t.Run("over MaxEntryBytes", func(t *testing.T) {
		_, fake, gw := newStack(t, Config{MaxEntryBytes: 100})
		do(t, gw, chatURL, chatBody)
		assert.Equal(t, "MISS", do(t, gw, chatURL, chatBody).header.Get(aigateway.HeaderCache))
		assert.Equal(t, 2, fake.Count())
	})
	t.Run("closed before its end", func(t *testing.T) {
		_, fake, gw := newStack(t, Config{})
		req, _ := http.NewRequest(http.MethodPost, chatURL, strings.NewReader(stream))
		req.Header.Set("Authorization", "Bearer sk-tenant-a")
		req.Header.Set("anthropic-version", "2023-06-01")
		resp, err := gw.RoundTrip(req)
		require.NoError(t, err)
		buf := make([]byte, 10)
		_, err = resp.Body.Read(buf)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, "MISS", do(t, gw, chatURL, stream).header.Get(aigateway.HeaderCache))
		assert.Equal(t, 2, fake.Count())
	})
}

// fallbackMarker marks every call as answered by a fallback target.
func fallbackMarker() aigateway.Middleware {
	return aigateway.MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return aigateway.Layer(next, func(call aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			call.SetTarget("backup", true)
			return next.RoundTrip(req)
		})
	})
}

func TestFallbackAnswersStoredOnlyWhenConfigured(t *testing.T) {
	for _, store := range []bool{false, true} {
		fake := llmtest.NewTransport()
		c := New(Config{CacheFallbacks: store})
		gw := mustNew(t, fake, c, fallbackMarker())
		do(t, gw, chatURL, chatBody)
		want := map[bool]string{false: "MISS", true: "HIT"}[store]
		assert.Equal(t, want, do(t, gw, chatURL, chatBody).header.Get(aigateway.HeaderCache))
		c.Close()
	}
}

func TestStreamReplayIsTheOriginal(t *testing.T) {
	for _, tc := range []struct{ name, url, body string }{
		{"openai without include_usage", chatURL, `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`},
		{"openai with include_usage", chatURL, `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`},
		{"anthropic", llmtest.TransportURL + "/v1/messages", `{"model":"claude-haiku-4-5","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}`},
		{"responses", llmtest.TransportURL + "/v1/responses", `{"model":"gpt-4o","stream":true,"input":"hi"}`},
		{"gemini", llmtest.TransportURL + "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", `{"contents":[{"parts":[{"text":"hi"}]}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, fake, gw := newStack(t, Config{}, llmtest.WithUsage(llmtest.Usage{InputTokens: 9, OutputTokens: 4}))
			first := do(t, gw, tc.url, tc.body)
			require.Equal(t, "MISS", first.header.Get(aigateway.HeaderCache))
			hit := do(t, gw, tc.url, tc.body)
			require.Equal(t, "HIT", hit.header.Get(aigateway.HeaderCache))
			assert.Equal(t, first.body, hit.body, "the replay is what the client first read")
			assert.Contains(t, hit.header.Get("Content-Type"), "text/event-stream")
			assert.NoError(t, hit.call.Err)
			assert.Equal(t, int64(4), hit.call.Usage.OutputTokens)
			assert.Positive(t, hit.call.TimeToFirstChunk)
			assert.Equal(t, 1, fake.Count())
			if strings.Contains(tc.name, "without include_usage") {
				assert.NotContains(t, hit.body, `"choices":[]`, "the usage chunk stays hidden from a client that did not ask")
			}
			if strings.Contains(tc.name, "with include_usage") {
				assert.Contains(t, hit.body, `"choices":[]`)
			}
		})
	}
}

func TestCoalescing(t *testing.T) {
	const n = 20
	t.Run("one upstream call for N identical callers", func(t *testing.T) {
		c, fake, gw := newStack(t, Config{})
		gate := llmtest.NewGate()
		fake.Push(llmtest.Hold(gate))
		results := make([]result, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { results[i] = do(t, gw, chatURL, chatBody) })
		}
		require.Eventually(t, func() bool { return c.Stats().Waiting == int64(n-1) }, 10*time.Second, time.Millisecond)
		gate.Open()
		wg.Wait()
		assert.Equal(t, 1, fake.Count())
		statuses := map[string]int{}
		for _, r := range results {
			statuses[r.header.Get(aigateway.HeaderCache)]++
			assert.Equal(t, results[0].body, r.body)
			assert.Equal(t, 200, r.status)
		}
		assert.Equal(t, map[string]int{"MISS": 1, "COALESCED": n - 1}, statuses)
		assert.Equal(t, int64(n-1), c.Stats().Coalesced)
	})
	t.Run("a failing leader does not fail the followers", func(t *testing.T) {
		c, fake, gw := newStack(t, Config{})
		gate := llmtest.NewGate()
		fault := llmtest.ServerError()
		fault.Gate = gate
		fake.Push(fault)
		results := make([]result, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { results[i] = do(t, gw, chatURL, chatBody) })
		}
		require.Eventually(t, func() bool { return c.Stats().Waiting == int64(n-1) }, 10*time.Second, time.Millisecond)
		gate.Open()
		wg.Wait()
		var failed, ok int
		for _, r := range results {
			switch r.status {
			case 500:
				failed++
			case 200:
				ok++
			}
		}
		assert.Equal(t, 1, failed, "only the leader sees its own failure")
		assert.Equal(t, n-1, ok)
		assert.Equal(t, 2, fake.Count(), "one follower led the second flight; the rest shared its answer")
	})
	t.Run("a cancelled leader does not fail the followers", func(t *testing.T) {
		c, fake, gw := newStack(t, Config{})
		gate := llmtest.NewGate()
		fake.Push(llmtest.Hold(gate))
		ctx, cancel := context.WithCancel(context.Background())
		leaderDone := make(chan error, 1)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, chatURL, strings.NewReader(chatBody))
			req.Header.Set("Authorization", "Bearer sk-tenant-a") // the same tenant as the followers
			req.Header.Set("anthropic-version", "2023-06-01")
			resp, err := gw.RoundTrip(req)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			leaderDone <- err
		}()
		require.Eventually(t, func() bool { return fake.Count() == 1 }, 10*time.Second, time.Millisecond)
		var wg sync.WaitGroup
		var followers [3]result
		for i := range followers {
			wg.Go(func() { followers[i] = do(t, gw, chatURL, chatBody) })
		}
		require.Eventually(t, func() bool { return c.Stats().Waiting == int64(len(followers)) }, 10*time.Second, time.Millisecond)
		cancel()
		assert.Error(t, <-leaderDone)
		gate.Open()
		wg.Wait()
		for _, r := range followers {
			assert.Equal(t, 200, r.status)
		}
		assert.Equal(t, 2, fake.Count())
	})
	t.Run("a follower's own context ends its wait", func(t *testing.T) {
		c, fake, gw := newStack(t, Config{})
		gate := llmtest.NewGate()
		fake.Push(llmtest.Hold(gate))
		var leader sync.WaitGroup
		leader.Go(func() { do(t, gw, chatURL, chatBody) })
		defer leader.Wait()
		require.Eventually(t, func() bool { return fake.Count() == 1 }, 10*time.Second, time.Millisecond)
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, chatURL, strings.NewReader(chatBody))
		req.Header.Set("Authorization", "Bearer sk-tenant-a")
		req.Header.Set("anthropic-version", "2023-06-01")
		errc := make(chan error, 1)
		go func() {
			_, err := gw.RoundTrip(req)
			errc <- err
		}()
		require.Eventually(t, func() bool { return c.Stats().Waiting == int64(1) }, 10*time.Second, time.Millisecond)
		cancel()
		assert.ErrorIs(t, <-errc, context.Canceled)
		gate.Open()
	})
	t.Run("off", func(t *testing.T) {
		_, fake, gw := newStack(t, Config{NoCoalescing: true})
		gate := llmtest.NewGate()
		fake.Always(llmtest.Hold(gate))
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() { do(t, gw, chatURL, chatBody) })
		}
		require.Eventually(t, func() bool { return fake.Count() == 3 }, 10*time.Second, time.Millisecond)
		gate.Open()
		wg.Wait()
	})
}

// failingStore fails every operation.
type failingStore struct{ gets, sets atomic.Int32 }

var errStoreDown = errors.New("store down")

func (s *failingStore) Get(context.Context, string) ([]byte, error) {
	s.gets.Add(1)
	return nil, errStoreDown
}
func (s *failingStore) Set(context.Context, string, []byte, time.Duration) error {
	s.sets.Add(1)
	return errStoreDown
}
func (s *failingStore) Delete(context.Context, string) error { return errStoreDown }

// recordingStore records the keys it is given.
type recordingStore struct {
	Store
	keys []string
}

func (s *recordingStore) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	s.keys = append(s.keys, key)
	return s.Store.Set(ctx, key, value, ttl)
}

func TestStoreErrorsNeverFailTheCall(t *testing.T) {
	store := &failingStore{}
	c, fake, gw := newStack(t, Config{Store: store})
	for range 2 {
		r := do(t, gw, chatURL, chatBody)
		assert.Equal(t, 200, r.status)
		assert.Equal(t, "MISS", r.header.Get(aigateway.HeaderCache))
		assert.NoError(t, r.call.Err)
		// The store is not the memory store: the entry is stored from a
		// queue, and a call made before that joins the first one's flight.
		require.NoError(t, c.Flush(context.Background()))
	}
	assert.Equal(t, 2, fake.Count())
	// Per call: the look-up and the write (no call stored anything in
	// between, so the leader does not look twice).
	assert.Equal(t, int64(4), c.Stats().StoreErrors)

	garbage := &recordingStore{Store: NewMemoryStore(1 << 20)}
	c2 := New(Config{Store: garbage})
	gw2 := mustNew(t, llmtest.NewTransport(), c2)
	do(t, gw2, chatURL, chatBody)
	require.NoError(t, c2.Flush(context.Background()))
	// Overwrite the entry with bytes that are not an entry.
	require.Len(t, garbage.keys, 1)
	assert.True(t, strings.HasPrefix(garbage.keys[0], keyPrefix))
	assert.NotContains(t, garbage.keys[0], "sk-tenant-a")
	require.NoError(t, garbage.Store.Set(context.Background(), garbage.keys[0], []byte("not an entry"), time.Hour))
	r := do(t, gw2, chatURL, chatBody)
	assert.Equal(t, "MISS", r.header.Get(aigateway.HeaderCache))
	assert.Equal(t, int64(1), c2.Stats().StoreErrors, "the look found an undecodable entry")
	require.NoError(t, c2.Flush(context.Background()))
	assert.Equal(t, "HIT", do(t, gw2, chatURL, chatBody).header.Get(aigateway.HeaderCache), "the miss stored a good entry over it")
}

// heldLookStore counts its Gets, and holds the first one, after it has
// looked, until open is closed.
type heldLookStore struct {
	Store
	gets         atomic.Int32
	looked, open chan struct{}
}

func (s *heldLookStore) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.Store.Get(ctx, key)
	if s.gets.Add(1) == 1 {
		close(s.looked)
		<-s.open
	}
	return v, err
}

// A miss looks in the store once, unless a call of this process stored an
// answer for a key of its shard between its look and its leading the
// flight: then it looks again, and answers from the store instead of
// going upstream.
func TestLeaderLooksAgainOnlyAfterAStore(t *testing.T) {
	t.Run("one look a miss", func(t *testing.T) {
		store := &heldLookStore{Store: NewMemoryStore(1 << 20), looked: make(chan struct{}), open: make(chan struct{})}
		close(store.open)
		c, fake, gw := newStack(t, Config{Store: store})
		for i := range 3 {
			r := do(t, gw, chatURL, strings.Replace(chatBody, "hello", "hello "+strconv.Itoa(i), 1))
			assert.Equal(t, "MISS", r.header.Get(aigateway.HeaderCache))
			require.NoError(t, c.Flush(context.Background()))
		}
		assert.Equal(t, 3, fake.Count())
		assert.Equal(t, int32(3), store.gets.Load(), "one Get a miss")
	})
	t.Run("a store between look and lead", func(t *testing.T) {
		store := &heldLookStore{Store: NewMemoryStore(1 << 20), looked: make(chan struct{}), open: make(chan struct{})}
		c, fake, gw := newStack(t, Config{Store: store})
		late := make(chan result, 1)
		go func() { late <- do(t, gw, chatURL, chatBody) }()
		<-store.looked // the late call has missed, and not yet joined a flight
		first := do(t, gw, chatURL, chatBody)
		assert.Equal(t, "MISS", first.header.Get(aigateway.HeaderCache))
		require.NoError(t, c.Flush(context.Background())) // stored, its flight over
		close(store.open)
		r := <-late
		assert.Equal(t, "HIT", r.header.Get(aigateway.HeaderCache), "the late call looked again")
		assert.Equal(t, first.body, r.body)
		assert.Equal(t, 1, fake.Count())
	})
}

// slowSetStore holds its first Set after the value is in the store, until
// release is closed (a remote store whose reply is still on its way), and
// its first Get, after it has looked, until open is closed.
type slowSetStore struct {
	heldLookStore
	sets             atomic.Int32
	applied, release chan struct{}
}

func (s *slowSetStore) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	err := s.Store.Set(ctx, key, v, ttl)
	if s.sets.Add(1) == 1 {
		close(s.applied)
		<-s.release
	}
	return err
}

// A call that stores without leading a flight (a refresh) and whose Set is
// still under way when another call looks up the key: that call, leading
// its flight, looks again and answers from the store.
func TestLeaderLooksAgainAfterAStoreUnderWay(t *testing.T) {
	store := &slowSetStore{
		heldLookStore: heldLookStore{Store: NewMemoryStore(1 << 20), looked: make(chan struct{}), open: make(chan struct{})},
		applied:       make(chan struct{}), release: make(chan struct{}),
	}
	c, fake, gw := newStack(t, Config{Store: store})
	late := make(chan result, 1)
	go func() { late <- do(t, gw, chatURL, chatBody) }()
	<-store.looked // the late call has missed, and not yet joined a flight
	refresh := do(t, gw, chatURL, chatBody, aigateway.HeaderRefreshCache, "true")
	require.Equal(t, "MISS", refresh.header.Get(aigateway.HeaderCache))
	<-store.applied // the refresh's answer is in the store; its Set has not returned
	close(store.open)
	r := <-late
	close(store.release)
	require.NoError(t, c.Flush(context.Background()))
	assert.Equal(t, "HIT", r.header.Get(aigateway.HeaderCache), "the late call looked again")
	assert.Equal(t, 1, fake.Count())
}

func TestUnparseableBodyBypasses(t *testing.T) {
	_, fake, gw := newStack(t, Config{})
	for range 2 {
		r := do(t, gw, chatURL, `{"model":"gpt-4o-mini","messages":[`)
		assert.Equal(t, "BYPASS", r.header.Get(aigateway.HeaderCache))
		assert.Equal(t, 400, r.status, "the upstream judges it")
	}
	assert.Equal(t, 2, fake.Count())
}

func TestInvalidConfigAnswersEveryCall(t *testing.T) {
	cfg := Config{TTL: -1, Partition: "user"}
	require.Error(t, cfg.Validate())
	fake := llmtest.NewTransport()
	c := New(cfg)
	_, err := aigateway.New(fake, c)
	require.Error(t, err, "a Gateway refuses it")
	assert.ErrorContains(t, err, "cache: ttl")
	assert.ErrorContains(t, err, "metadata:NAME")
	assert.EqualError(t, err, c.Err().Error())
	// Used alone, it answers every call with a provider-shaped 500.
	r := do(t, c.Wrap(fake), chatURL, chatBody)
	assert.Equal(t, 500, r.status)
	assert.Equal(t, "false", r.header.Get("x-should-retry"))
	assert.Contains(t, r.body, "invalid cache configuration")
	assert.Contains(t, r.body, "metadata:NAME")
	assert.Equal(t, 0, fake.Count())
}

func TestCacheAlone(t *testing.T) {
	fake := llmtest.NewTransport()
	c := New(Config{})
	defer c.Close()
	client := &http.Client{Transport: c.Wrap(fake)}
	for i, want := range []string{"MISS", "HIT"} {
		req, _ := http.NewRequest(http.MethodPost, chatURL, strings.NewReader(chatBody))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, want, resp.Header.Get(aigateway.HeaderCache), "call %d", i)
	}
	assert.Equal(t, 1, fake.Count())
}

func TestContextHelpers(t *testing.T) {
	_, fake, gw := newStack(t, Config{})
	send := func(ctx context.Context, body string) string {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, chatURL, strings.NewReader(body))
		resp, err := gw.RoundTrip(req)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.Header.Get(aigateway.HeaderCache)
	}
	bg := context.Background()
	assert.Equal(t, "BYPASS", send(Skip(bg), chatBody))
	assert.Equal(t, "MISS", send(bg, chatBody))
	assert.Equal(t, "HIT", send(bg, chatBody))
	assert.Equal(t, "MISS", send(Refresh(bg), chatBody))
	keyed := WithKey(WithTTL(bg, time.Hour), "k")
	assert.Equal(t, "MISS", send(keyed, chatBody))
	assert.Equal(t, "HIT", send(keyed, strings.Replace(chatBody, "hello", "hi", 1)))
	assert.Equal(t, time.Hour, aigateway.ContextControls(keyed).CacheTTL)
	assert.Equal(t, 4, fake.Count(), "skip, miss, refresh and the keyed miss went upstream")
}

// A good answer the cache will not store (too large, or from a fallback
// target) releases the waiting calls to go upstream side by side, instead of
// one after another behind new leaders.
func TestUnstorableAnswerReleasesWaitingCalls(t *testing.T) {
	for name, cfg := range map[string]struct {
		cfg    Config
		layers []aigateway.Middleware
	}{
		"over MaxEntryBytes": {Config{MaxEntryBytes: 64}, nil},
		"fallback answer":    {Config{}, []aigateway.Middleware{fallbackMarker()}},
	} {
		t.Run(name, func(t *testing.T) {
			fake := llmtest.NewTransport()
			c := New(cfg.cfg)
			defer c.Close()
			gw := mustNew(t, fake, append([]aigateway.Middleware{c}, cfg.layers...)...)
			gate := llmtest.NewGate()
			fake.Always(llmtest.Hold(gate))
			var wg sync.WaitGroup
			for range 3 {
				wg.Go(func() { do(t, gw, chatURL, chatBody) })
			}
			require.Eventually(t, func() bool { return c.Stats().Waiting == int64(2) }, 10*time.Second, time.Millisecond)
			gate.Release() // the leader's answer
			require.Eventually(t, func() bool { return fake.Count() == 3 }, 10*time.Second, time.Millisecond,
				"both waiting calls are upstream at once")
			gate.Open()
			wg.Wait()
		})
	}
}

// The control case for TestOnlyCompleteAnswersAreStored: the same first
// request, answered whole, is stored, so a MISS there means "not stored".
func TestFirstRequestShapeSharesDosKey(t *testing.T) {
	_, fake, gw := newStack(t, Config{})
	req, _ := http.NewRequest(http.MethodPost, chatURL, strings.NewReader(chatBody))
	req.Header.Set("Authorization", "Bearer sk-tenant-a")
	req.Header.Set("anthropic-version", "2023-06-01")
	resp, err := gw.RoundTrip(req)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.Equal(t, "HIT", do(t, gw, chatURL, chatBody).header.Get(aigateway.HeaderCache))
	assert.Equal(t, 1, fake.Count())
}

func TestBackgroundResponsesBypass(t *testing.T) {
	_, fake, gw := newStack(t, Config{})
	url := llmtest.TransportURL + "/v1/responses"
	bg := `{"model":"gpt-4o","input":"hi","background":true}`
	assert.Equal(t, "BYPASS", do(t, gw, url, bg).header.Get(aigateway.HeaderCache))
	fg := `{"model":"gpt-4o","input":"hi"}`
	assert.Equal(t, "MISS", do(t, gw, url, fg).header.Get(aigateway.HeaderCache), "a background job never answers a foreground call")
	assert.Equal(t, 2, fake.Count())
}

func TestAcceptEncodingSplitsTheKey(t *testing.T) {
	_, fake, gw := newStack(t, Config{})
	do(t, gw, chatURL, chatBody)
	assert.Equal(t, "MISS", do(t, gw, chatURL, chatBody, "Accept-Encoding", "gzip").header.Get(aigateway.HeaderCache))
	assert.Equal(t, 2, fake.Count())
}

func TestNextWithoutResponseOrHeader(t *testing.T) {
	for name, up := range map[string]http.RoundTripper{
		"nil response": rtFunc(func(r *http.Request) (*http.Response, error) { r.Body.Close(); return nil, nil }),
		"nil header": rtFunc(func(r *http.Request) (*http.Response, error) {
			r.Body.Close()
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)), ContentLength: -1}, nil
		}),
	} {
		t.Run(name, func(t *testing.T) {
			c := New(Config{})
			defer c.Close()
			for _, rt := range []http.RoundTripper{c.Wrap(up), mustNew(t, up, c)} {
				req, _ := http.NewRequest(http.MethodPost, chatURL, strings.NewReader(chatBody))
				resp, err := rt.RoundTrip(req)
				if name == "nil response" {
					assert.Error(t, err)
					continue
				}
				require.NoError(t, err)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				assert.NotEmpty(t, resp.Header.Get(aigateway.HeaderCache))
			}
		})
	}
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// sizeStore records the length and capacity of what it is given.
type sizeStore struct {
	Store
	mu       sync.Mutex
	len, cap int
}

func (s *sizeStore) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	s.mu.Lock()
	s.len, s.cap = len(value), cap(value)
	s.mu.Unlock()
	return s.Store.Set(ctx, key, value, ttl)
}

func TestStoredValuesHoldNoHiddenMemory(t *testing.T) {
	store := &sizeStore{Store: NewMemoryStore(1 << 20)}
	_, _, gw := newStack(t, Config{Store: store})
	for _, body := range []string{chatBody, strings.Replace(chatBody, `"temperature":0`, `"temperature":0,"stream":true`, 1)} {
		do(t, gw, chatURL, body)
		store.mu.Lock()
		assert.LessOrEqual(t, store.cap, store.len+store.len/4, "the store budgets by len")
		store.mu.Unlock()
	}
}

// A goroutine that starts the same call twice before reading the first must
// not wait for itself: once the first answer is idle, the second goes
// upstream on its own.
func TestSecondCallBeforeReadingTheFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, fake, gw := newStack(t, Config{CoalesceWait: time.Minute, CoalesceIdle: 50 * time.Millisecond})
		send := func() *http.Response {
			req, _ := http.NewRequest(http.MethodPost, chatURL, strings.NewReader(strings.Replace(chatBody, `"temperature":0`, `"temperature":0,"stream":true`, 1)))
			resp, err := gw.RoundTrip(req)
			require.NoError(t, err)
			return resp
		}
		start := time.Now()
		first := send() // not read yet
		second := make(chan *http.Response, 1)
		go func() { second <- send() }()
		r2 := <-second // the bubble's clock runs while everything waits
		assert.Equal(t, 50*time.Millisecond, time.Since(start), "the second call waited CoalesceIdle for the unread first, no more")
		assert.Equal(t, "MISS", r2.Header.Get(aigateway.HeaderCache))
		assert.Equal(t, 2, fake.Count())
		for _, resp := range []*http.Response{first, r2} {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// A leader whose caller is blocked reading a slow upstream is not idle: the
// waiting calls keep waiting and share its answer.
func TestSlowUpstreamIsNotIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, fake, gw := newStack(t, Config{CoalesceIdle: 20 * time.Millisecond})
		gate := llmtest.NewGate()
		fake.Push(llmtest.Hold(gate))
		stream := strings.Replace(chatBody, `"temperature":0`, `"temperature":0,"stream":true`, 1)
		var wg sync.WaitGroup
		results := make([]result, 3)
		for i := range results {
			wg.Go(func() { results[i] = do(t, gw, chatURL, stream) })
		}
		synctest.Wait()
		require.Equal(t, int64(2), c.Stats().Waiting, "two calls wait for the leader")
		time.Sleep(100 * time.Millisecond) // well past CoalesceIdle, the leader blocked in a read
		for range 20 {
			gate.Release()
			time.Sleep(5 * time.Millisecond) // the upstream is slow between chunks
		}
		gate.Open()
		wg.Wait()
		assert.Equal(t, 1, fake.Count())
		statuses := map[string]int{}
		for _, r := range results {
			statuses[r.header.Get(aigateway.HeaderCache)]++
		}
		assert.Equal(t, map[string]int{"MISS": 1, "COALESCED": 2}, statuses)
	})
}

// mustNew builds a Gateway, failing the test on a configuration error.
func mustNew(tb testing.TB, base http.RoundTripper, layers ...aigateway.Middleware) *aigateway.Gateway {
	tb.Helper()
	g, err := aigateway.New(base, layers...)
	require.NoError(tb, err)
	return g
}
