package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/aigateway-go/aigateway/llmtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// standIn is a peer gateway in Portkey's manner: it forwards a chat
// request to the upstream its X-Portkey-Custom-Host header names, with
// the caller's Authorization, and writes a JSON answer back compact.
// Each field, when set, makes it misbehave in one way.
type standIn struct {
	body   func([]byte) []byte // the request it forwards
	answer func([]byte) []byte // the answer it returns
	header func(h http.Header) // the headers it forwards
	own    []byte              // an answer of its own, upstream never asked
}

func (s standIn) start(t *testing.T) string {
	t.Helper()
	tr := &http.Transport{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/" {
			_, _ = io.WriteString(w, "AI Gateway says hey!")
			return
		}
		body, _ := io.ReadAll(r.Body)
		if s.own != nil {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(s.own)
			return
		}
		if s.body != nil {
			body = s.body(body)
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, r.Header.Get("X-Portkey-Custom-Host")+"/chat/completions", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", r.Header.Get("Authorization"))
		if s.header != nil {
			s.header(req.Header)
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			var compact bytes.Buffer
			if json.Compact(&compact, answer) == nil {
				answer = compact.Bytes()
			}
		}
		if s.answer != nil {
			answer = s.answer(answer)
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(answer)
	}))
	t.Cleanup(func() {
		srv.Close()
		tr.CloseIdleConnections()
	})
	return srv.URL
}

func small(peerURL string) config {
	return config{peerURL: peerURL, peerName: "stand-in", json: count{pairs: 3, warmup: 1}, stream: count{pairs: 2, warmup: 1}, block: 1}
}

func TestRunMeasuresEveryPathAgainstAFaithfulPeer(t *testing.T) {
	for _, block := range []int{1, 2} {
		t.Run(fmt.Sprintf("block %d", block), func(t *testing.T) {
			cfg := small(standIn{}.start(t))
			cfg.block = block
			var out bytes.Buffer
			require.NoError(t, run(&out, cfg))

			rows := tableRows(out.String())
			require.Len(t, rows, 10, out.String())
			for i, want := range []string{
				"stand-in, JSON",
				"aigateway, no-op telemetry, JSON, cache miss",
				"aigateway, OTel SDK recording, JSON, cache miss",
				"aigateway, no-op telemetry, JSON, cache hit",
				"aigateway, OTel SDK recording, JSON, cache hit",
				"stand-in, stream",
				"aigateway, no-op telemetry, stream, cache miss",
				"aigateway, OTel SDK recording, stream, cache miss",
				"aigateway, no-op telemetry, stream, cache hit",
				"aigateway, OTel SDK recording, stream, cache hit",
			} {
				assert.Equal(t, want, rows[i][0])
			}
			assert.Contains(t, rows[3][5], "answered from the cache")
			assert.Contains(t, out.String(), fmt.Sprintf("JSON: 3 pairs per path after 1 discarded; stream: 2 after 1; %d at a time", block))
		})
	}
}

func TestRunWithoutStreamsMeasuresJSONOnly(t *testing.T) {
	cfg := small(standIn{}.start(t))
	cfg.stream.pairs = 0
	var out bytes.Buffer
	require.NoError(t, run(&out, cfg))
	rows := tableRows(out.String())
	require.Len(t, rows, 5, out.String())
	for _, r := range rows {
		assert.NotContains(t, r[0], "stream")
	}
	assert.Contains(t, out.String(), "JSON: 3 pairs per path after 1 discarded; no streams; 1 at a time")
}

// TestRunRefusesAPeerThatDoesNotPassTheCallThrough holds the checks to
// what makes the peer's figures mean something: its request reached the
// fake, and its answer is the fake's.
func TestRunRefusesAPeerThatDoesNotPassTheCallThrough(t *testing.T) {
	for _, tc := range []struct {
		name string
		peer standIn
		want string
	}{
		{
			name: "answers on its own",
			peer: standIn{own: []byte(`{"id":"chatcmpl-llmtest0000000000000000000001","choices":[{"message":{"content":"` + reply + `"}}]}`)},
			want: "the fake received 0 requests during the call, want 1",
		},
		{
			name: "forwards another request",
			peer: standIn{body: func(b []byte) []byte { return bytes.Replace(b, []byte(" path "), []byte(" pth "), 1) }},
			want: "the request the fake got is not this pair's",
		},
		{
			name: "drops the caller's key",
			peer: standIn{header: func(h http.Header) { h.Del("Authorization") }},
			want: "status 401",
		},
		{
			name: "changes the answer",
			peer: standIn{answer: func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"finish_reason":"stop"`), []byte(`"finish_reason":"length"`), 1)
			}},
			want: "the answer differs from the fake's",
		},
		{
			name: "loses the reply",
			peer: standIn{answer: func(b []byte) []byte { return bytes.Replace(b, []byte("quarterly"), []byte("annual"), -1) }},
			want: "the answer does not carry the fake's reply",
		},
		{
			name: "answers with another id",
			peer: standIn{answer: func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"chatcmpl-llmtest`), []byte(`"chatcmpl-other`), 1)
			}},
			want: "is not the fake's answer to the peer's request",
		},
		{
			name: "cuts the stream's end",
			peer: standIn{answer: func(b []byte) []byte { return bytes.TrimSuffix(b, []byte("data: [DONE]\n\n")) }},
			want: "stand-in, stream, pair 0: the stream does not end with [DONE]",
		},
		{
			name: "drops the stream's usage chunk",
			peer: standIn{answer: func(b []byte) []byte {
				i := bytes.Index(b, []byte(`"usage":{"prompt_tokens":`))
				if i < 0 || !bytes.HasPrefix(b, []byte("data: ")) {
					return b
				}
				return append(b[:i:i], `"usage":null}`+"\n\ndata: [DONE]\n\n"...)
			}},
			want: "stand-in, stream, pair 0: the stream has no usage chunk",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(io.Discard, small(tc.peer.start(t)))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// recorder notes its name in a shared log for each call it passes on.
type recorder struct {
	name string
	log  *[]string
	next http.RoundTripper
}

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	*r.log = append(*r.log, r.name)
	return r.next.RoundTrip(req)
}

