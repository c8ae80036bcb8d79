package gossip

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkAdviseParallel is what a client with gossip pays per pick on
// all cores: two Advise calls (the P2C pair). Its own outcomes cost gossip
// nothing: they are the client's metrics.
func BenchmarkAdviseParallel(b *testing.B) {
	cfg := testConfig(b)
	bk := NewBook(cfg, time.Now)
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
			_ = bk.Advise(peers[i%8], now)
			_ = bk.Advise(peers[(i+3)%8], now)
			i++
		}
	})
}
