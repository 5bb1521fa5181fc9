package cache

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/provider"
)

func TestEntryRoundTrip(t *testing.T) {
	e := &entry{
		status:     200,
		created:    time.Unix(1_700_000_000, 123),
		stream:     true,
		usage:      provider.Usage{InputTokens: 100, OutputTokens: 20, CacheReadTokens: 30, CacheCreationTokens: 5, CacheCreation1hTokens: 2, ReasoningTokens: 7},
		usageKnown: true,
		model:      "gpt-4o-mini-2024-07-18",
		header: http.Header{
			"Content-Type":          {"text/event-stream; charset=utf-8"},
			"X-Request-Id":          {"req_1"},
			"Multi":                 {"a", "b", ""},
			"Set-Cookie":            {"session=secret"},
			"X-Ratelimit-Remaining": {"10"},
			"Content-Length":        {"99"},
			"X-Aigateway-Cache":     {"MISS"},
		},
		body: []byte("data: {}\n\ndata: [DONE]\n\n"),
	}
	got, err := decodeEntry(e.encode())
	require.NoError(t, err)
	assert.Equal(t, e.status, got.status)
	assert.True(t, e.created.Equal(got.created))
	assert.Equal(t, e.stream, got.stream)
	assert.Equal(t, e.usage, got.usage)
	assert.True(t, got.usageKnown)
	assert.Equal(t, e.model, got.model)
	assert.Equal(t, e.body, got.body)
	assert.Equal(t, http.Header{
		"Content-Type": {"text/event-stream; charset=utf-8"},
		"X-Request-Id": {"req_1"},
		"Multi":        {"a", "b", ""},
	}, got.header, "cookies, rate-limit state, lengths and the stack's own headers are not stored")

	got.header.Add("Multi", "c")
	assert.Equal(t, []string{"a", "b", "", "c"}, got.header["Multi"])
	assert.Equal(t, []string{"req_1"}, got.header["X-Request-Id"], "values of one key never spill into another's")
}

