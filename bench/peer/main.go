// Command peer measures, over real loopback HTTP and in one run, what a
// hosted-style gateway (the Portkey gateway, started by bench/peer.sh) and
// aigateway's full default stack each add to a call to the same upstream.
//
// The upstream is the llmtest OpenAI fake on a loopback port, answering the
// ~1 KB chat request of BenchmarkStackHTTP with its ~1.6 KB answer (or
// that answer as a stream). Every path is timed against a direct call in
// pairs: the same request sent straight to the fake and through the path,
// one after the other, the first of the pair alternating, so both calls
// of a pair see the same machine; what the path adds is the pair's
// difference. A call is timed from building its request to the last byte
// of its answer. Calls are sequential: this is latency, not throughput.
// The paths take turns, -block pairs at a time, so a change in the
// machine's load falls on all of them alike. Not pair by pair: Portkey
// keeps working after its answer's last byte (its logs, its collector),
// and that work would land on the next path's calls. JSON paths run
// first, then stream paths (fewer pairs: Portkey holds every stream back
// 25 ms).
//
// Each answer is checked outside the timed span: the fake must have
// received exactly the calls that should reach it (none for a cache hit),
// the peer's request must be the pair's and the peer's answer the fake's
// answer to it (its id), and every answer must be the direct answer but
// for the id the fake numbers its answers with: the same bytes for a
// stream, the same JSON value for JSON (Portkey writes it back compact).
//
// Usage (bench/peer.sh installs and starts Portkey, then runs this):
//
//	go run ./bench/peer -peer http://127.0.0.1:PORT [-pairs 2000] [-warmup 200] [-stream-pairs 200]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/internal/benchstack"
	"github.com/aigateway-go/aigateway/llmtest"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.peerURL, "peer", "", "base URL of the running peer gateway (`http://127.0.0.1:PORT`)")
	flag.StringVar(&cfg.peerName, "peer-name", "Portkey", "the peer's name in the table")
	flag.IntVar(&cfg.json.pairs, "pairs", 2000, "measured pairs per JSON path")
	flag.IntVar(&cfg.json.warmup, "warmup", 200, "pairs per JSON path sent first and discarded")
	flag.IntVar(&cfg.stream.pairs, "stream-pairs", 200, "measured pairs per stream path (0: no streams)")
	flag.IntVar(&cfg.stream.warmup, "stream-warmup", 20, "pairs per stream path sent first and discarded")
	flag.IntVar(&cfg.block, "block", 100, "pairs a path sends before the next path's turn")
	flag.DurationVar(&cfg.wait, "wait", 30*time.Second, "how long to wait for the peer to answer")
	flag.Parse()
	if err := run(os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		os.Exit(1)
	}
}

// config is what one run measures.
type config struct {
	peerURL  string
	peerName string
	json     count
	stream   count // no streams when pairs is 0
	block    int
	wait     time.Duration
}

// count is how many pairs a path sends, and how many of them first to
// warm up (discarded).
type count struct{ pairs, warmup int }

// reply is the fake's answer text, BenchmarkStackHTTP's: ~1.6 KB of JSON
// with the answer's envelope.
var reply = benchstack.Reply

// apiKey is the key every client sends and the fake demands, so an answer
// proves the peer passed the caller's Authorization through.
const apiKey = "sk-bench"

// prefix is the start of the ~1 KB chat request of BenchmarkStackHTTP; a
// marker (the pair's number and the path's place) follows it, so no two
// requests are the same unless a path repeats one on purpose.
var prefix = benchstack.RequestPrefix

// path is one way to the fake, measured against the direct call.
type path struct {
	name   string
	place  int // in the table, which makes its requests its own
	stream bool
	// hit repeats one request, so a stack answers it from its cache and
	// the fake sees nothing; otherwise every request is new.
	hit bool
	// peer marks the hosted-style gateway: its request goes to its own
	// URL, with the headers that name the fake as its upstream.
	peer   bool
	rt     http.RoundTripper
	url    string
	header http.Header

	direct, through, added []time.Duration
}

// answer is one timed call's outcome.
type answer struct {
	took   time.Duration
	status int
	header http.Header
	body   []byte
	// upstream is the request the fake received during the call, if it
	// received one.
	upstream llmtest.Request
}

