package cache

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func digestOf(n uint64) digest {
	var d digest
	for i := range 8 {
		d[i] = byte(n >> (8 * i))
	}
	return d
}

// The index is there so that the collector has nothing to scan in it: a
// pointer in a slot would make it walk every one of 16 Ki aliases.
func TestAliasIndexHoldsNoPointers(t *testing.T) {
	var pointers func(reflect.Type) bool
	pointers = func(t reflect.Type) bool {
		switch t.Kind() {
		case reflect.Array:
			return pointers(t.Elem())
		case reflect.Struct:
			for i := range t.NumField() {
				if pointers(t.Field(i).Type) {
					return true
				}
			}
			return false
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint,
			reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr, reflect.Float32, reflect.Float64:
			return false
		}
		return true
	}
	assert.False(t, pointers(reflect.TypeFor[aliasSet]()))
}

func TestAliasIndexKeepsTheMostRecentlyUsed(t *testing.T) {
	x := newAliasIndex(aliasWays) // one set
	for a := uint64(1); a <= aliasWays; a++ {
		x.put(a, digestOf(a))
	}
	d, ok := x.get(1)
	require.True(t, ok)
	assert.Equal(t, digestOf(1), d)
	x.put(aliasWays+1, digestOf(aliasWays+1)) // 2 is the least recently used now
	_, ok = x.get(2)
	assert.False(t, ok, "the least recently used gave way")
	for _, a := range []uint64{1, 3, 4, aliasWays + 1} {
		d, ok := x.get(a)
		assert.True(t, ok, "alias %d", a)
		assert.Equal(t, digestOf(a), d)
	}
	x.put(3, digestOf(33))
	d, _ = x.get(3)
	assert.Equal(t, digestOf(33), d, "a new digest replaces the alias's old one")
	assert.Equal(t, aliasWays, x.len())

	y := newAliasIndex(aliasWays)
	_, ok = y.get(0)
	assert.False(t, ok)
	y.put(0, digestOf(7))
	d, ok = y.get(0)
	assert.True(t, ok, "alias 0 is an alias like any other")
	assert.Equal(t, digestOf(7), d)
}

// The index starts small and doubles while full sets give way, keeping
// what it holds, up to its bound; then it allocates nothing.
func TestAliasIndexGrowsToItsBound(t *testing.T) {
	x := newAliasIndex(aliasCount)
	require.Len(t, x.sets, firstAliasSets)
	for a := uint64(1); a <= firstAliasSets*aliasWays; a++ {
		x.put(a, digestOf(a))
	}
	require.Len(t, x.sets, firstAliasSets, "no set was full yet")
	x.put(firstAliasSets*aliasWays+1, digestOf(firstAliasSets*aliasWays+1))
	require.Len(t, x.sets, 2*firstAliasSets, "a full set doubled the sets instead of giving way")
	for a := uint64(1); a <= firstAliasSets*aliasWays+1; a++ {
		d, ok := x.get(a)
		require.True(t, ok, "alias %d survived the growth", a)
		require.Equal(t, digestOf(a), d)
	}

	const n = 4 * aliasCount
	for a := uint64(1); a <= n; a++ {
		x.put(a, digestOf(a))
	}
	assert.Len(t, x.sets, aliasCount/aliasWays)
	assert.Equal(t, aliasCount, x.len())
	for a := uint64(n - aliasCount + 1); a <= n; a++ {
		d, ok := x.get(a)
		require.True(t, ok, "alias %d is among the most recent", a)
		require.Equal(t, digestOf(a), d)
	}
	a := uint64(n)
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		a++
		x.put(a, digestOf(a))
		x.get(a - 7)
	}))
}
