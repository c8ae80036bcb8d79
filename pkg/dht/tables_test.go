package dht

import (
	"testing"
	"time"
)

func TestLookupTables(t *testing.T) {
	clk := newFakeClock()
	l := newLookupTables(2, 1<<30)
	r := []responder{{contact: contact{ID: id(1), Addr: addrN(1)}, token: []byte("t")}}
	l.set([]byte("a"), r, clk.Now())
	clk.Advance(4 * time.Minute)
	if got, ok := l.get([]byte("a"), clk.Now()); !ok || len(got) != 1 {
		t.Fatal("fresh table")
	}
	clk.Advance(time.Minute)
	if _, ok := l.get([]byte("a"), clk.Now()); ok {
		t.Fatal("table expires after 5 min")
	}
	l.set([]byte("a"), r, clk.Now())
	l.set([]byte("b"), r, clk.Now())
	l.get([]byte("a"), clk.Now())
	l.set([]byte("c"), r, clk.Now())
	if _, ok := l.get([]byte("b"), clk.Now()); ok {
		t.Fatal("LRU evicts b")
	}
	l.drop([]byte("a"))
	if _, ok := l.get([]byte("a"), clk.Now()); ok {
		t.Fatal("dropped")
	}
}
