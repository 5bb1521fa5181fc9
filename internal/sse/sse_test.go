package sse

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type ev struct{ name, data string }

// collect feeds the pieces one by one, draining after each, then flushes.
// Each piece is fed from one buffer that is overwritten once the scanner has
// drained it, as a reader's buffer is: an event must not borrow from a slice
// the scanner was done with.
func collect(s *Scanner, pieces ...[]byte) []ev {
	var out []ev
	drain := func() {
		for s.Next() {
			e := s.Event()
			var name string
			if e.Name != nil {
				name = string(e.Name) + "|" // mark "present" so nil and "" differ
			}
			out = append(out, ev{name, string(e.Data)})
		}
	}
	var buf []byte
	for _, p := range pieces {
		buf = append(buf[:0], p...)
		s.Feed(buf)
		drain()
		for i := range buf {
			buf[i] = '#'
		}
	}
	s.Flush()
	drain()
	if s.Err() != nil {
		out = append(out, ev{"error|", s.Err().Error()})
	}
	return out
}

func split(data []byte, n int) [][]byte {
	var out [][]byte
	for len(data) > n {
		out = append(out, data[:n])
		data = data[n:]
	}
	return append(out, data)
}

func TestScanner(t *testing.T) {
	cases := []struct {
		name   string
		stream string
		want   []ev
	}{
		{"openai chat", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []ev{{"", `{"a":1}`}, {"", "[DONE]"}}},
		{"crlf", "data: x\r\n\r\ndata: y\r\n\r\n", []ev{{"", "x"}, {"", "y"}}},
		{"cr only", "data: x\r\rdata: y\r\r", []ev{{"", "x"}, {"", "y"}}},
		{"mixed line ends", "data: a\rdata: b\ndata: c\r\n\n", []ev{{"", "a\nb\nc"}}},
		{"named events", "event: message_start\ndata: {}\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\n",
			[]ev{{"message_start|", "{}"}, {"ping|", `{"type": "ping"}`}}},
		{"comments and retry", ": keep-alive\n\n: OPENROUTER PROCESSING\n\nretry: 3000\nid: 7\ndata: z\n\n", []ev{{"", "z"}}},
		{"multi-line data", "data: one\ndata: two\ndata:\ndata:three\n\n", []ev{{"", "one\ntwo\n\nthree"}}},
		{"one space dropped", "data:  two spaces\n\n", []ev{{"", " two spaces"}}},
		{"no space", "data:x\nevent:e\n\n", []ev{{"e|", "x"}}},
		{"field without colon", "data\n\n", []ev{{"", ""}}},
		{"empty data", "data:\n\n", []ev{{"", ""}}},
		{"block without data dispatches nothing", "event: x\n\ndata: y\n\n", []ev{{"", "y"}}},
		{"last event name wins", "event: a\nevent: b\ndata: d\n\n", []ev{{"b|", "d"}}},
		{"unknown fields ignored", "foo: bar\ndata: d\n\n", []ev{{"", "d"}}},
		{"leading blank lines", "\n\n\r\ndata: d\n\n", []ev{{"", "d"}}},
		{"bom", "\xEF\xBB\xBFdata: d\n\n", []ev{{"", "d"}}},
		{"trailing event without blank line", "data: a\n\ndata: b", []ev{{"", "a"}, {"", "b"}}},
		{"trailing event with one newline", "data: a\n\ndata: b\n", []ev{{"", "a"}, {"", "b"}}},
		{"trailing event crlf", "event: e\r\ndata: b\r\n", []ev{{"e|", "b"}}},
		{"only comments", ": a\n: b\n\n", nil},
		{"empty stream", "", nil},
		{"anthropic", "event: message_start\r\ndata: {\"type\":\"message_start\"}\r\n\r\nevent: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n",
			[]ev{{"message_start|", `{"type":"message_start"}`}, {"message_stop|", `{"type":"message_stop"}`}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.stream)
			var s Scanner
			assert.Equal(t, tc.want, collect(&s, data), "whole")
			for i := 0; i <= len(data); i++ {
				s.Reset()
				require.Equal(t, tc.want, collect(&s, data[:i], data[i:]), "split at %d", i)
			}
			s.Reset()
			assert.Equal(t, tc.want, collect(&s, split(data, 1)...), "one byte at a time")
		})
	}
}

