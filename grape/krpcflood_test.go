package grape_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/grenache-go/grenache/grape"
)

// floodID is the hostile node's id (20 bytes).
const floodID = "floodfloodfloodflood"

// krpcFlood is a hostile DHT peer on ip: it gets a token from every grape
// with get_peers, then sends each of them announce_peer for n unique names
// (flood-krpc-0 ..), in windows of 128 packets (smaller windows made the flood
// latency-bound: 22 s instead of 7 s for 600 000 packets) so the grapes' socket
// buffers do not drop them. It returns how many announce_peer were acked.
func krpcFlood(gs []*grape.Grape, ip string, n int) (int, error) {
	var wg sync.WaitGroup
	acked := make([]int, len(gs))
	errs := make([]error, len(gs))
	for gi, g := range gs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acked[gi], errs[gi] = krpcFloodOne(net.UDPAddrFromAddrPort(g.DHTAddr()), ip, n)
		}()
	}
	wg.Wait()
	total := 0
	for _, a := range acked {
		total += a
	}
	return total, errors.Join(errs...)
}

func krpcFloodOne(to *net.UDPAddr, ip string, n int) (int, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	buf := make([]byte, 1<<16)
	// The token is sha1(our IP ‖ secret): one get_peers is enough.
	var token []byte
	for try := 0; token == nil && try < 5; try++ {
		if _, err := conn.WriteToUDP(krpcQuery("get_peers", "gp", bstr("info_hash", "x")), to); err != nil {
			return 0, err
		}
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		if m, _, err := conn.ReadFromUDP(buf); err == nil {
			token = bencodedValue(buf[:m], "5:token")
		}
	}
	if token == nil {
		return 0, fmt.Errorf("no token from %v", to)
	}
	const window = 128
	acked := 0
	for i := 0; i < n; i += window {
		sent := 0
		for j := i; j < min(i+window, n); j++ {
			a := bstr("info_hash", "flood-krpc-"+strconv.Itoa(j)) + "4:porti6000e" + bstr("token", string(token))
			if _, err := conn.WriteToUDP(krpcQuery("announce_peer", "ap", a), to); err != nil {
				return acked, err
			}
			sent++
		}
		// A late reply is counted in the next window; a lost one costs the wait.
		_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		for got := 0; got < sent; got++ {
			m, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				break // lost packets: counted as not acked
			}
			if bytes.Contains(buf[:m], []byte("1:y1:r")) {
				acked++
			}
		}
	}
	return acked, nil
}

// krpcQuery is a bencoded KRPC query; a holds the arguments after the id,
// already bencoded and in key order.
func krpcQuery(q, tid, a string) []byte {
	return []byte("d1:ad" + bstr("id", floodID) + a + "e1:q" + strconv.Itoa(len(q)) + ":" + q +
		"1:t" + strconv.Itoa(len(tid)) + ":" + tid + "1:y1:qe")
}

// bstr is one bencoded dictionary entry with a string value.
func bstr(k, v string) string {
	return strconv.Itoa(len(k)) + ":" + k + strconv.Itoa(len(v)) + ":" + v
}

// bencodedValue returns the byte string following key (e.g. "5:token") in
// a bencoded message, or nil.
func bencodedValue(b []byte, key string) []byte {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return nil
	}
	rest := b[i+len(key):]
	c := bytes.IndexByte(rest, ':')
	if c < 0 {
		return nil
	}
	l, err := strconv.Atoi(string(rest[:c]))
	if err != nil || c+1+l > len(rest) {
		return nil
	}
	return bytes.Clone(rest[c+1 : c+1+l])
}

// storeHolds asks the DHT node at to, with get_peers from conn, whether its
// own peer store holds peer under key (a get_peers answer carries only the
// node's own store, unlike /lookup, which also merges the walk and the
// grape's seen-peers memory). A reply that does not come in time is asked
// again; only an answer without the peer is false.
func storeHolds(conn *net.UDPConn, to *net.UDPAddr, key string, peer [6]byte) (bool, error) {
	buf := make([]byte, 1<<16)
	for try := 0; try < 5; try++ {
		tid := "w" + strconv.Itoa(try)
		if _, err := conn.WriteToUDP(krpcQuery("get_peers", tid, bstr("info_hash", key)), to); err != nil {
			return false, err
		}
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		for {
			m, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				break // ask again
			}
			if !bytes.Contains(buf[:m], []byte("1:t"+strconv.Itoa(len(tid))+":"+tid)) {
				continue // a late answer to an earlier try
			}
			return bytes.Contains(buf[:m], append([]byte("6:"), peer[:]...)), nil
		}
	}
	return false, fmt.Errorf("no get_peers answer from %v", to)
}
