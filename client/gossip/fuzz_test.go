package gossip

import (
	"bytes"
	"testing"
)

// FuzzDecode: no input panics, and whatever Decode accepts survives a
// round trip through Encode unchanged in meaning (same canonical form).
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"v":1,"origin":"o","seq":1,"sent":1,"hints":[{"peer":"1.2.3.4:5","state":"degraded","conf":0.5,"age_ms":10}]}`))
	f.Add([]byte(`{"v":1,"origin":"o","seq":1,"sent":1,"hints":[],"key":"AAAA","sig":"BBBB"}`))
	f.Add([]byte(`{"n":3,"hint":"gossip"}`))
	f.Add([]byte(`{"v":1,"origin":"o","seq":1e3,"sent":1,"hints":[{"peer":"[::1]:80","state":"healthy","conf":1e-3,"age_ms":0}]}`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		m, err := Decode(frame, 4096, 8)
		if err != nil {
			return
		}
		out, err := Encode(m, 0, 8)
		if err != nil {
			t.Fatalf("accepted %q but cannot re-encode: %v", frame, err)
		}
		m2, err := Decode(out, 0, 8)
		if err != nil {
			t.Fatalf("re-encoded %q does not decode: %v", out, err)
		}
		if !bytes.Equal(m.Canonical(), m2.Canonical()) {
			t.Fatalf("canonical form changed over a round trip:\n%q\n%q", m.Canonical(), m2.Canonical())
		}
	})
}

// FuzzIngest: no frame panics the book, and its advice stays in bounds.
func FuzzIngest(f *testing.F) {
	f.Add([]byte(`{"v":1,"origin":"o","seq":1,"sent":1800000000000,"hints":[{"peer":"127.0.0.1:7001","state":"degraded","conf":1,"age_ms":0}]}`), "src")
	f.Add([]byte(`garbage`), "")
	f.Fuzz(func(t *testing.T, frame []byte, source string) {
		b, _ := newBook(t)
		b.Ingest(source, frame)
		b.Ingest(source, frame)
		if a := b.Advise(peerX, b.now()); !adviceInBounds(a, &b.cfg) {
			t.Fatalf("advice %+v out of bounds", a)
		}
		if s := b.Stats(); s.Received != s.Applied+s.Dropped+s.Rejected {
			t.Fatalf("counters do not add up: %+v", s)
		}
	})
}
