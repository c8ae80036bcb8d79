package grape

import (
	"slices"
	"testing"
)

// TestUnannounceTakesBackLocalAndRemote: /unannounce removes the -b
// self-stored record and the DHT's, answers how many went, and the next
// lookup (answered from the grape's memory, which held the peer) no longer
// returns it; port 0 means the grape's DHT port, as for /announce.
func TestUnannounceTakesBackLocalAndRemote(t *testing.T) {
	g, node := startFake(t, nil)
	for _, data := range []string{`["svc",4000]`, `["svc",4001]`} {
		if _, err := callAPI(g, "announce", data); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := callAPI(g, "lookup", `"svc"`); got != `["127.0.0.1:4000","127.0.0.1:4001"]` && got != `["127.0.0.1:4001","127.0.0.1:4000"]` {
		t.Fatalf("lookup before = %s", got)
	}
	got, err := callAPI(g, "unannounce", `["svc",4000]`)
	if err != nil || got != "2" { // the self-stored record and the DHT's
		t.Fatalf("unannounce = %s, %v; want 2", got, err)
	}
	for range 3 { // from memory and from a fresh walk alike
		if got, _ := callAPI(g, "lookup", `"svc"`); got != `["127.0.0.1:4001"]` {
			t.Fatalf("lookup after = %s, want only 4001", got)
		}
	}
	if got, _ := callAPI(g, "unannounce", `["svc",0]`); got != "0" {
		t.Fatalf("unannounce of port 0 = %s", got)
	}
	node.mu.Lock()
	ports := slices.Clone(node.unannounced)
	node.mu.Unlock()
	if want := []int{4000, int(node.addr.Port())}; !slices.Equal(ports, want) {
		t.Fatalf("DHT unannounced %v, want %v", ports, want)
	}
}
