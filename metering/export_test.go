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

// The bounds of the attribute-set cache.
const (
	MaxCachedSets     = maxCachedSets
	MaxCachedKeyBytes = maxCachedKeyBytes
)
