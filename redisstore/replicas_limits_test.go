package redisstore

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/ratelimit"
	"github.com/aigateway-go/aigateway/redisstore/internal/redisserver"
)

const (
	limChatURL  = llmtest.TransportURL + "/v1/chat/completions"
	limChatBody = `{"model":"gpt-4o-mini","max_tokens":500,"messages":[{"role":"user","content":"Say hello"}]}`
)

// limReplica is one replica of a service: its own Redis client, store,
// limiter, fake upstream and Gateway.
type limReplica struct {
	store   *Limits
	limiter *ratelimit.Limiter
	fake    *llmtest.Transport
	gw      *aigateway.Gateway
}

// limReplicas starts n replicas on srv, each with its own client (built
// with client, when not nil), sharing one store prefix; each gets cfg with
// its store set.
func limReplicas(t *testing.T, srv *redisserver.Server, n int, client func(*redis.Options), opts Options, cfg ratelimit.Config, fakeOpts ...llmtest.Option) []*limReplica {
	t.Helper()
	rs := make([]*limReplica, n)
	for i := range rs {
		var rdb *redis.Client
		if client != nil {
			rdb = srv.Client(t, client)
		} else {
			rdb = srv.Client(t)
		}
		r := &limReplica{store: NewLimits(rdb, opts), fake: llmtest.NewTransport(fakeOpts...)}
		c := cfg
		c.Store = r.store
		r.limiter = ratelimit.New(c)
		gw, err := aigateway.New(r.fake, r.limiter)
		require.NoError(t, err)
		r.gw = gw
		t.Cleanup(func() {
			assert.NoError(t, gw.Close())
			assert.Zero(t, r.fake.OpenBodies(), "every upstream body is closed")
		})
		rs[i] = r
	}
	return rs
}

// limAnswer is what a caller got.
type limAnswer struct {
	status int
	body   string
}

// call sends one chat call through the replica's Gateway and reads the
// whole answer; it returns once the call is complete. It may run on any
// goroutine: a failure marks t and returns status 0.
func (r *limReplica) call(t *testing.T, body string) limAnswer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a hang fails the test instead of stalling it
	defer cancel()
	ctx, tr := aigateway.Track(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, limChatURL, strings.NewReader(body))
	if !assert.NoError(t, err) {
		return limAnswer{}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-tenant-a")
	resp, err := r.gw.RoundTrip(req)
	if !assert.NoError(t, err) {
		return limAnswer{}
	}
	b, err := io.ReadAll(resp.Body)
	assert.NoError(t, err)
	assert.NoError(t, resp.Body.Close())
	if c := tr.Last(); c != nil {
		<-c.Done()
	}
	return limAnswer{status: resp.StatusCode, body: string(b)}
}

// status is a rule's Status on the replica, failing t on an error.
func (r *limReplica) status(t *testing.T, rule string) ratelimit.Status {
	t.Helper()
	s, err := r.limiter.Status(context.Background(), rule)
	require.NoError(t, err)
	return s
}

// Three replicas, each with its own Redis client and limiter, share one
// request limit exactly: of 90 concurrent calls, 30 on each, the limit's
// 30 are admitted, whichever replica they came through.
func TestLimitsReplicasShareARequestLimitExactly(t *testing.T) {
	srv := redisserver.Start(t)
	rs := limReplicas(t, srv, 3, nil, Options{Prefix: "replicas:", Timeout: limTimeout},
		ratelimit.Config{Rules: []ratelimit.Rule{{Name: "rph", Requests: 30, Per: time.Hour}}})
	var mu sync.Mutex
	statuses := map[int]int{}
	perReplica := make([]int, len(rs))
	var wg sync.WaitGroup
	for i := range 90 {
		r := rs[i%len(rs)]
		wg.Go(func() {
			a := r.call(t, limChatBody)
			mu.Lock()
			defer mu.Unlock()
			statuses[a.status]++
			if a.status == http.StatusOK {
				perReplica[i%len(rs)]++
			}
		})
	}
	wg.Wait()
	assert.Equal(t, map[int]int{http.StatusOK: 30, http.StatusTooManyRequests: 60}, statuses)
	t.Logf("admitted per replica: %v", perReplica)
	upstream := 0
	for _, r := range rs {
		upstream += r.fake.Count()
		assert.Zero(t, r.limiter.Stats().StoreErrors)
		assert.Equal(t, Stats{}, r.store.Stats())
		assert.Equal(t, int64(0), r.status(t, "rph").Remaining, "every replica sees the limit spent")
	}
	assert.Equal(t, 30, upstream, "only admitted calls went upstream")
}

