// Package netns measures what a dead grape costs its survivors across
// real hosts: network namespaces on a veth bridge, one grape process per
// "host" (Go and Node grapes mixed), as the issue measured it. Addresses
// outside 127.0.0.0/8 (10.213.0.0/24) live only inside the namespaces the
// test creates and deletes. It needs Linux, root, iproute2, curl, node and
// `make deps`; it skips, saying which is missing, when it cannot run.
package netns
