// Package hostile builds the inputs a hostile or broken client sends, for
// the tests that check a server's memory and descriptors stay bounded:
// connections that claim a large body and stall, headers that never end,
// and gzip bombs. It is test support shared by the worker, the grape and
// pkg/transport; nothing in a shipped binary imports it.
package hostile

import (
	"bytes"
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
)

// HoldConns opens n TCP connections to addr, writes head on each and keeps
// them open until the test ends. head is usually the start of a request
// that never finishes: headers without their blank line (slowloris), or a
// Content-Length far beyond the bytes that follow. Connections are opened
// by 8 goroutines, so thousands take well under a second.
func HoldConns(t testing.TB, addr string, n int, head string) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
	})
	const dialers = 8
	var wg sync.WaitGroup
	errs := make([]error, dialers)
	for w := range dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += dialers {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					errs[w] = err
					return
				}
				conns[i] = c
				if _, err := io.WriteString(c, head); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("opening %d held connections to %s: %v", n, addr, err)
		}
	}
	return conns
}

// GzipBomb is mib MiB of zeros as concatenated gzip members (about 1 KiB
// each on the wire), which gunzip reads as one stream: a 1 GiB bomb costs
// about 1 MB to build and to send.
func GzipBomb(mib int) []byte {
	var one bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
	_, _ = zw.Write(make([]byte, 1<<20))
	_ = zw.Close()
	return bytes.Repeat(one.Bytes(), mib)
}

// SendBombs posts bomb to url n times at once with grc-compress: gzip (the
// Grenache RPC compression header) and returns each reply's status, 0 for
// a request that failed (reported with t.Errorf).
func SendBombs(t testing.TB, hc *http.Client, url string, bomb []byte, n int) []int {
	t.Helper()
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", url, bytes.NewReader(bomb))
			req.Header.Set("grc-compress", "gzip")
			resp, err := hc.Do(req)
			if err != nil {
				t.Errorf("bomb %d: %v", i, err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	return statuses
}