// TestPairsTakeTurnsByBlocksAlternateAndDropTheWarmup holds the order the
// package comment promises: -block pairs on a path before the next path's
// turn (the last block shorter), the direct call first in even pairs, and
// the warm-up pairs sent but not kept.
func TestPairsTakeTurnsByBlocksAlternateAndDropTheWarmup(t *testing.T) {
	fake := llmtest.NewServer(llmtest.WithReply(reply), llmtest.WithAPIKey(apiKey), llmtest.WithCaptureLimit(1))
	t.Cleanup(fake.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	var log []string
	m := &measurement{fake: fake, direct: recorder{"direct", &log, tr}, url: fake.URL + "/v1/chat/completions", block: 2}
	a := &path{name: "a", place: 0, rt: recorder{"a", &log, tr}, url: m.url}
	b := &path{name: "b", place: 1, rt: recorder{"b", &log, tr}, url: m.url}
	require.NoError(t, m.pairs([]*path{a, b}, count{pairs: 4, warmup: 1}))

	var got []string
	for i := 0; i+1 < len(log); i += 2 {
		got = append(got, log[i]+" "+log[i+1])
	}
	assert.Equal(t, []string{
		"direct a", "a direct", // a's pairs 0 and 1
		"direct b", "b direct",
		"direct a", "a direct", // 2 and 3
		"direct b", "b direct",
		"direct a", // 4, the last block's only pair
		"direct b",
	}, got)
	for _, p := range []*path{a, b} {
		assert.Len(t, p.direct, 4, "the warm-up pair is not kept")
		assert.Len(t, p.through, 4)
		assert.Len(t, p.added, 4)
	}
}

func TestRunRefusesBadSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*config)
		want string
	}{
		{"no peer", func(c *config) { c.peerURL = "" }, "-peer is required"},
		{"no pairs", func(c *config) { c.json.pairs = 0 }, "need -pairs >= 1"},
		{"negative stream pairs", func(c *config) { c.stream.pairs = -1 }, "need -pairs >= 1"},
		{"no block", func(c *config) { c.block = 0 }, "need -pairs >= 1, -block >= 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := small("http://127.0.0.1:1")
			tc.cfg(&cfg)
			err := run(io.Discard, cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestRunGivesUpOnAPeerThatDoesNotAnswer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	cfg := small(srv.URL)
	srv.Close() // nothing listens there any more
	err := run(io.Discard, cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "did not answer within 0s")
}

func TestQuantileIsTheSampleAtIndexQTimesN(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 9, 8, 7, 6, 10}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0, 1}, {0.5, 6}, {0.9, 10}, {1, 10}} {
		t.Run("", func(t *testing.T) {
			assert.Equal(t, tc.want, quantile(ds, tc.q))
		})
	}
	assert.Equal(t, []time.Duration{5, 1, 4, 2, 3, 9, 8, 7, 6, 10}, ds, "the samples keep their order")
	assert.Zero(t, quantile(nil, 0.5))
}

func TestFormatSwitchesToMillisecondsAtOne(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{33 * time.Microsecond, "33.0 µs"},
		{999*time.Microsecond + 940*time.Nanosecond, "999.9 µs"},
		{1450 * time.Microsecond, "1.45 ms"},
		{-78400 * time.Nanosecond, "-78.4 µs"},
		{-2 * time.Millisecond, "-2.00 ms"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			assert.Equal(t, tc.want, format(tc.d))
		})
	}
}

func TestWithoutIDsBlanksEveryAnswerID(t *testing.T) {
	in := []byte(`data: {"id":"chatcmpl-llmtest0000000000000000000012"}` + "\n\n" + `data: {"id":"chatcmpl-llmtest0000000000000000000012"}`)
	want := `data: {"id":"chatcmpl-llmtest######################"}` + "\n\n" + `data: {"id":"chatcmpl-llmtest######################"}`
	assert.Equal(t, want, string(withoutIDs(in)))
	assert.Contains(t, string(in), "0012", "the input is left as it was")
}

// tableRows returns the cells of the markdown table's body rows.
func tableRows(out string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| path ") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		rows = append(rows, cells)
	}
	return rows
}
