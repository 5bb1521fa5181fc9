//go:build !race

package cache

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
