// Package interop checks the Go stack against the pinned Node.js Grenache
// reference (test/interop/node) over real sockets on loopback: mixed
// grape clusters, Node links through Go grapes, and (rpc_*_test.go) RPC
// peers in both directions. Node processes are children started through
// test/nodeproc; goleak checks that no goroutine of ours outlives a test.
package interop

import (
	"testing"

	"github.com/grenache-go/grenache/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }
