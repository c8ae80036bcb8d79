// Package lab runs fault scenarios against real in-process parts: Go grapes
// for discovery, Go workers on loopback whose faults change on a timeline,
// and several adaptive-client instances (one per strategy) driven at the same
// open-loop rate at the same time, so every strategy meets the same faults.
//
// It is shared by the scenario tests (test/scenarios) and the demo
// (cmd/demo); it measures, it does not judge: bounds live in the tests. It
// lives under internal/ rather than test/ because a shipped command (the
// demo) builds on it, and internal keeps it out of the module's public API.
package lab
