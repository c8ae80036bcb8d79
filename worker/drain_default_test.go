package worker_test

import (
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/grape"
	"github.com/grenache-go/grenache/pkg/link"
	"github.com/grenache-go/grenache/worker"
)

// TestDefaultDrainGraceCoversDefaultClients: with every side at its
// defaults, a Go adaptive client can still hold a host that unannounced
// for its peer refresh plus the link's and the grape's lookup caches; the
// default drain grace must outlast that (with 0.5 s for the unannounce to
// reach the grapes), or such clients keep picking a host that refuses.
// The 2 s default of the first service host failed it (S9d measured ~6
// attempts per client and restart at stopped workers).
func TestDefaultDrainGraceCoversDefaultClients(t *testing.T) {
	held := client.DefaultConfig().RefreshInterval + link.DefaultConfig().LookupCacheTTL + grape.DefaultConfig().LookupCacheTTL
	if need := held + 500*time.Millisecond; worker.DefaultDrainGrace < need {
		t.Errorf("DefaultDrainGrace %v < %v: client refresh + link cache + grape cache (%v) + 0.5 s", worker.DefaultDrainGrace, need, held)
	}
	if got := worker.DefaultConfig().DrainGrace; got != worker.DefaultDrainGrace {
		t.Errorf("DefaultConfig().DrainGrace = %v, want DefaultDrainGrace %v", got, worker.DefaultDrainGrace)
	}
}
