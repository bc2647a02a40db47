//go:build race

package main

// raceEnabled is true under the race detector, whose memory overhead the
// hostile-connection test's memory bound does not cover.
const raceEnabled = true
