package metering

// CachedSets reports how many combinations of metric attributes the meter
// keeps the attribute sets of, and the bytes of the strings of the largest.
func (m *Meter) CachedSets() (n, largest int) {
	m.setCache.Range(func(k, _ any) bool {
		key := k.(setKey)
		n++
		largest = max(largest, key.size())
		return true
	})
	return n, largest
}

// CachedStarts reports how many combinations of request facts the meter
// keeps the span name and attributes of, and the bytes of the strings of
// the largest.
func (m *Meter) CachedStarts() (n, largest int) {
	m.startCache.Range(func(k, v any) bool {
		key := k.(startKey)
		size := len(key.provider) + len(key.operation) + len(key.model) + len(key.server)
		for tk, tv := range v.(*spanStart).tags {
			size += len(tk) + len(tv)
		}
		n++
		largest = max(largest, size)
		return true
	})
	return n, largest
}

// The bounds of the attribute-set cache.
const (
	MaxCachedSets     = maxCachedSets
	MaxCachedKeyBytes = maxCachedKeyBytes
)

// The bucket boundaries the meter's histograms use (BenchmarkSDKFloor
// builds its instruments with them).
var (
	TokenBuckets    = tokenBuckets
	DurationBuckets = durationBuckets
)
