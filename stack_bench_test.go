package aigateway_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/internal/benchstack"
	"github.com/aigateway-go/aigateway/llmtest"
)

// BenchmarkStack measures the full default stack of the design's budget
// table: meter, cache, rate limiter (one token rule per user) and router
// (one target), next to the bare upstream in the same run, over two
// in-memory upstreams: the llmtest fake, which renders each answer, and a
// canned one, which hands back the fake's answer prepared once (so that
// canned-stack minus canned is the stack alone, with no upstream work or
// garbage beside it). A cache miss sends a new ~1 KB request each time (a
// counter in the prompt, in the bare runs too); a hit repeats one.
// Telemetry is no-op, or the OpenTelemetry SDK recording every metric and
// span; canned-gateway is a Gateway with no layers, the fixed cost every
// stack pays. caller-ns/op is the median time of one call, from its
// request to its body's Close: without the work a layer queues for after
// the call, which ns/op includes when it runs on the same cores.
func BenchmarkStack(b *testing.B) {
	fake := llmtest.NewTransport(llmtest.WithReply(benchstack.Reply))
	canned := aigateway.NewCanned(b, fake, stackBenchBody(nil, 0, ""))
	noop, sdk := benchStacks(b, fake)
	cannedNoop, cannedSDK := benchStacks(b, canned)
	for _, path := range []string{"miss", "hit"} {
		for _, tc := range []struct {
			name string
			rt   http.RoundTripper
		}{
			{"bare", fake}, {"stack-noop", noop}, {"stack-sdk", sdk},
			{"canned", canned}, {"canned-gateway", mustNew(b, canned)},
			{"canned-stack-noop", cannedNoop}, {"canned-stack-sdk", cannedSDK},
		} {
			if path == "hit" && tc.name == "canned-gateway" {
				continue // no cache: a hit is a miss
			}
			expect := "" // what the stack's cache must answer: the benchmark measures what it says
			if strings.Contains(tc.name, "stack") {
				expect = cacheAnswer[path]
			}
			b.Run(path+"/"+tc.name, func(b *testing.B) {
				b.ReportAllocs()
				ctx := aigateway.WithMetadata(context.Background(), "user", "u-1")
				var body []byte
				want := "" // a hit's first call stores the answer
				// Each call's own time, from its request to its body's
				// Close (the last 64k calls): work a layer queues after the
				// call (the meter's span end and metrics) is not in it.
				caller, n := make([]time.Duration, 1<<16), 0
				for b.Loop() {
					if path == "miss" {
						body = stackBenchBody(body, benchSeq.Add(1), tc.name) // never sent before, in any run
					} else if body == nil {
						body = stackBenchBody(nil, 0, "")
					}
					caller[n%len(caller)] = benchCall(ctx, b, tc.rt, llmtest.TransportURL+"/v1/chat/completions", body, want)
					n++
					want = expect
				}
				b.ReportMetric(float64(median(caller[:min(n, len(caller))])), "caller-ns/op")
			})
		}
	}
}

// BenchmarkStackCold is BenchmarkStack's canned rows with the CPU's caches
// cooled before every call: each iteration makes a call over the canned
// upstream alone and one through the stack (no-op telemetry), each after
// writing over a buffer, the first of the pair alternating, and reports
// the median of the pairs' differences (added-ns/op), to set beside
// BenchmarkStack's warm figure and BenchmarkStackHTTP's. The buffer is
// larger than a core's L1 and L2 caches in the "l2" rows (the shared L3
// keeps much of the stack), and larger than the L3 too in the "l3" rows
// (everything comes from memory): what the stack adds when other work has
// just used the caches, as a call between two trips through the kernel's
// network stack does. ns/op is mostly the cooling.
func BenchmarkStackCold(b *testing.B) {
	fake := llmtest.NewTransport(llmtest.WithReply(benchstack.Reply))
	canned := aigateway.NewCanned(b, fake, stackBenchBody(nil, 0, ""))
	cannedNoop, _ := benchStacks(b, canned)
	url := llmtest.TransportURL + "/v1/chat/completions"
	for _, cooling := range []struct {
		name  string
		bytes int
	}{{"l2", 4 << 20}, {"l3", 64 << 20}} {
		// More than this machine's caches (an AMD EPYC: 64 KB of L1 and
		// 1 MB of L2 a core, 32 MB of L3 shared).
		cold := make([]byte, cooling.bytes)
		cool := func() {
			for i := 0; i < len(cold); i += 64 {
				cold[i]++
			}
		}
		for _, path := range []string{"miss", "hit"} {
			b.Run(path+"/"+cooling.name+"/canned-stack-noop", func(b *testing.B) {
				ctx := aigateway.WithMetadata(context.Background(), "user", "u-1")
				var added []time.Duration
				var body []byte
				want := "" // a hit's first call stores the answer
				n := 0
				for b.Loop() {
					if path == "miss" {
						body = stackBenchBody(body, benchSeq.Add(1), "cold")
					} else if body == nil {
						body = stackBenchBody(nil, 0, "")
					}
					n++
					d, s := pair(n,
						func() time.Duration { cool(); return benchCall(ctx, b, canned, url, body, "") },
						func() time.Duration { cool(); return benchCall(ctx, b, cannedNoop, url, body, want) })
					want = cacheAnswer[path]
					added = append(added, s-d)
				}
				b.ReportMetric(float64(median(added)), "added-ns/op")
			})
		}
	}
}

