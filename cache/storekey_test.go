package cache

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The store key's hex is encoding/hex's, for every byte value in every
// position.
func TestStoreKeyIsTheDigestInHex(t *testing.T) {
	var d digest
	for v := range 256 {
		for i := range d {
			d[i] = byte(v + i*37)
		}
		assert.Equal(t, keyPrefix+hex.EncodeToString(d[:]), d.storeKey())
	}
}

// keyHeaderValues finds what indexing the header finds, for small headers
// (one pass over them) and large ones (look-ups).
func TestKeyHeaderValuesIndexesTheHeader(t *testing.T) {
	for _, n := range []int{0, 1, 3, 8, 9, 20} {
		h := http.Header{}
		for i := range n {
			h[fmt.Sprintf("X-Other-%d", i)] = []string{"o"}
		}
		for i, name := range keyHeaders {
			if (i+n)%2 == 0 {
				h[name] = []string{name + "-value", strconv.Itoa(n)}
			}
		}
		h["accept-encoding"] = []string{"not canonical: not the key's"} // as Values would not find it either
		got := keyHeaderValues(h)
		for i, name := range keyHeaders {
			assert.Equal(t, h[name], got[i], "%d headers: %s", len(h), name)
		}
	}
}
