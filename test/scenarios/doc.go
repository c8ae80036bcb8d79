// Package scenarios holds the fault scenarios of the adaptive client (issue
// #4): five Go workers on loopback discovered through a real Go grape
// cluster, one fault timeline, and the same open-loop load sent at the same
// time through three clients — adaptive, round-robin and random — so the
// baselines meet exactly the faults the adaptive client meets.
//
// `go test` runs short versions that assert the bounds; SCENARIOS_FULL=1
// (make bench-scenarios) runs the full-length ones and writes their tables
// to reports/scenarios.md. The machinery lives in internal/lab
// (shared with cmd/demo).
package scenarios
