// Package nodeproc runs the pinned Node.js Grenache reference (grenache-grape,
// grenache-nodejs-link, -http, -ws installed under test/interop/node) as
// child processes of Go tests.
//
// Every process is started directly as `node <script> args...` (never through
// a shell, so the PID we hold is node's own), in its own process group, with
// its stdout and stderr captured line by line. t.Cleanup stops it with
// SIGTERM, then SIGKILL after a grace period, signalling the whole group so
// nothing it spawned outlives the test; when the test failed, the captured
// output is printed.
//
// A missing node binary or node_modules tree is a test failure, never a skip:
// interop is a requirement, and a skipped interop test hides a broken
// machine. Run `make deps` to install the Node packages.
package nodeproc
