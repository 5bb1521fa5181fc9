package jsonscan

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// captureAnswerDocs are answers of the shapes the Capturer's quick paths
// read (indentation, scalars, keys told apart by length, skipped
// containers, the watched array's members) and of those they must leave
// to the byte-by-byte walk: escapes, nulls, duplicates, nesting, junk.
var captureAnswerDocs = map[string]string{
	"pretty": `{
  "id": "chatcmpl-llmtest0000000000000000000001",
  "object": "chat.completion",
  "created": 1735689600,
  "model": "gpt-4o-mini",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": "` + strings.Repeat("The quarterly report shows steady growth overall. ", 5) + `",
        "refusal": null,
        "annotations": []
      },
      "logprobs": null,
      "finish_reason": "stop"
    },
    {
      "index": 1,
      "message": {"role": "assistant", "content": "b"},
      "finish_reason": "length"
    }
  ],
  "usage": {
    "prompt_tokens": 32,
    "completion_tokens": 119,
    "total_tokens": 151,
    "prompt_tokens_details": {
      "cached_tokens": 0,
      "audio_tokens": 0
    }
  },
  "service_tier": "default",
  "system_fingerprint": "fp_llmtest01"
}
`,
	"compact":      `{"id":"c1","object":"chat.completion","created":1735689600,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3},"x":12}`,
	"escapes":      `{"\u0075sage":{"a":"\\\"}"},"mod\u0065l":"m\"x\\","i\d":1,"choices":[{"ind\u0065x":7,"finish_\u0072eason":"st\"op\\"}],"id":"a\\\\\"b"}`,
	"same lengths": `{"usagf":1,"modem":2,"x":"y","idx":[1,2],"ii":3,"id":4,"choicez":[{"indez":1}],"choices":[{"indez":5,"finish_reasom":"no","index":2}]}`,
	"long keys":    `{"` + strings.Repeat("u", 62) + `":1,"` + strings.Repeat("u", 63) + `":2,"` + strings.Repeat("u", 64) + `":3,"` + strings.Repeat("u", 400) + `":4,"usage":5}`,
	"nulls":        `{"usage":null,"model":null,"id" : null ,"error":null,"choices":[null,{"index":null,"finish_reason":null},{"finish_reason":null}],"x":null}`,
	"duplicates":   `{"usage":{"a":1},"usage":{"b":2},"choices":[{"index":0,"finish_reason":"a","finish_reason":"b"}],"choices":[{"index":3}],"model":"a","model":"b","x":1,"x":2}`,
	"nesting":      `{"choices":[{"index":{"a":[1,{"b":"}"}]},"finish_reason":["x",{"y":"]"}],"message":{"c":[[[{}]]]}},[1,[2]],"s",3],"usage":{"n":{"m":{"o":[]}}},"error":[{"x":"{"}]}`,
	"scalars":      `{"x":true ,"id":false,"usage":-1.5e3,"model":12` + "\t" + `,"error":1` + "\r\n" + `,"choices":[0 , 1,true,{"index":1e2 ,"finish_reason":2}` + "\n" + `]}`,
	"junk after":   `{"usage":1} x`,
	"junk scalar":  ` 12 {"usage":1}`,
	"junk string":  `"usage" {"usage":1}`,
	"junk punct":   `{"usage":1}],:{"model":2}`,
	"junk inside":  `{"usage":tru e,"model":1 2,"x":"a" "b",:"id":{"a"}, "choices":[{"index":1 "finish_reason":"s"}}]}`,
	"array root":   ` [{"usage":1,"choices":[{"index":0}]}, {"model":"m"}, 3, "s"] `,
	"unclosed":     `{"usage":{"a":"\u00`,
	"bare":         `  nul`,
}

// Each answer, cut at every byte and in pieces of every size up to
// nine, tells what the reference tells after every piece.
func TestCapturerQuickPathsMatchTheReferenceAtEverySplit(t *testing.T) {
	for name, doc := range captureAnswerDocs {
		t.Run(name, func(t *testing.T) {
			b := []byte(doc)
			checkCapturer(t, b, nil)
			for cut := 0; cut <= len(b); cut++ {
				checkCapturer(t, b, []int{cut})
			}
			for every := 1; every <= 9; every++ {
				var cuts []int
				for i := every; i < len(b); i += every {
					cuts = append(cuts, i)
				}
				checkCapturer(t, b, cuts)
			}
		})
	}
}

