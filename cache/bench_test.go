package cache

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aigateway-go/aigateway/llmtest"
)

// A ~1 KB chat request and a ~1 KB answer.
var (
	benchBody  = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"` + strings.Repeat("Summarise the quarterly report in one line. ", 20) + `"}],"temperature":0}`)
	benchReply = strings.TrimSpace(strings.Repeat("The quarterly report shows steady growth overall. ", 17))
)

func benchCalls(b *testing.B, rt http.RoundTripper, body func(i int) []byte) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, chatURL, bytes.NewReader(body(i)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer sk-bench")
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		i++
	}
}

// BenchmarkCache compares, in one run: the bare in-memory fake; a Gateway
// with no layers; a Gateway with the cache answering every call from the
// store (hit); and a Gateway with the cache missing every call (each
// request differs, so each is looked up, sent upstream, teed and stored).
func BenchmarkCache(b *testing.B) {
	fake := llmtest.NewTransport(llmtest.WithReply(benchReply))
	same := func(int) []byte { return benchBody }
	unique := func(i int) []byte {
		return bytes.Replace(benchBody, []byte(`"temperature":0`), []byte(`"temperature":0,"seed":`+strconv.Itoa(i)), 1)
	}
	b.Run("bare", func(b *testing.B) { benchCalls(b, fake, same) })
	b.Run("gateway", func(b *testing.B) { benchCalls(b, mustNew(b, fake), same) })
	b.Run("hit", func(b *testing.B) {
		c := New(Config{})
		defer c.Close()
		gw := mustNew(b, fake, c)
		benchCalls(b, gw, same)
		if s := c.Stats(); s.Hits < int64(b.N)-1 {
			b.Fatalf("not a hit path: %+v", s)
		}
	})
	b.Run("miss", func(b *testing.B) {
		c := New(Config{MaxBytes: 8 << 20})
		defer c.Close()
		benchCalls(b, mustNew(b, fake, c), unique)
	})
	b.Run("miss-bare", func(b *testing.B) { benchCalls(b, fake, unique) })
}
