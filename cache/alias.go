package cache

import "sync"

// aliasIndex maps the alias of a request as sent (a seeded maphash of its
// key material and raw body, see keyer) to the SHA-256 its key is made of,
// so that a repeated request skips the canonical pass. It holds no
// pointer, so the collector never scans it, and allocates nothing once
// grown: a set-associative table of fixed-size digests, each set kept in
// order of use, whose least recently used slot gives way when the set is
// full. It starts small and doubles, while a full set has to give way,
// up to maxSets sets.
type aliasIndex struct {
	mu      sync.Mutex
	sets    []aliasSet
	maxSets int
}

// aliasWays is how many aliases a set holds.
const aliasWays = 4

type aliasSet [aliasWays]aliasSlot

type aliasSlot struct {
	alias  uint64 // 0: empty
	digest digest
}

// firstAliasSets is how many sets an index starts with (10 KiB).
const firstAliasSets = 64

// newAliasIndex returns an index of at most max aliases (rounded down to a
// whole number of sets, at least one).
func newAliasIndex(max int) *aliasIndex {
	sets := max / aliasWays
	if sets < 1 {
		sets = 1
	}
	for sets&(sets-1) != 0 {
		sets &= sets - 1 // a power of two: sets are found by the alias's low bits
	}
	return &aliasIndex{sets: make([]aliasSet, min(firstAliasSets, sets)), maxSets: sets}
}

// get returns the digest filed under alias, and marks it used.
func (x *aliasIndex) get(alias uint64) (digest, bool) {
	alias = nonZero(alias)
	x.mu.Lock()
	defer x.mu.Unlock()
	set := &x.sets[alias&uint64(len(x.sets)-1)]
	for i := range set {
		if set[i].alias == alias {
			s := set[i]
			copy(set[1:i+1], set[:i]) // to the front: the most recently used
			set[0] = s
			return s.digest, true
		}
	}
	return digest{}, false
}

// put files digest under alias, as the most recently used of its set.
func (x *aliasIndex) put(alias uint64, d digest) {
	alias = nonZero(alias)
	x.mu.Lock()
	defer x.mu.Unlock()
	set := &x.sets[alias&uint64(len(x.sets)-1)]
	at := len(set) - 1 // the least recently used gives way, unless alias is there
	for i := range set {
		if set[i].alias == alias {
			at = i
			break
		}
	}
	if at == len(set)-1 && set[at].alias != 0 && len(x.sets) < x.maxSets {
		x.grow()
		set = &x.sets[alias&uint64(len(x.sets)-1)]
		at = len(set) - 1
	}
	copy(set[1:at+1], set[:at])
	set[0] = aliasSlot{alias: alias, digest: d}
}

// grow doubles the sets. The aliases of set i go to set i or i+n, by
// their next bit, in the order of use they had.
func (x *aliasIndex) grow() {
	n := len(x.sets)
	sets := make([]aliasSet, 2*n)
	for i := range x.sets {
		lo, hi := 0, 0
		for _, s := range x.sets[i] {
			switch {
			case s.alias == 0:
			case s.alias&uint64(n) == 0:
				sets[i][lo] = s
				lo++
			default:
				sets[i+n][hi] = s
				hi++
			}
		}
	}
	x.sets = sets
}

// len returns how many aliases the index holds.
func (x *aliasIndex) len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for i := range x.sets {
		for _, s := range x.sets[i] {
			if s.alias != 0 {
				n++
			}
		}
	}
	return n
}

// nonZero keeps the alias 0 for empty slots.
func nonZero(alias uint64) uint64 {
	if alias == 0 {
		return 1
	}
	return alias
}
