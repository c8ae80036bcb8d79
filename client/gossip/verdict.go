package gossip

// Verdict is what the [Book] did with one received frame. Every frame gets
// exactly one, so the counters always add up to the frames received.
type Verdict int

// Verdicts, grouped: applied, dropped (harmless repeats), rejected (bad or
// unwanted input).
const (
	// Applied: the message replaced its origin's hints.
	Applied Verdict = iota
	// DroppedOwn: our own message, come back through our own subscription.
	DroppedOwn
	// DroppedDuplicate: a sequence number already applied (e.g. the same
	// message over two connections).
	DroppedDuplicate
	// DroppedStale: an older sequence number than one already applied.
	DroppedStale
	// RejectedMalformed: not a valid message of this schema (bad JSON,
	// unknown fields or version, out-of-range values, oversized).
	RejectedMalformed
	// RejectedSignature: signed, but the signature does not verify.
	RejectedSignature
	// RejectedUntrusted: trusted keys are set and the signer is not one.
	RejectedUntrusted
	// RejectedExpired: the send time is more than HintTTL away from our clock.
	RejectedExpired
	// RejectedConflict: a live origin's messages suddenly arrive from another
	// publisher or signer (an impersonation attempt, or a restart that has
	// not yet outlived two publish intervals).
	RejectedConflict
	// RejectedLimit: a new origin while MaxOrigins live origins are tracked.
	RejectedLimit
	// RejectedRate: the publisher sent frames faster than any honest one
	// does (a burst of 8, then one per PublishInterval/4, at most one per
	// second); dropped before parsing so a flood costs little CPU.
	RejectedRate

	numVerdicts
)

var verdictNames = [numVerdicts]string{
	"applied", "own", "duplicate", "stale", "malformed", "bad_signature",
	"untrusted", "expired", "conflict", "origin_limit", "rate_limit",
}

// String returns the verdict's metric label, e.g. "duplicate".
func (v Verdict) String() string {
	if v < 0 || v >= numVerdicts {
		return "unknown"
	}
	return verdictNames[v]
}

// Dropped reports a harmless repeat or our own frame: neither applied nor
// rejected.
func (v Verdict) Dropped() bool {
	return v == DroppedOwn || v == DroppedDuplicate || v == DroppedStale
}

// Rejected reports bad or unwanted input.
func (v Verdict) Rejected() bool { return v >= RejectedMalformed && v < numVerdicts }

// Stats are the book's counters and table sizes.
type Stats struct {
	// Received counts every frame given to Ingest except our own, which
	// every subscriber also receives from its own publisher.
	Received uint64
	// Applied, Dropped and Rejected partition Received.
	Applied, Dropped, Rejected uint64
	// Own counts our own frames seen (and ignored).
	Own uint64
	// ByVerdict breaks all frames down by verdict label.
	ByVerdict map[string]uint64
	// Origins and Peers are the live origins and the peers with any hint.
	Origins, Peers int
}
