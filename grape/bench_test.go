package grape

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkAPILookup measures the HTTP layer alone (routing, body parse,
// seen-peers sample, reply) over the in-memory fake DHT.
func BenchmarkAPILookup(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Bind = "127.0.0.1"
	cfg.APIPort = 0
	node := newFakeNode()
	g, err := newGrape(cfg, node)
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	for p := 1; p <= 5; p++ {
		node.peers["svc"] = append(node.peers["svc"], node.addr)
	}
	body := []byte(`{"rid":"c1450059-ae6d-44ee-a64a-d1085e75991d","data":"svc"}`)
	h := g.srv.Handler
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodPost, "/lookup", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
