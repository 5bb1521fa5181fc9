package cache

import (
	"encoding/hex"
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
