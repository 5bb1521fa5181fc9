package provider

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzResponseScanner feeds a response body whole and in random splits: the
// scanner must never panic and must find the same usage, model, terminator
// and error either way.
func FuzzResponseScanner(f *testing.F) {
	for _, tc := range scanCases {
		f.Add(uint8(tc.f), tc.stream, uint16(tc.status), []byte(tc.body), []byte{17, 3, 101, 1})
	}
	f.Fuzz(func(t *testing.T, format uint8, stream bool, status uint16, body, cuts []byte) {
		fm := Format(format % 6)
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
	})
}
