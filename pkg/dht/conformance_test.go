package dht

import (
	"context"
	"crypto/sha1"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	adht "github.com/anacrolix/dht/v2"
	peer_store "github.com/anacrolix/dht/v2/peer-store"
	alog "github.com/anacrolix/log"
)

// anacrolixServer starts anacrolix/dht/v2's Server (an independent BEP5
// implementation) on 127.0.0.1, bootstrapping through boot.
// Announcements it accepts are reported on announced.
func anacrolixServer(t *testing.T, boot netip.AddrPort, announced chan<- string) *adht.Server {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := adht.NewDefaultServerConfig()
	cfg.Conn = conn
	cfg.NoSecurity = true
	cfg.PeerStore = &peer_store.InMemory{}
	cfg.OnAnnouncePeer = func(ih peer_store.InfoHash, ip net.IP, port int, portOk bool) {
		select {
		case announced <- net.JoinHostPort(ip.String(), strconv.Itoa(port)):
		default:
		}
	}
	cfg.Logger = alog.Default.FilterLevel(alog.Disabled)
	cfg.QueryResendDelay = func() time.Duration { return 300 * time.Millisecond }
	cfg.StartingNodes = func() ([]adht.Addr, error) {
		return []adht.Addr{adht.NewAddr(net.UDPAddrFromAddrPort(boot))}, nil
	}
	s, err := adht.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if _, err := s.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	return s
}

// With 20-byte keys, our engine and anacrolix's interoperate both ways:
// their get_peers traversal finds what we announced, and our Lookup finds
// what they announced (their announce_peer accepted with our tokens).
func TestConformanceAnacrolix(t *testing.T) {
	a := startNode(t, testConfig())
	b := startNode(t, testConfig(a.Addr().String()))
	waitReady(t, b)
	announced := make(chan string, 10)
	s := anacrolixServer(t, a.Addr(), announced)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Ours announces, theirs finds us.
	ours := sha1.Sum([]byte("go announces"))
	acked, err := a.Announce(ctx, ours[:], 1337)
	if err != nil || acked < 2 {
		t.Fatalf("our announce: %d %v (want b and the anacrolix node)", acked, err)
	}
	tr, err := s.AnnounceTraversal(ours)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for pv := range tr.Peers {
		for _, p := range pv.Peers {
			found = append(found, p.String())
		}
	}
	tr.Close()
	if !slices.Contains(found, "127.0.0.1:1337") {
		t.Fatalf("anacrolix traversal did not find our announce: %v", found)
	}
	// The anacrolix node accepted our announce_peer (our token handling,
	// args and IP as it saw them).
	select {
	case got := <-announced:
		if got != "127.0.0.1:1337" {
			t.Fatalf("anacrolix stored %s", got)
		}
	default:
		t.Fatal("anacrolix node never accepted our announce_peer")
	}

	// Theirs announces, our Lookup finds it.
	theirs := sha1.Sum([]byte("anacrolix announces"))
	ann, err := s.AnnounceTraversal(theirs, adht.AnnouncePeer(adht.AnnouncePeerOpts{Port: 4242}))
	if err != nil {
		t.Fatal(err)
	}
	for range ann.Peers {
	}
	ann.Close()
	for _, n := range []*Node{a, b} {
		got, err := n.Lookup(ctx, theirs[:])
		if err != nil || !slices.Contains(got, netip.MustParseAddrPort("127.0.0.1:4242")) {
			t.Fatalf("our lookup on %s: %v %v", n.Addr(), got, err)
		}
	}
	if st := a.Stats(); st.QueriesRecv["announce_peer"] < 1 || st.BadPackets != 0 {
		t.Fatalf("stats %+v", st)
	}
}
