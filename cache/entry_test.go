package cache

import (
	"net/http"
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
// piece by piece (appendHead, the teed body, appendTrailer).
func (e *entry) encode() []byte {
	b := appendHead(make([]byte, 0, 256+len(e.body)), e.header)
	return e.appendTrailer(append(b, e.body...))
}
