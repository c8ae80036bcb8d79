package hostile

import "runtime"

// LiveHeap is the live Go heap in bytes after a full collection: the
// reading a budget test compares before and after filling a structure.
func LiveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// HeapGrowth reports how many bytes of live heap fill leaves behind; what
// fill returns is kept alive until the second reading.
func HeapGrowth(fill func() any) int64 {
	before := LiveHeap()
	keep := fill()
	after := LiveHeap()
	runtime.KeepAlive(keep)
	return int64(after) - int64(before)
}