func run(w io.Writer, cfg config) error {
	if cfg.peerURL == "" {
		return errors.New("-peer is required: the base URL of the running peer gateway")
	}
	if cfg.json.pairs < 1 || cfg.json.warmup < 0 || cfg.stream.pairs < 0 || cfg.stream.warmup < 0 || cfg.block < 1 {
		return fmt.Errorf("need -pairs >= 1, -block >= 1 and the other counts >= 0 (have pairs %d, warmup %d, stream-pairs %d, stream-warmup %d, block %d)",
			cfg.json.pairs, cfg.json.warmup, cfg.stream.pairs, cfg.stream.warmup, cfg.block)
	}
	peerURL := strings.TrimSuffix(cfg.peerURL, "/")
	fake := llmtest.NewServer(llmtest.WithReply(reply), llmtest.WithAPIKey(apiKey), llmtest.WithCaptureLimit(1))
	defer fake.Close()

	// One transport per path, each keeping its connection warm.
	newTransport := func() *http.Transport { return &http.Transport{MaxIdleConnsPerHost: 4} }
	directRT, peerRT, noopRT, sdkRT := newTransport(), newTransport(), newTransport(), newTransport()
	for _, tr := range []*http.Transport{directRT, peerRT, noopRT, sdkRT} {
		defer tr.CloseIdleConnections()
	}
	if err := waitFor(peerRT, peerURL+"/", cfg.wait); err != nil {
		return err
	}
	noop, sdk, closeStacks, err := benchstack.New(noopRT, sdkRT)
	if err != nil {
		return err
	}
	defer closeStacks()

	m := &measurement{fake: fake, direct: directRT, url: fake.URL + "/v1/chat/completions", block: cfg.block}
	peerHeader := http.Header{
		"X-Portkey-Provider":    {"openai"},
		"X-Portkey-Custom-Host": {fake.URL + "/v1"},
	}
	var paths []*path
	group := func(stream bool) []*path {
		ps := []*path{{name: cfg.peerName, stream: stream, peer: true, rt: peerRT, url: peerURL + "/v1/chat/completions", header: peerHeader}}
		for _, hit := range []bool{false, true} {
			ps = append(ps,
				&path{name: "aigateway, no-op telemetry", stream: stream, hit: hit, rt: noop, url: m.url},
				&path{name: "aigateway, OTel SDK recording", stream: stream, hit: hit, rt: sdk, url: m.url})
		}
		for k, p := range ps {
			p.place = len(paths) + k
		}
		paths = append(paths, ps...)
		return ps
	}

	load := loadavg()
	start := time.Now()
	if err := m.pairs(group(false), cfg.json); err != nil {
		return err
	}
	if cfg.stream.pairs > 0 {
		if err := m.pairs(group(true), cfg.stream); err != nil {
			return err
		}
	}
	elapsed := time.Since(start)

	streams := "no streams"
	if cfg.stream.pairs > 0 {
		streams = fmt.Sprintf("stream: %d after %d", cfg.stream.pairs, cfg.stream.warmup)
	}
	fmt.Fprintf(w, "JSON: %d pairs per path after %d discarded; %s; %d at a time; sequential, over loopback HTTP; %s, GOMAXPROCS %d; %.1f s\n",
		cfg.json.pairs, cfg.json.warmup, streams, cfg.block, runtime.Version(), runtime.GOMAXPROCS(0), elapsed.Seconds())
	if load != "" {
		fmt.Fprintf(w, "load average (1, 5, 15 min): %s before, %s after\n", load, loadavg())
	}
	fmt.Fprintln(w)
	writeTable(w, paths)
	return nil
}

// measurement is what every pair shares: the fake, the direct path to it.
type measurement struct {
	fake   *llmtest.Server
	direct http.RoundTripper
	url    string // the fake's chat completions URL
	block  int
	buf    bytes.Buffer
}

