package cache

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A full store reuses the node of the entry it evicts for the new one, and
// the cache's look-ups need no key string and find the entry decoded after
// the first: neither allocates.
func TestMemoryStoreAllocatesNothingOnceFull(t *testing.T) {
	ctx := context.Background()
	v := decodedTestEntry(strings.Repeat("x", 100))
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

	// The first look-up decodes the entry (AllocsPerRun's warm-up run);
	// the next ones find it decoded.
	last := []byte(keys[(i-1)%len(keys)])
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		got, shared, err := s.getEntry(last)
		if err != nil || got == nil || !shared {
			t.Fatal("the latest entry is there, decoded once")
		}
	}))
	got, _, err := s.getEntry([]byte("key-nope"))
	assert.NoError(t, err)
	assert.Nil(t, got)
	require.NoError(t, s.Close())
	_, _, err = s.getEntry(last)
	assert.ErrorIs(t, err, ErrStoreClosed)
}

// A call that leads a flight nobody joins makes no channel for it (issue
// 14: no coalescing entry until a second caller arrives); the first call
// that joins makes it, and the end of the flight closes it.
func TestAFlightMakesItsChannelOnlyForAFollower(t *testing.T) {
	g := flights{m: make(map[digest]*flight)}
	var key digest
	key[0] = 1

	lone := new(flight)
	f, leader := g.join(key, lone)
	require.True(t, leader)
	require.Same(t, lone, f)
	assert.Nil(t, lone.done, "nobody waits: no channel")
	g.finish(key, lone, nil)
	assert.Empty(t, g.m, "ended without a channel, and gone from the map")

	led := new(flight)
	_, leader = g.join(key, led)
	require.True(t, leader)
	f, leader = g.join(key, new(flight))
	require.False(t, leader)
	require.Same(t, led, f, "the second call joins the first one's flight")
	require.NotNil(t, led.done, "made for the call that waits")
	select {
	case <-led.done:
		t.Fatal("closed before the flight ended")
	default:
	}
	e := &entry{status: 200}
	g.finish(key, led, e)
	<-led.done
	assert.Same(t, e, led.entry)
	assert.Empty(t, g.m)
}
