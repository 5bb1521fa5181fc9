package wire

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
	"github.com/aigateway-go/aigateway/internal/sse"
	"github.com/aigateway-go/aigateway/provider"
	"github.com/stretchr/testify/require"
)

// FuzzResponseScanner feeds a response body whole and in random splits: the
// scanner must never panic and must find the same usage, model, terminator
// and error either way. The body with its keys respelled with escapes (as
// the SDK decodes them to the same names) must read the same too, but for
// an error message taken from raw bytes.
func FuzzResponseScanner(f *testing.F) {
	for _, tc := range scanCases {
		f.Add(uint8(tc.f), tc.stream, uint16(tc.status), []byte(tc.body), []byte{17, 3, 101, 1})
	}
	f.Fuzz(func(t *testing.T, format uint8, stream bool, status uint16, body, cuts []byte) {
		fm := provider.Format(format % 6)
		st := 200
		if status >= 400 && status < 600 {
			st = int(status)
		}
		var s ResponseScanner
		want := scan(&s, fm, stream, st, body)
		if st >= 400 {
			require.NotNil(t, want.Err, "an error status always has an Err")
		}
		var pieces [][]byte
		rest := body
		for _, c := range cuts {
			n := int(c) % (len(rest) + 1)
			pieces = append(pieces, rest[:n])
			rest = rest[n:]
		}
		pieces = append(pieces, rest)
		got := scan(&s, fm, stream, st, pieces...)
		require.Equal(t, want, got)

		if !respellable(stream && st < 400, body) {
			return
		}
		for mode := range 3 {
			esc := escapeKeys(body, mode)
			require.Equal(t, withoutMessage(want), withoutMessage(scan(&s, fm, stream, st, esc)), "keys respelled: %q", esc)
		}
	})
}

// respellable reports whether escapeKeys, which works line by line, sees
// the strings of body where the scanner does: a JSON body must be valid (no
// string spans lines), and so must the data of each SSE event that has a
// quote. On other garbage the two may disagree about what is a string.
func respellable(isSSE bool, body []byte) bool {
	if !isSSE {
		return json.Valid(body) || !bytes.ContainsRune(body, '"')
	}
	var events sse.Scanner
	events.Feed(body)
	events.Flush()
	for events.Next() {
		data := events.Event().Data
		if bytes.ContainsRune(data, '"') && !json.Valid(data) {
			return false
		}
	}
	return true
}

// withoutMessage returns r without its error's message, which may be raw
// bytes of the body (a non-JSON error body, a message that is not a string).
func withoutMessage(r scanResult) scanResult {
	if r.Err != nil {
		e := *r.Err
		e.Message = ""
		r.Err = &e
	}
	return r
}

// FuzzJSONFinishReasons checks the finish reasons of a JSON answer, taken
// from the choices (or candidates) as the bytes pass, against reading the
// whole captured array again, as the scanner did before (within the bounds
// both keep: 64 KiB of array, MaxElements elements, short values). Both
// are lenient with what is not JSON, each its own way: only valid JSON is
// compared (FuzzCapturerElements checks that any split reads the same).
func FuzzJSONFinishReasons(f *testing.F) {
	for _, tc := range scanCases {
		if !tc.stream && (tc.f == provider.FormatOpenAIChat || tc.f == provider.FormatGemini) {
			f.Add(tc.f == provider.FormatGemini, []byte(tc.body))
		}
	}
	f.Add(false, []byte(`{"choices":[{"index":1,"finish_reason":"length"},{"finish_reason":"stop","index":0},7,{"index":9,"finish_reason":"x"}]}`))
	f.Add(true, []byte(`[{"candidates":[{"finishReason":"STOP"}]},{"candidates":[{"index":1,"finishReason":"MAX_TOKENS"}]}]`))
	f.Fuzz(func(t *testing.T, gemini bool, body []byte) {
		if !json.Valid(body) {
			return
		}
		fm, array, key := provider.FormatOpenAIChat, "choices", "finish_reason"
		if gemini {
			fm, array, key = provider.FormatGemini, "candidates", "finishReason"
		}
		var s ResponseScanner
		s.Reset(fm, false, 200)
		s.Write(body)
		got := s.FinishReasons()

		var c jsonscan.Capturer
		c.Reset(0, []string{array})
		c.Write(body)
		var old ResponseScanner
		old.Reset(fm, false, 200)
		old.readJSON() // nothing written: choiceReasons alone fills its reasons
		if v, ok := c.Value(array); ok {
			if n := bytes.Count(v, []byte("{")); n > jsonscan.MaxElements {
				return // beyond what either keeps
			}
			for _, long := range bytes.Split(v, []byte(`"`)) {
				if len(long) > jsonscan.MaxElementValue/2 {
					return
				}
			}
			old.choiceReasons(v, key)
		}
		want := old.FinishReasons()
		require.Equal(t, want, got, "%s", body)
	})
}