func TestScannerFeedWithoutDraining(t *testing.T) {
	// A caller that feeds twice before calling Next loses nothing.
	var s Scanner
	s.Feed([]byte("data: a\n\ndata: b\n"))
	require.True(t, s.Next())
	assert.Equal(t, "a", string(s.Event().Data))
	s.Feed([]byte("\ndata: c\n\n"))
	var got []string
	for s.Next() {
		got = append(got, string(s.Event().Data))
	}
	assert.Equal(t, []string{"b", "c"}, got)

	s.Reset()
	s.Feed([]byte("data: a\n\n"))
	s.Feed([]byte("data: b\n\n"))
	got = got[:0]
	for s.Next() {
		got = append(got, string(s.Event().Data))
	}
	assert.Equal(t, []string{"a", "b"}, got)
}

func TestScannerDoesNotKeepFedSlice(t *testing.T) {
	// An event split across Feeds survives the caller reusing its buffer.
	var s Scanner
	buf := []byte("event: e\ndata: hel")
	s.Feed(buf)
	assert.False(t, s.Next())
	copy(buf, bytes.Repeat([]byte("#"), len(buf)))
	s.Feed([]byte("lo\ndata: world\n\n"))
	require.True(t, s.Next())
	assert.Equal(t, "e", string(s.Event().Name))
	assert.Equal(t, "hello\nworld", string(s.Event().Data))

	s.Reset()
	buf = []byte("data: abc\nevent: n")
	s.Feed(buf)
	assert.False(t, s.Next())
	copy(buf, bytes.Repeat([]byte("#"), len(buf)))
	s.Feed([]byte("ame\n\n"))
	require.True(t, s.Next())
	assert.Equal(t, "name", string(s.Event().Name))
	assert.Equal(t, "abc", string(s.Event().Data))
}

func TestScannerParsesInPlace(t *testing.T) {
	var s Scanner
	buf := []byte("data: {\"x\":1}\n\n")
	s.Feed(buf)
	require.True(t, s.Next())
	d := s.Event().Data
	assert.Equal(t, &buf[6], &d[0], "a complete event is not copied")
}

func TestScannerNoAllocs(t *testing.T) {
	stream := []byte(strings.Repeat("event: x\ndata: {\"a\":1}\ndata: more\n\n: comment\n\n", 20))
	var s Scanner
	pieces := split(stream, 37)
	run := func() {
		s.Reset()
		for _, p := range pieces {
			s.Feed(p)
			for s.Next() {
			}
		}
		s.Flush()
		for s.Next() {
		}
	}
	run()
	assert.Zero(t, testing.AllocsPerRun(20, run))
}

var fuzzSeeds = []string{
	"data: {\"a\":1}\n\ndata: [DONE]\n\n",
	"event: message_start\r\ndata: {\"type\":\"message_start\"}\r\n\r\n: ping\r\n\r\n",
	"data: a\rdata: b\r\rdata: c\r\n\r\n",
	"retry: 10\nid: 1\ndata:x\ndata\n\nevent:e\n\n",
	"\xEF\xBB\xBFdata: bom\n\ndata: tail",
}

// FuzzScanner checks that feeding a stream in random splits yields the same
// events as feeding it whole.
func FuzzScanner(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), []byte{3, 1, 7})
	}
	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		var pieces [][]byte
		rest := stream
		for _, c := range cuts {
			n := int(c) % (len(rest) + 1)
			pieces = append(pieces, rest[:n])
			rest = rest[n:]
		}
		pieces = append(pieces, rest)
		// With the default bound and with one small enough for the fuzzer
		// to reach: where an event goes over it does not depend on the
		// splits either.
		for _, max := range []int{0, 24} {
			s := Scanner{MaxEvent: max}
			want := collect(&s, stream)
			s.Reset()
			require.Equal(t, want, collect(&s, pieces...))
		}
	})
}

