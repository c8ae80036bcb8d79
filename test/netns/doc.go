// Package netns runs the stack across real hosts: network namespaces on a
// veth bridge, each namespace a "host" with its own address, and the
// grape, worker and client binaries (Go and Node grapes mixed) run in
// them with `ip netns exec`. On loopback every address is 127.0.0.1, so a
// grape that announced or stored a wrong address would go unnoticed; here
// it shows. TestClusterAcrossHosts deploys a cluster as on three machines
// (lookups, calls, -b and --bind, a host's death); TestDeadGrapeAcrossHosts
// measures what a dead grape costs its survivors, as the issue measured it.
//
// Addresses outside 127.0.0.0/8 (10.213.0.0/24) live only inside the
// namespaces the test creates and deletes. It needs Linux, root, iproute2,
// curl, node and `make deps`; it skips, saying which is missing, when it
// cannot run.
package netns