// A token limit is shared as it is spent: a call in flight on one replica
// holds its reservation (its prompt and max_tokens) on every replica, and
// once it completes every replica sees what it used, not what it reserved.
func TestLimitsReplicasSeeTokensSettledByAnother(t *testing.T) {
	srv := redisserver.Start(t)
	usage := llmtest.Usage{InputTokens: 100, OutputTokens: 50}
	rs := limReplicas(t, srv, 3, nil, Options{Prefix: "replicas:", Timeout: limTimeout},
		ratelimit.Config{Rules: []ratelimit.Rule{{Name: "tph", Tokens: 10_000, Per: time.Hour}}},
		llmtest.WithUsage(usage))
	gate := llmtest.NewGate()
	rs[0].fake.Push(llmtest.Hold(gate))
	done := make(chan limAnswer)
	go func() { done <- rs[0].call(t, limChatBody) }()
	require.Eventually(t, func() bool { return gate.Waiting() > 0 }, 10*time.Second, time.Millisecond)
	reserved := 10_000 - rs[1].status(t, "tph").Remaining
	assert.Greater(t, reserved, int64(500), "another replica sees the reservation: the prompt's estimate and max_tokens")
	assert.Equal(t, 10_000-reserved, rs[2].status(t, "tph").Remaining)
	gate.Open()
	assert.Equal(t, http.StatusOK, (<-done).status)

	settled := func(want int64) {
		t.Helper()
		for _, r := range rs {
			assert.Eventually(t, func() bool { return r.status(t, "tph").Remaining == want }, 10*time.Second, 5*time.Millisecond,
				"every replica sees %d tokens left", want)
		}
	}
	settled(10_000 - 150)
	assert.Equal(t, http.StatusOK, rs[1].call(t, limChatBody).status)
	settled(10_000 - 300)
	for _, r := range rs {
		assert.Zero(t, r.limiter.Stats().StoreErrors)
	}
}

// A budget is spent once across replicas: what one replica spent, the
// others cannot spend again. gpt-4o-mini's input costs $0.15 per million
// tokens: each call costs $0.15 of a $0.20 daily budget.
func TestLimitsReplicasSpendABudgetOnce(t *testing.T) {
	srv := redisserver.Start(t)
	// A zone where it is about noon: the day does not end during the test.
	h := time.Now().UTC().Hour()
	noon := time.FixedZone("noon", (12-h)*3600)
	rs := limReplicas(t, srv, 3, nil, Options{Prefix: "replicas:", Timeout: limTimeout},
		ratelimit.Config{Location: noon, Rules: []ratelimit.Rule{{Name: "daily", CostUSD: 0.20, Period: ratelimit.PeriodDay}}},
		llmtest.WithUsage(llmtest.Usage{InputTokens: 1_000_000}))
	remaining := func(want float64) {
		t.Helper()
		for _, r := range rs {
			assert.Eventually(t, func() bool { return math.Abs(r.status(t, "daily").RemainingUSD-want) < 1e-9 },
				10*time.Second, 5*time.Millisecond, "every replica sees $%.2f left", want)
		}
	}
	assert.Equal(t, http.StatusOK, rs[0].call(t, limChatBody).status)
	remaining(0.05)
	assert.Equal(t, http.StatusOK, rs[1].call(t, limChatBody).status, "the estimate still fits what is left")
	remaining(-0.10)
	a := rs[2].call(t, limChatBody)
	assert.Equal(t, http.StatusTooManyRequests, a.status, "the third replica finds the budget spent")
	assert.Contains(t, a.body, "budget_exceeded")
	a = rs[0].call(t, limChatBody)
	assert.Equal(t, http.StatusTooManyRequests, a.status, "and so does the first")
	assert.Equal(t, 1, rs[0].fake.Count())
	assert.Equal(t, 1, rs[1].fake.Count())
	assert.Zero(t, rs[2].fake.Count())
}

// limErrorBody is an OpenAI-shaped error answer.
type limErrorBody struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
	} `json:"error"`
}

func limDecodeError(t *testing.T, body string) limErrorBody {
	t.Helper()
	var e limErrorBody
	require.NoError(t, json.Unmarshal([]byte(body), &e), "a provider-shaped error: %s", body)
	return e
}
