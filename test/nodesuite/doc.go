// Package nodesuite is the Node-suite tier of `make test`: the mocha
// suites that grenache-grape, grenache-nodejs-link and grenache-nodejs-http
// ship, run once with Node grapes and once with Go grapes (a Node module,
// test/interop/node/gograpeshim, that has the Grape class API and runs
// bin/grape), compared test by test. A test that passes with Node grapes
// and fails with Go grapes fails the tier, unless docs/protocol.md lists it
// with its reason. The suites bind fixed ports, so the runner gets a
// network namespace of its own (a private loopback) where it can.
package nodesuite
