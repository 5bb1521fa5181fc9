//go:build !race

package aigateway_test

// raceEnabled says the tests run under the race detector.
const raceEnabled = false
