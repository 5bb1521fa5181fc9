package jsonscan

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// FuzzString: String reads a JSON string as encoding/json does, invalid
// UTF-8 replaced byte by byte with U+FFFD.
func FuzzString(f *testing.F) {
	for _, s := range []string{`"abc"`, "\"a\xffb\"", `"\u00e9\ud800x"`, "\"\xe2\x82\"", `"\"\\\/"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		var want string
		if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' || json.Unmarshal(v, &want) != nil {
			return // the scanner hands String raw values, never padded
		}
		got, ok := String(v)
		require.True(t, ok, "%q", v)
		require.Equal(t, want, string(got), "%q", v)
		require.True(t, utf8.Valid(got))
	})
}