// The short answers cut at every two points tell what the reference
// tells: a quick path entered, left and entered again in one answer.
func TestCapturerQuickPathsMatchTheReferenceAtEveryTwoSplits(t *testing.T) {
	for name, doc := range captureAnswerDocs {
		if len(doc) > 300 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			b := []byte(doc)
			for x := 0; x <= len(b); x++ {
				for y := x; y <= len(b); y++ {
					checkCapturer(t, b, []int{x, y})
				}
			}
		})
	}
}

// A member's ValueReader reads the values it can as they pass, and the
// Capturer captures what it would without one: each answer, cut at every
// byte, tells what the reference tells; Read says which value the
// reader saw, exactly the bytes Value returns.
func TestCapturerValueReaderSeesTheValueItCaptures(t *testing.T) {
	keys := []string{"usage", "model", "error", "id", "x", ""}
	for name, doc := range captureAnswerDocs {
		t.Run(name, func(t *testing.T) {
			b := []byte(doc)
			for cut := 0; cut <= len(b); cut++ {
				var c Capturer
				var ref capturerRef
				var seen []byte
				c.Reset(0, keys)
				ref.Reset(0, keys)
				c.WatchElements("choices", []string{"index", "finish_reason"})
				ref.WatchElements("choices", []string{"index", "finish_reason"})
				c.ReadWith("usage", func(p []byte, i int) (end int, st ReadState) {
					if end = ValueEnd(p, i); end >= 0 {
						seen = bytes.Clone(p[i:end])
						st[0] = uint64(len(seen))
					}
					return end, st
				})
				for _, piece := range [][]byte{b[:cut], b[cut:]} {
					c.Write(piece)
					ref.Write(piece)
					require.True(t, sameCapture(&c, &ref, keys, []string{"index", "finish_reason"}),
						"cut at %d:\n got %s\nwant %s", cut, capturerState(&c, keys, nil), capturerState(&ref, keys, nil))
					if v, ok := c.Value("usage"); ok {
						if st, read := c.Read("usage"); read {
							assert.Equal(t, string(v), string(seen), "cut at %d", cut)
							assert.Equal(t, uint64(len(v)), st[0], "cut at %d", cut)
						}
					}
				}
			}
		})
	}
}

// The reader is asked for a watched container whole in a Write, and Read
// tells it; a value the Capturer took in pieces, or without asking a
// reader that declined, it did not read.
func TestCapturerReadTellsWhichValueTheReaderRead(t *testing.T) {
	doc := []byte(`{"usage": {"a": 1}, "model": {"b": 2}}`)
	keys := []string{"usage", "model"}
	var c Capturer
	c.Reset(0, keys)
	read := func(key string) bool {
		_, ok := c.Read(key)
		return ok
	}
	c.ReadWith("usage", func(p []byte, i int) (int, ReadState) { return ValueEnd(p, i), ReadState{} })
	c.Write(doc)
	assert.True(t, read("usage"))
	assert.False(t, read("model"), "no reader")

	c.Reset(0, keys)
	c.ReadWith("model", func(p []byte, i int) (int, ReadState) { return -1, ReadState{} })
	c.Write(doc)
	assert.False(t, read("model"), "the reader declined")
	v, ok := c.Value("model")
	require.True(t, ok)
	assert.Equal(t, `{"b": 2}`, string(v))

	c.Reset(0, keys)
	c.ReadWith("usage", func(p []byte, i int) (int, ReadState) { return ValueEnd(p, i), ReadState{} })
	for i := range doc {
		c.Write(doc[i : i+1])
	}
	assert.False(t, read("usage"), "a byte at a time")
	c.Reset(0, keys)
	c.Write(doc)
	assert.False(t, read("usage"), "Reset forgets the reader")
}
