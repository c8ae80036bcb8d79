// Package interop checks the Go stack against the pinned Node.js Grenache
// reference (test/interop/node) over real sockets on loopback: mixed
// grape clusters, Node links through Go grapes, and (rpc_*_test.go) RPC
// peers in both directions. Node processes are children started through
// test/nodeproc; goleak checks that no goroutine of ours outlives a test.
package interop

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
