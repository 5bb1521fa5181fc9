//go:build race

package metering_test

// raceEnabled reports whether the race detector is on.
const raceEnabled = true
