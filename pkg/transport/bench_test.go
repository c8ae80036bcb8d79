package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// cpuTime returns the process's user+system CPU time. Reported per op
// beside ns/op, it stays meaningful on a shared, noisy machine where wall
// time per op mostly measures the neighbours: at saturation, throughput is
// inversely proportional to CPU per op.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU runs the parallel benchmark body and reports cpu-ns/op.
func reportCPU(b *testing.B, body func(pb *testing.PB)) {
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	b.RunParallel(body)
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// The two benchmarks below are meant to be read together in one run:
//
//	go test -run '^$' -bench 'HTTPCall|BareNetHTTP' -benchmem ./pkg/transport
//
// BenchmarkBareNetHTTP is the ceiling (a net/http client posting a JSON
// body to a net/http handler that echoes it); BenchmarkHTTPCall is the same
// exchange through our Grenache client and server. Target: >= 85 %.

var benchPayload = json.RawMessage(`{"id":12345,"op":"get","args":["alpha","beta"],"ts":1732560000000}`)

func echoHandler(_ context.Context, _ string, p json.RawMessage) (any, error) { return p, nil }

func BenchmarkHTTPCall(b *testing.B) {
	addr, _ := startHTTPServer(b, echoHandler)
	c := newTestClient(b, HTTPClientConfig{})
	reportCPU(b, func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Call(context.Background(), addr, "bench", benchPayload, CallOptions{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkHTTPCallGzip(b *testing.B) {
	addr, _ := startHTTPServer(b, echoHandler)
	c := newTestClient(b, HTTPClientConfig{})
	reportCPU(b, func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Call(context.Background(), addr, "bench", benchPayload, CallOptions{Compress: true}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkBareNetHTTP(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	url := "http://" + ln.Addr().String() + "/"
	body := []byte(`["0426862e-eca1-4c85-b2d1-10d3013e25ef","bench",` + string(benchPayload) + `]`)
	reportCPU(b, func(pb *testing.PB) {
		for pb.Next() {
			resp, err := hc.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// BenchmarkBareClientGoServer isolates the server: a bare net/http client
// against our HTTPServer. Server ratio = BareNetHTTP / BareClientGoServer;
// client ratio = BareClientGoServer / HTTPCall.
func BenchmarkBareClientGoServer(b *testing.B) {
	addr, _ := startHTTPServer(b, echoHandler)
	tr := &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	url := "http://" + addr + "/"
	body := []byte(`["0426862e-eca1-4c85-b2d1-10d3013e25ef","bench",` + string(benchPayload) + `]`)
	reportCPU(b, func(pb *testing.PB) {
		for pb.Next() {
			resp, err := hc.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// BenchmarkWSCall is Go WSClient -> Go WSServer echo, all goroutines
// multiplexed on one socket.
func BenchmarkWSCall(b *testing.B) {
	addr, _ := startWSServer(b, echoHandler)
	c := newTestWSClient(b, WSClientConfig{})
	if _, err := c.Call(context.Background(), addr, "bench", benchPayload); err != nil {
		b.Fatal(err)
	}
	reportCPU(b, func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Call(context.Background(), addr, "bench", benchPayload); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkBareWS is the ceiling of BenchmarkWSCall: coder/websocket alone,
// a socket per goroutine writing the request frame and reading the echoed
// frame. With -cpu 1 both are one call in flight; read them together:
//
//	go test -run '^$' -bench 'WSCall|BareWS' -cpu 1,4 ./pkg/transport
func BenchmarkBareWS(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &httpServerForTest{}
	srv.start(b, ln, func(ws *websocket.Conn) {
		defer ws.CloseNow()
		for {
			typ, m, err := ws.Read(context.Background())
			if err != nil || ws.Write(context.Background(), typ, m) != nil {
				return
			}
		}
	})
	frame := []byte(`["0426862e-eca1-4c85-b2d1-10d3013e25ef","bench",` + string(benchPayload) + `]`)
	reportCPU(b, func(pb *testing.PB) {
		ws, _, err := websocket.Dial(context.Background(), "ws://"+ln.Addr().String()+"/ws", nil)
		if err != nil {
			b.Error(err)
			return
		}
		defer ws.CloseNow()
		for pb.Next() {
			if err := ws.Write(context.Background(), websocket.MessageText, frame); err != nil {
				b.Error(err)
				return
			}
			if _, _, err := ws.Read(context.Background()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
