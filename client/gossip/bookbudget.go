package gossip

// The book's byte budget (Config.MaxBookBytes). Its counts already bound it
// (MaxOrigins origins of MaxPeers hints, peers and origins at most 64
// bytes), but at the largest allowed counts that is 1024 × 4096 hints, some
// 700 MB of remote input; the budget caps it whatever the counts say. Every
// origin is charged its id, principal and publisher address, bookOriginCost,
// and per stored hint its peer plus bookHintCost (the hint, its share of
// the view's per-peer map and of a slice that may be twice as long as
// needed); every rate-limiter bucket its publisher address plus
// bookBucketCost. Measured on the Go heap (amd64, 64 origins of 512
// hints: 163 bytes per hint with a ~16-byte peer and its view entry) and
// rounded up; TestBookByteBudget checks them.
const (
	bookOriginCost = 320
	bookHintCost   = 192
	bookBucketCost = 128
)

// originBytes is what an origin with these fields and hints is charged.
func originBytes(id, principal, source string, hints []storedHint) int {
	n := len(id) + len(principal) + len(source) + bookOriginCost
	for _, h := range hints {
		n += len(h.peer) + bookHintCost
	}
	return n
}

// fitsLocked reports whether replacing what the origins in freed are
// charged by cost stays within the budget. Like the count bound it keeps
// what is established: a message that does not fit is rejected, nothing is
// evicted for it.
func (b *Book) fitsLocked(cost int, freed ...*originState) bool {
	n := b.bytes + cost
	for _, st := range freed {
		if st != nil {
			n -= st.cost
		}
	}
	return n <= b.cfg.MaxBookBytes
}

// chargeLocked sets st's charge to cost.
func (b *Book) chargeLocked(st *originState, cost int) {
	b.bytes += cost - st.cost
	st.cost = cost
}

// Bytes is what the book is charged now (origins, hints and rate-limiter
// buckets); it stays within Config.MaxBookBytes.
func (b *Book) Bytes() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bytes
}
