package netns

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// inHost runs f on an OS thread moved into host i's network namespace, so
// the sockets f opens live there (a socket keeps its namespace wherever it
// is used later). The thread is never handed back to the scheduler: the
// goroutine ends still locked, and Go then ends the thread with it.
func (l *lab) inHost(i int, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/run/netns/"+l.hosts[i], unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open namespace %s: %w", l.hosts[i], err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter namespace %s: %w", l.hosts[i], err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// storeHolds asks host i's DHT node, with a raw get_peers from inside host
// i, whether its own peer store holds peer for name. A get_peers answer
// carries only that node's store (no walk, no seen-peers memory), so this
// tells a self-stored announcement from one found on other grapes. The
// 1-byte id keeps the probe out of the node's routing table.
func (l *lab) storeHolds(i int, name string, peer netip.AddrPort) (bool, error) {
	var reply []byte
	err := l.inHost(i, func() error {
		c, err := net.Dial("udp", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), dhtPort).String())
		if err != nil {
			return err
		}
		defer c.Close()
		q := fmt.Sprintf("d1:ad2:id1:x9:info_hash%d:%se1:q9:get_peers1:t2:pp1:y1:qe", len(name), name)
		if _, err := c.Write([]byte(q)); err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 4096)
		n, err := c.Read(buf)
		reply = buf[:n]
		return err
	})
	if err != nil {
		return false, fmt.Errorf("get_peers probe of host %d: %w", i, err)
	}
	// A compact peer is a 6-byte string: 4 bytes of IPv4, 2 of port.
	ip := peer.Addr().As4()
	compact := append([]byte("6:"), ip[:]...)
	compact = append(compact, byte(peer.Port()>>8), byte(peer.Port()))
	return bytes.Contains(reply, compact), nil
}

// lookup asks host i's grape for name and returns the sorted addresses.
func (l *lab) lookup(i int, name string) ([]string, error) {
	out, err := l.call(i, "lookup", name)
	if err != nil {
		return nil, fmt.Errorf("lookup on host %d: %v: %s", i, err, out)
	}
	var peers []string
	if err := json.Unmarshal([]byte(out), &peers); err != nil {
		return nil, fmt.Errorf("lookup on host %d: not an array of addresses: %s", i, out)
	}
	slices.Sort(peers)
	return peers, nil
}

// reachable reports whether an HTTP server answers at addr (host:port),
// whatever its status, from host i.
func (l *lab) reachable(i int, addr string) bool {
	err := exec.Command(ipCmd, "netns", "exec", l.hosts[i], "curl", "-sS", "-m", "5", "-o", "/dev/null",
		"-X", "POST", "--data-binary", `{"data":"__probe__"}`, "http://"+addr+"/lookup").Run()
	return err == nil
}

// clientCall runs `client call [args] SERVICE PAYLOAD` on host i against
// host i's grape and returns its stdout.
func (l *lab) clientCall(i int, bin, service, payload string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	argv := []string{"netns", "exec", l.hosts[i], bin, "call", "--grape", l.apiURL(i)}
	argv = append(append(argv, args...), service, payload)
	cmd := exec.CommandContext(ctx, ipCmd, argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("client call on host %d: %v: %s", i, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// workerAddr is the address host i's worker must be found under.
func (l *lab) workerAddr(i int) string { return l.addr(i) + ":" + strconv.Itoa(workerPort+i) }
