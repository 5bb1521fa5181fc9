package ratelimit

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
)

// A ~1 KB chat request and a ~1 KB answer.
var (
	benchBody  = []byte(`{"model":"gpt-4o-mini","max_tokens":256,"messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"` + strings.Repeat("Summarise the quarterly report in one line. ", 20) + `"}],"temperature":0}`)
	benchReply = strings.TrimSpace(strings.Repeat("The quarterly report shows steady growth overall. ", 17))
)

func benchCalls(b *testing.B, rt http.RoundTripper, ctx context.Context) {
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, chatURL, bytes.NewReader(benchBody))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer sk-bench")
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// benchRules are n rules that never refuse: the first counts requests for
// everyone, the others alternate tokens per user, requests per model and
// key, and a monthly budget per team.
func benchRules(n int) []Rule {
	huge := time.Nanosecond // refills at once: never refuses
	rules := []Rule{{Name: "rpm", Requests: 1 << 40, Per: huge}}
	for i := 1; i < n; i++ {
		name := "rule-" + strconv.Itoa(i)
		switch i % 3 {
		case 0:
			rules = append(rules, Rule{Name: name, Key: "metadata:user", Tokens: 1 << 40, Per: huge})
		case 1:
			rules = append(rules, Rule{Name: name, Key: "model,api_key", Requests: 1 << 40, Per: huge})
		case 2:
			rules = append(rules, Rule{Name: name, Key: "metadata:team", CostUSD: 1e9, Period: PeriodMonth})
		}
	}
	return rules
}

// BenchmarkLimiter compares, in one run: the bare in-memory fake; a
// Gateway with no layers; and a Gateway with a limiter of 1 and of 10
// rules, each call admitted and settled. The 10 rules include token and
// budget rules, so calls are settled on completion.
func BenchmarkLimiter(b *testing.B) {
	fake := llmtest.NewTransport(llmtest.WithReply(benchReply))
	ctx := aigateway.WithMetadata(aigateway.WithMetadata(context.Background(), "user", "u-42"), "team", "t-7")
	b.Run("bare", func(b *testing.B) { benchCalls(b, fake, ctx) })
	b.Run("gateway", func(b *testing.B) { benchCalls(b, mustNew(b, fake), ctx) })
	for _, n := range []int{1, 10} {
		b.Run("rules="+strconv.Itoa(n), func(b *testing.B) {
			l := New(Config{Rules: benchRules(n)})
			if err := (Config{Rules: benchRules(n)}).Validate(); err != nil {
				b.Fatal(err)
			}
			benchCalls(b, mustNew(b, fake, l), ctx)
			if s := l.Stats(); s.Refused > 0 || s.StoreErrors > 0 {
				b.Fatalf("not an admission path: %+v", s)
			}
		})
	}
	b.Run("tokens=1", func(b *testing.B) {
		l := New(Config{Rules: []Rule{{Name: "t", Key: "metadata:user", Tokens: 1 << 40, Per: time.Nanosecond}}})
		benchCalls(b, mustNew(b, fake, l), ctx)
	})
}
