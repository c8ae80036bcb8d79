package worker

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// BenchmarkHandleEcho is the worker's own cost per request (no sockets): the number to keep
// small next to the transport's parse/encode and net/http.
func BenchmarkHandleEcho(b *testing.B) {
	h := &handler{limits: JobLimits{MaxSleep: time.Second, MaxHashRounds: 10}, m: newMetrics(),
		now: time.Now, sleep: sleepCtx, rand: func() float64 { return 0.5 }}
	h.faults.Store(&Faults{})
	p := json.RawMessage(`{"job":"echo","msg":"hello world"}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.handle(ctx, "bench", p); err != nil {
			b.Fatal(err)
		}
	}
}
