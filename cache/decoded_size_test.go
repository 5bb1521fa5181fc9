package cache

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodedSize covers what decodeEntry allocates, as the runtime counts it,
// for answers of 0 to 40 headers (a real OpenAI answer keeps about 15),
// across the map's growth steps, without counting much more than that.
func TestDecodedSizeCoversWhatDecodingAllocates(t *testing.T) {
	for nh := 0; nh <= 40; nh++ {
		t.Run(fmt.Sprint(nh, " headers"), func(t *testing.T) {
			h := http.Header{}
			for i := range nh {
				h.Set(fmt.Sprintf("X-Header-%02d", i), "value-0123456789")
			}
			data := (&entry{status: http.StatusOK, created: time.Unix(1_700_000_000, 0), header: h,
				body: []byte(strings.Repeat("x", 600)), model: "gpt-4o-mini-2024-07-18", provider: "openai"}).encode()
			e, err := decodeEntry(data)
			require.NoError(t, err)

			const runs = 500
			keep := make([]*entry, runs)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i := range keep {
				keep[i], _ = decodeEntry(data)
			}
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(keep)
			heap := int64(after.TotalAlloc-before.TotalAlloc) / runs

			assert.GreaterOrEqual(t, e.decodedSize(), heap, "decodedSize %d, allocated %d", e.decodedSize(), heap)
			if nh > 0 {
				assert.LessOrEqual(t, e.decodedSize(), heap*8/5, "decodedSize %d, allocated %d", e.decodedSize(), heap)
			}
		})
	}
}
