package cache

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A full store reuses the node of the entry it evicts for the new one, and
// the cache's look-ups need no key string: neither allocates.
func TestMemoryStoreAllocatesNothingOnceFull(t *testing.T) {
	ctx := context.Background()
	v := make([]byte, 100)
	s := NewMemoryStore(8 * entrySize("key-0000", v))
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%04d", i)
	}
	for _, k := range keys[:8] {
		require.NoError(t, s.Set(ctx, k, v, time.Hour))
	}
	i := 8
	assert.Zero(t, testing.AllocsPerRun(500, func() {
		s.Set(ctx, keys[i%len(keys)], v, time.Hour) // evicts the least recently used
		i++
	}))
	assert.Equal(t, 8, s.Len())
	assert.Equal(t, 8*entrySize("key-0000", v), s.Bytes())

	last := []byte(keys[(i-1)%len(keys)])
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		got, err := s.getBytes(last)
		if err != nil || got == nil {
			t.Fatal("the latest entry is there")
		}
	}))
	got, err := s.getBytes([]byte("key-nope"))
	assert.NoError(t, err)
	assert.Nil(t, got)
	require.NoError(t, s.Close())
	_, err = s.getBytes(last)
	assert.ErrorIs(t, err, ErrStoreClosed)
}
