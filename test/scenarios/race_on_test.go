//go:build race

package scenarios

// raceOn reports that the race detector is on: it slows every request
// several times, so the heaviest scenario lowers its rate (see s9Rate).
const raceOn = true