// openAIStream is a realistic chat completion stream, about 150 bytes an event.
func openAIStream(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`data: {"id":"chatcmpl-AbC123","object":"chat.completion.chunk","created":1732000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n")
	for i := range n {
		b.WriteString(`data: {"id":"chatcmpl-AbC123","object":"chat.completion.chunk","created":1732000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"content":" word`)
		b.WriteByte(byte('a' + i%26))
		b.WriteString(`"},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n")
	}
	b.WriteString(`data: {"id":"chatcmpl-AbC123","object":"chat.completion.chunk","created":1732000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":400,"total_tokens":412,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}` + "\n\ndata: [DONE]\n\n")
	return b.Bytes()
}

func BenchmarkScanner(b *testing.B) {
	stream := openAIStream(400)
	for _, size := range []int{512, 4096, 32 << 10} {
		b.Run("read="+itoa(size), func(b *testing.B) {
			pieces := split(stream, size)
			var s Scanner
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			for b.Loop() {
				s.Reset()
				for _, p := range pieces {
					s.Feed(p)
					for s.Next() {
					}
				}
				s.Flush()
				for s.Next() {
				}
			}
		})
	}
}

func itoa(n int) string {
	if n >= 1024 {
		return strconv.Itoa(n/1024) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// An event whose lines end exactly where a read ended was handed out with
// data borrowed from the read's buffer, which the reader had reused since.
func TestScannerDoesNotBorrowFromAReusedBuffer(t *testing.T) {
	var s Scanner
	assert.Equal(t, []ev{{"", "hello"}, {"e|", "world"}},
		collect(&s, []byte("data: hello\n"), []byte("\n"), []byte("event: e\ndata: world\n"), []byte("\n")))
}

// Issue 10, item 1: a stream that never ends an event (lines, no blank
// line) must not grow the scanner without bound.
func TestScannerStopsOnOverlongEvent(t *testing.T) {
	const max = 1 << 10
	long := bytes.Repeat([]byte("x"), 100)
	cases := map[string]func(feed func([]byte)){
		"data lines, no blank line": func(feed func([]byte)) {
			for range 1000 {
				feed([]byte("data: "))
				feed(long)
				feed([]byte("\n"))
			}
		},
		"one endless line": func(feed func([]byte)) {
			feed([]byte("data: "))
			for range 1000 {
				feed(long)
			}
		},
		"comment lines, no blank line": func(feed func([]byte)) {
			for range 1000 {
				feed(append(append([]byte(": "), long...), '\n'))
			}
		},
		"one line in a single slice": func(feed func([]byte)) {
			feed(append(append([]byte("data: "), bytes.Repeat(long, 100)...), "\n\n"...))
		},
	}
	for name, stream := range cases {
		t.Run(name, func(t *testing.T) {
			s := Scanner{MaxEvent: max}
			var events []string
			feed := func(p []byte) {
				s.Feed(p)
				for s.Next() {
					events = append(events, string(s.Event().Data))
				}
				assert.LessOrEqual(t, cap(s.line)+cap(s.dataBuf)+cap(s.nameBuf)+cap(s.own), 4*max, "the scanner's buffers stay bounded")
			}
			feed([]byte("data: before\n\n"))
			stream(feed)
			s.Flush()
			for s.Next() {
				events = append(events, string(s.Event().Data))
			}
			assert.Equal(t, []string{"before"}, events, "the events before the overlong one are delivered")
			assert.ErrorIs(t, s.Err(), ErrEventTooLarge)
			feed([]byte("\n\ndata: after\n\n"))
			assert.Equal(t, []string{"before"}, events, "nothing is parsed after it")

			s.Reset()
			assert.NoError(t, s.Err(), "Reset starts over")
			assert.Equal(t, max, s.MaxEvent, "and keeps the bound")
		})
	}
}

func TestScannerEventJustUnderTheBound(t *testing.T) {
	s := Scanner{MaxEvent: 16}
	s.Feed([]byte("data: 0123456789\n\n")) // a 16-byte line
	require.True(t, s.Next())
	assert.Equal(t, "0123456789", string(s.Event().Data))
	s.Feed([]byte("data: 01234567890\n\n")) // 17
	assert.False(t, s.Next())
	assert.ErrorIs(t, s.Err(), ErrEventTooLarge)
}