// pairs sends n.warmup+n.pairs pairs on each path, keeping the last
// n.pairs: block pairs on one path, then block on the next, and round
// again.
func (m *measurement) pairs(paths []*path, n count) error {
	ctx := aigateway.WithMetadata(context.Background(), "user", "u-1")
	total := n.warmup + n.pairs
	for from := 0; from < total; from += m.block {
		for _, p := range paths {
			for i := from; i < min(from+m.block, total); i++ {
				d, s, err := m.pair(ctx, p, i)
				if err != nil {
					return fmt.Errorf("%s, pair %d: %w", label(p), i, err)
				}
				if i >= n.warmup {
					p.direct = append(p.direct, d)
					p.through = append(p.through, s)
					p.added = append(p.added, s-d)
				}
			}
		}
	}
	return nil
}

// pair sends pair i's request straight to the fake and through p, the
// direct call first in even pairs, and checks both answers.
func (m *measurement) pair(ctx context.Context, p *path, i int) (direct, through time.Duration, err error) {
	body := request(p, i)
	var d, s answer
	for _, first := range []bool{true, false} {
		if first == (i%2 == 0) {
			if d, err = m.call(ctx, m.direct, m.url, nil, body, 1); err != nil {
				return 0, 0, fmt.Errorf("direct call: %w", err)
			}
			continue
		}
		sent := 1
		if p.hit && i > 0 {
			sent = 0
		}
		if s, err = m.call(ctx, p.rt, p.url, p.header, body, sent); err != nil {
			return 0, 0, err
		}
	}
	if err := check(p, i, d, s); err != nil {
		return 0, 0, err
	}
	return d.took, s.took, nil
}

// request is the body path p sends in pair i (with p's place, so no two
// paths send the same request): new each time, or one request repeated
// for a cache hit.
func request(p *path, i int) []byte {
	var b []byte
	b = append(b, prefix...)
	if !p.hit {
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ' ')
	}
	b = append(b, "path "...)
	b = strconv.AppendInt(b, int64(p.place), 10)
	if p.stream {
		return append(b, benchstack.StreamRequestSuffix...)
	}
	return append(b, benchstack.RequestSuffix...)
}

// call sends body to url through rt and reads the whole answer; the time
// runs from building the request to the answer's last byte. sent is how
// many requests the fake must receive meanwhile.
func (m *measurement) call(ctx context.Context, rt http.RoundTripper, url string, header http.Header, body []byte, sent int) (answer, error) {
	fake, buf := m.fake, &m.buf
	before := fake.Count()
	buf.Reset()
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apiKey)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return answer{}, err
	}
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err != nil {
		return answer{}, fmt.Errorf("reading the answer: %w", err)
	}
	a := answer{took: took, status: resp.StatusCode, header: resp.Header, body: bytes.Clone(buf.Bytes())}
	if a.status != http.StatusOK {
		return a, fmt.Errorf("status %d: %.300s", a.status, a.body)
	}
	if got := fake.Count() - before; got != sent {
		return a, fmt.Errorf("the fake received %d requests during the call, want %d", got, sent)
	}
	if sent > 0 {
		a.upstream, _ = fake.LastRequest()
	}
	return a, nil
}

// check holds the call through p to being the fake's work: the peer's
// request reached the fake, and every answer is the fake's, as the direct
// answer is but for the id the fake numbers answers with (a stream ends
// with its usage chunk and [DONE]).
func check(p *path, i int, direct, through answer) error {
	if p.peer {
		up := through.upstream
		if up.URL == nil || up.URL.Path != "/v1/chat/completions" {
			return fmt.Errorf("the fake did not get the peer's request at /v1/chat/completions: %v", up.URL)
		}
		if !bytes.Contains(up.Body, []byte(" "+strconv.Itoa(i)+" path ")) {
			return fmt.Errorf("the request the fake got is not this pair's: %.200s", up.Body[min(len(up.Body), len(prefix)):])
		}
		if id := fmt.Sprintf("chatcmpl-llmtest%022d", up.Seq); !bytes.Contains(through.body, []byte(id)) {
			return fmt.Errorf("the peer's answer is not the fake's answer to the peer's request (id %s): %.300s", id, through.body)
		}
	}
	if p.stream && !bytes.HasSuffix(through.body, []byte("data: [DONE]\n\n")) {
		return fmt.Errorf("the stream does not end with [DONE]: %q", tail(through.body))
	}
	if p.stream && !bytes.Contains(through.body, []byte(`"usage":{"prompt_tokens":`)) {
		return errors.New("the stream has no usage chunk")
	}
	if !p.stream && !bytes.Contains(through.body, []byte(reply)) {
		return errors.New("the answer does not carry the fake's reply")
	}
	if p.hit && i > 0 && through.header.Get(aigateway.HeaderCache) != "HIT" {
		return fmt.Errorf("a repeated request was not a cache hit: %s %q", aigateway.HeaderCache, through.header.Get(aigateway.HeaderCache))
	}
	if a, b := withoutIDs(direct.body), withoutIDs(through.body); !bytes.Equal(a, b) && (p.stream || !sameJSON(a, b)) {
		n := 0
		for n < min(len(a), len(b)) && a[n] == b[n] {
			n++
		}
		return fmt.Errorf("the answer differs from the fake's at byte %d: direct %q, through %q", n, around(a, n), around(b, n))
	}
	return nil
}