// stackBenchBody writes the stack benchmarks' ~1 KB chat request
// (benchstack's) over dst; a nonzero n is written into the prompt, with
// tag, to make the request new.
func stackBenchBody(dst []byte, n int64, tag string) []byte {
	body := append(dst[:0], benchstack.RequestPrefix...)
	if n != 0 {
		body = strconv.AppendInt(body, n, 10)
		body = append(body, tag...)
	}
	return append(body, benchstack.RequestSuffix...)
}

// BenchmarkStackHTTP is BenchmarkStack over real loopback HTTP: an
// httptest server (the llmtest fake) and one http.Transport, each
// iteration a direct call and a call through the stack, interleaved (the
// first of the pair alternates), so both see the same machine. It reports
// the direct call's median time (direct-ns/op) and the median of the
// pairs' differences (added-ns/op): what the stack adds to a real call.
// ns/op is the pair's.
func BenchmarkStackHTTP(b *testing.B) {
	srv := llmtest.NewServer(llmtest.WithReply(benchstack.Reply))
	b.Cleanup(srv.Close)
	var dials atomic.Int64
	dialer := &net.Dialer{}
	tr := &http.Transport{MaxIdleConnsPerHost: 4, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dialer.DialContext(ctx, network, addr)
	}}
	b.Cleanup(tr.CloseIdleConnections)
	noop, sdk := benchStacks(b, tr)
	url := srv.URL + "/v1/chat/completions"
	ctx := aigateway.WithMetadata(context.Background(), "user", "u-1")
	for _, path := range []string{"miss", "hit"} {
		for _, tc := range []struct {
			name string
			rt   http.RoundTripper
		}{{"gateway", mustNew(b, tr)}, {"stack-noop", noop}, {"stack-sdk", sdk}} {
			if path == "hit" && tc.name == "gateway" {
				continue // no cache: a hit is a miss
			}
			b.Run(path+"/"+tc.name, func(b *testing.B) {
				b.ReportAllocs()
				var direct, added []time.Duration
				n := 0
				expect := "" // what the stack's cache must answer: the benchmark measures what it says
				if tc.name != "gateway" {
					expect = cacheAnswer[path]
				}
				want := "" // a hit's first call stores the answer
				for b.Loop() {
					// A new body each time: the transport may still be
					// reading the last one when its answer has come.
					body := stackBenchBody(nil, 0, "")
					if path == "miss" {
						body = stackBenchBody(nil, benchSeq.Add(1), tc.name)
					}
					n++
					d, s := pair(n,
						func() time.Duration { return benchCall(ctx, b, tr, url, body, "") },
						func() time.Duration { return benchCall(ctx, b, tc.rt, url, body, want) })
					want = expect
					direct, added = append(direct, d), append(added, s-d)
				}
				b.ReportMetric(float64(median(direct)), "direct-ns/op")
				b.ReportMetric(float64(median(added)), "added-ns/op")
				b.ReportMetric(float64(dials.Swap(0))/float64(len(added)), "dials/op")
			})
		}
	}
}

// pair makes the n-th pair of a paired benchmark, a direct call and one
// through the stack, the first of them alternating with n, and returns
// their times.
func pair(n int, direct, stack func() time.Duration) (d, s time.Duration) {
	if n%2 == 0 {
		d = direct()
		return d, stack()
	}
	s = stack()
	return direct(), s
}

// cacheAnswer is what the stack's cache must answer on each path.
var cacheAnswer = map[string]string{"miss": "MISS", "hit": "HIT"}

// benchCall sends body to url through rt as the stack benchmarks' callers
// (and TestStackAllocationsPerCall's) do, reads the answer to its end and
// closes it, and returns the call's time. It fails b unless the answer is
// a 200 and, when want is set, the stack's cache answered want.
func benchCall(ctx context.Context, b testing.TB, rt http.RoundTripper, url string, body []byte, want string) time.Duration {
	start := time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-bench")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
	if got := resp.Header[aigateway.HeaderCache]; want != "" && (len(got) != 1 || got[0] != want) {
		b.Fatalf("cache: %q, want %q", got, want)
	}
	return d
}

// benchSeq numbers the benchmarks' cache-missing requests: a run of
// -count 2 or a second benchmark in the same process sends new prompts, not
// the first run's (which the stack's cache would answer).
var benchSeq atomic.Int64

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// benchStacks returns the full default stack over base twice: with no-op
// telemetry, and with the OpenTelemetry SDK recording every metric and
// span.
func benchStacks(b *testing.B, base http.RoundTripper) (noop, sdk http.RoundTripper) {
	n, s, closeAll, err := benchstack.New(base, base)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(closeAll)
	return n, s
}
