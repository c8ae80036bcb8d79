// Command flood sends a grape's DHT port announce_peer queries for many
// distinct, long info_hash keys (as a hostile DHT node could), to measure
// what the keys cost the grape. It sends to loopback only:
//
//	go build -o /tmp/grape ./cmd/grape && /tmp/grape --dp 39301 --aph 39302 --bn '' &
//	go run ./bench/grape/flood -dht 127.0.0.1:39301 -keys 25000 -len 60000
//	grep VmRSS /proc/$(pgrep -f 'grape --dp 39301')/status
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	dht := flag.String("dht", "127.0.0.1:39301", "grape DHT address (loopback)")
	keys := flag.Int("keys", 25000, "distinct keys to announce")
	keyLen := flag.Int("len", 60000, "bytes per key (a UDP datagram allows about 65000)")
	flag.Parse()
	addr, err := net.ResolveUDPAddr("udp4", *dht)
	if err != nil || !addr.IP.IsLoopback() {
		fmt.Fprintln(os.Stderr, "flood: -dht must be a loopback host:port")
		os.Exit(2)
	}
	c, err := net.DialUDP("udp4", nil, addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
	defer c.Close()
	// The token is per source IP, so one get_peers serves every key.
	tok, err := token(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "flood: get_peers:", err)
		os.Exit(1)
	}
	buf := make([]byte, 2048)
	start := time.Now()
	acked := 0
	for i := range *keys {
		p := strconv.Itoa(i) + "-"
		key := p + string(bytes.Repeat([]byte{'k'}, *keyLen-len(p)))
		q := fmt.Sprintf("d1:ad2:id20:%s9:info_hash%d:%s4:porti1337e5:token%d:%se1:q13:announce_peer1:t2:aa1:y1:qe",
			"floodfloodfloodflood", len(key), key, len(tok), tok)
		if _, err := c.Write([]byte(q)); err != nil {
			fmt.Fprintln(os.Stderr, "flood:", err)
			os.Exit(1)
		}
		// Wait for each reply: a paced flood measures memory, not drops.
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if n, err := c.Read(buf); err == nil && bytes.Contains(buf[:n], []byte("1:y1:r")) {
			acked++
		}
	}
	fmt.Printf("%d announce_peer of %d-byte keys, %d acknowledged, in %v\n", *keys, *keyLen, acked, time.Since(start).Round(time.Millisecond))
}

// token asks for an announce token with a get_peers.
func token(c *net.UDPConn) (string, error) {
	if _, err := c.Write([]byte("d1:ad2:id20:floodfloodfloodflood9:info_hash1:xe1:q9:get_peers1:t2:tt1:y1:qe")); err != nil {
		return "", err
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return "", err
	}
	i := bytes.Index(buf[:n], []byte("5:token"))
	if i < 0 {
		return "", fmt.Errorf("no token in %q", buf[:n])
	}
	rest := buf[i+7 : n]
	colon := bytes.IndexByte(rest, ':')
	l, err := strconv.Atoi(string(rest[:colon]))
	if err != nil || colon+1+l > len(rest) {
		return "", fmt.Errorf("bad token in %q", buf[:n])
	}
	return string(rest[colon+1 : colon+1+l]), nil
}