// sameJSON reports whether a and b are the same JSON value: a gateway may
// write the upstream's answer back in its own layout (Portkey parses it
// and writes it compact).
func sameJSON(a, b []byte) bool {
	var va, vb any
	return json.Unmarshal(a, &va) == nil && json.Unmarshal(b, &vb) == nil && reflect.DeepEqual(va, vb)
}

// withoutIDs blanks the digits of the fake's answer ids (chatcmpl-llmtest
// and a 22-digit number), which count the fake's requests.
func withoutIDs(b []byte) []byte {
	const id = "chatcmpl-llmtest"
	b = bytes.Clone(b)
	for rest := b; ; {
		j := bytes.Index(rest, []byte(id))
		if j < 0 {
			return b
		}
		rest = rest[j+len(id):]
		for k := 0; k < len(rest) && rest[k] >= '0' && rest[k] <= '9'; k++ {
			rest[k] = '#'
		}
	}
}

func around(b []byte, n int) []byte { return b[max(0, n-40):min(len(b), n+80)] }

func tail(b []byte) []byte { return b[max(0, len(b)-80):] }

func label(p *path) string {
	s := p.name + ", " + kind(p)
	if !p.peer {
		if p.hit {
			s += ", cache hit"
		} else {
			s += ", cache miss"
		}
	}
	return s
}

func kind(p *path) string {
	if p.stream {
		return "stream"
	}
	return "JSON"
}

// waitFor polls url until it answers 200, for at most d: the peer takes
// a moment to start listening and longer to answer its first request.
func waitFor(rt http.RoundTripper, url string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := rt.RoundTrip(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the peer at %s did not answer within %s: %w", url, d, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeTable prints one row per path: the direct call's median, the
// path's, and the median and 90th percentile of what it added; for a
// stack's cache miss, how many times more the peer added.
func writeTable(w io.Writer, paths []*path) {
	fmt.Fprintln(w, "| path | median direct | median through | median added | p90 added | peer added ÷ added |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	peerAdded := map[bool]time.Duration{}
	for _, p := range paths {
		if p.peer {
			peerAdded[p.stream] = quantile(p.added, 0.5)
		}
	}
	for _, p := range paths {
		added := quantile(p.added, 0.5)
		ratio := ""
		switch {
		case p.peer:
		case p.hit:
			ratio = "(answered from the cache)"
		case added <= 0:
			ratio = "(added nothing measurable)"
		default:
			ratio = fmt.Sprintf("%.0f×", float64(peerAdded[p.stream])/float64(added))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", label(p),
			format(quantile(p.direct, 0.5)), format(quantile(p.through, 0.5)),
			format(added), format(quantile(p.added, 0.9)), ratio)
	}
}

// quantile returns the sample at index ⌊q·n⌋ of ds sorted (a copy), the
// last for q = 1: one rank above the nearest rank when q·n is whole (the
// upper of the two middle samples for the median of an even count).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// format writes d in microseconds below a millisecond, else milliseconds.
func format(d time.Duration) string {
	us := float64(d) / float64(time.Microsecond)
	if us <= -1000 || us >= 1000 {
		return fmt.Sprintf("%.2f ms", us/1000)
	}
	return fmt.Sprintf("%.1f µs", us)
}

// loadavg returns the machine's load averages from /proc/loadavg, or ""
// where there is none.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