func TestDecodeEntryRejectsGarbage(t *testing.T) {
	good := (&entry{status: 200, body: []byte("{}"), header: http.Header{"A": {"b"}}}).encode()
	for name, data := range map[string][]byte{
		"empty":          nil,
		"wrong magic":    append([]byte("XXXX"), good[4:]...),
		"truncated":      good[:len(good)-3],
		"trailer length": append(append([]byte{}, good[:len(good)-2]...), 0xff, 0xff),
		"no trailer":     []byte(entryMagic + "\x00\x00\x00"),
	} {
		_, err := decodeEntry(data)
		assert.ErrorIs(t, err, errBadEntry, name)
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add((&entry{status: 200, body: []byte("{}"), header: http.Header{"A": {"b", "c"}}, model: "m"}).encode())
	f.Add([]byte(entryMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decodeEntry(data)
		if err != nil {
			return
		}
		again, err := decodeEntry(e.encode())
		require.NoError(t, err, "a decoded entry encodes again")
		assert.Equal(t, e.body, again.body)
		assert.Equal(t, e.usage, again.usage)
	})
}

// encode returns the whole encoding at once; the cache itself builds it
// piece by piece (newHead, the teed body, appendTrailer).
func (e *entry) encode() []byte {
	b := newHead(e.header, len(e.body))
	return e.appendTrailer(append(b, e.body...))
}

// storedHeader compares an ASCII name only with the dropped names of its
// length; it must keep and drop exactly what comparing every name, with
// Unicode folding, does.
func TestStoredHeaderAgreesWithFoldingEveryName(t *testing.T) {
	names := []string{"Content-Type", "X-Request-Id", "Openai-Processing-Ms", "Multi", "", "X", "Te", "TE", "tE",
		"X-Ratelimit-Remaining-Tokens", "x-ratelimit-reset", "Anthropic-Ratelimit-Tokens-Limit", "Retry-After-Ms",
		"retry-after-ms", "Retry-After-Msx", "X-Aigateway-Cache", "x-aigateway-target", "X-Aigateway", "X-Aigatewayz",
		"ſet-Cookie", "Retry-After-Mſ", "X-Aigateway-ſ", "Keep-Alive", "keep-alive", "Keep-Alivf", "Age", "Ages",
		"Proxy-Authenticate", "Proxy-Connection", "Transfer-Encoding", "Trailer", "Upgrade", "Date", "Retry-After"}
	for _, d := range droppedHeaders {
		names = append(names, d, strings.ToLower(d), strings.ToUpper(d), d+"-X", d[1:])
	}
	for _, k := range names {
		assert.Equal(t, storedHeaderFold(k), storedHeader(k), "%q", k)
	}
	assert.False(t, storedHeader("ſet-Cookie"), "a cookie in a folded spelling is a cookie")
}

// The head is written into a buffer sized for the whole entry: the body of
// the answer's length and the trailer go in without another allocation,
// and little is left over (the store budgets by length).
func TestEntryFitsTheBufferItsHeadWasMadeIn(t *testing.T) {
	h := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req_1"}, "Multi": {"a", strings.Repeat("b", 300)},
		"Set-Cookie": {"s=1"}, "X-Ratelimit-Remaining-Tokens": {"9"}, "Date": {"now"}}
	body := []byte(strings.Repeat("x", 1600))
	b := newHead(h, len(body))
	c := cap(b)
	b = append(b, body...)
	e := &entry{status: 200, created: time.Unix(1_700_000_000, 0), usageKnown: true, stream: true,
		usage: provider.Usage{InputTokens: 1 << 40, OutputTokens: 1 << 40, CacheReadTokens: 1 << 40, CacheCreationTokens: 1 << 40,
			CacheCreation1hTokens: 1 << 40, ReasoningTokens: 1 << 40},
		model: "gpt-4o-mini-2024-07-18", provider: "openai"}
	b = e.appendTrailer(b)
	assert.Equal(t, c, cap(b), "the entry grew out of its buffer")
	assert.LessOrEqual(t, cap(b)-len(b), maxTrailer+trailerNames)
	got, err := decodeEntry(b)
	require.NoError(t, err)
	assert.Equal(t, http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req_1"}, "Multi": {"a", strings.Repeat("b", 300)}}, got.header)
	assert.Equal(t, body, got.body)
}

// A replay adds X-Aigateway-Cache, Age and Content-Length to the decoded
// header: the map is made with room for them, so they cost no growth.
func TestDecodedHeaderHasRoomForTheReplaysHeaders(t *testing.T) {
	h := http.Header{}
	for i := range 8 {
		h[http.CanonicalHeaderKey("x-h"+strings.Repeat("x", i))] = []string{"v"}
	}
	data := (&entry{status: 200, body: []byte("{}"), header: h}).encode()
	v := []string{"x"}
	assert.Zero(t, testing.AllocsPerRun(20, func() {
		e, _ := decodeEntry(data)
		e.header["X-Aigateway-Cache"], e.header["Age"], e.header["Content-Length"] = v, v, v
	})-testing.AllocsPerRun(20, func() { decodeEntry(data) }))
}

// A hit's status line is the stored status's, written without building it
// for the common 200.
func TestReplayStatusLine(t *testing.T) {
	_, _, gw := newStack(t, Config{})
	do(t, gw, chatURL, chatBody)
	req, err := http.NewRequest(http.MethodPost, chatURL, strings.NewReader(chatBody))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer sk-tenant-a")
	req.Header.Set("anthropic-version", "2023-06-01")
	resp, err := gw.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "HIT", resp.Header.Get("X-Aigateway-Cache"))
	assert.Equal(t, "200 OK", resp.Status)
}

// BenchmarkReplayHeader is what a hit does to the stored entry's header
// for its response, and the replay's own headers set: decode the entry (a
// hit before the memory store kept it decoded), or copy the kept one
// (replayHeader). The entry holds an OpenAI answer's 11 kept headers.
func BenchmarkReplayHeader(b *testing.B) {
	h := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req_0123456789abcdef"},
		"Openai-Processing-Ms": {"123"}, "Openai-Organization": {"org-llmtest"}, "Openai-Version": {"2020-10-01"},
		"Openai-Project": {"proj_llmtest"}, "Strict-Transport-Security": {"max-age=31536000"}, "Cf-Ray": {"abc-SJC"},
		"Server": {"cloudflare"}, "Access-Control-Expose-Headers": {"X-Request-ID"}, "X-Content-Type-Options": {"nosniff"}}
	data := (&entry{status: http.StatusOK, created: time.Unix(1_700_000_000, 0), usageKnown: true, header: h,
		body: []byte(strings.Repeat("x", 1600)), model: "gpt-4o-mini", provider: "openai"}).encode()
	kept, err := decodeEntry(data)
	require.NoError(b, err)
	replay := func(h http.Header) {
		h["X-Aigateway-Cache"] = []string{"HIT"}
		h["Age"] = []string{"1"}
		h["Content-Length"] = []string{"1600"}
	}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e, _ := decodeEntry(data)
			replay(e.header)
		}
	})
	b.Run("copy-kept", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			replay(replayHeader(kept.header, kept.values))
		}
	})
}
