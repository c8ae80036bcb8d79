package gossip

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkPickPathParallel is what a client with gossip pays per request
// on all cores: two Advise calls (the P2C pair) and one Record.
func BenchmarkPickPathParallel(b *testing.B) {
	cfg := testConfig(b)
	bk := NewBook(cfg, time.Now)
	rec := NewRecorder(cfg)
	peers := make([]string, 8)
	for i := range peers {
		peers[i] = fmt.Sprintf("10.0.0.%d:1000", i)
	}
	clk := newClock()
	bk.Ingest("p", enc(b, msg(clk, "o", 1, deg(peers[0], 1))))
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			now := time.Now()
			x, y := peers[i%8], peers[(i+3)%8]
			_ = bk.AdviseAt(x, rec.Local(x, now), now)
			_ = bk.AdviseAt(y, rec.Local(y, now), now)
			rec.Record(x, i%5 == 0, now)
			i++
		}
	})
}
