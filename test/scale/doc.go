// Package scale holds the reduced grapes-at-scale test of `make test`:
// 64 in-process Go grapes on loopback, each bootstrapped at a few random
// earlier ones, with lookups of announced and absent names before, during
// and after churn. The full benchmark with grape processes at 8, 64 and
// 256 is `make bench-scale` (bench/grape/driver -mode scale).
package scale
