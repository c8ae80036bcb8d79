//go:build linux

package dht

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On Linux the DHT socket sets IP_RECVERR, so the ICMP errors a dead
// peer's host sends back ("port unreachable" when the grape process died on
// a host that is still up) are queued on the socket with the destination
// and the start of the datagram that failed. Without it an unconnected UDP
// socket drops them and every query to a dead port waits its QueryTimeout.
//
// The kernel also stores the error as the socket's pending error, which
// the next recvfrom or sendto returns (once) instead of doing its job: the
// read loop and send (transport.go) therefore drain the queue whenever
// they see such an error, and send retries once.

// enableUnreachable asks the kernel to queue ICMP errors on conn.
func enableUnreachable(conn *net.UDPConn) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_RECVERR, 1)
	}); err != nil {
		return err
	}
	return serr
}

// unreachable is one drained ICMP error: where the failed datagram went
// and its first bytes (the KRPC message, cut to what the ICMP quoted).
type unreachable struct {
	to      netip.AddrPort
	payload []byte
}

// drainUnreachable reads every queued ICMP error that says the destination
// cannot be reached (port, host or network unreachable) without blocking.
// The queue is bounded by the socket's receive buffer, so the loop ends.
func drainUnreachable(conn *net.UDPConn) []unreachable {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil
	}
	var out []unreachable
	buf := make([]byte, 2048) // an IPv4 ICMP error quotes at most 576 bytes
	oob := make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.SockExtendedErr{}))+unix.SizeofSockaddrInet4))
	_ = rc.Control(func(fd uintptr) {
		for {
			n, oobn, _, from, err := unix.Recvmsg(int(fd), buf, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
			if err != nil {
				return // EAGAIN: the queue is empty
			}
			sa, ok := from.(*unix.SockaddrInet4)
			if !ok || !isUnreachable(oob[:oobn]) {
				continue
			}
			out = append(out, unreachable{
				to:      netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)),
				payload: append([]byte(nil), buf[:n]...),
			})
		}
	})
	return out
}

// isUnreachable reports whether the control data holds an ICMP error that
// means nobody will answer at that address.
func isUnreachable(oob []byte) bool {
	cms, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return false
	}
	for _, cm := range cms {
		if cm.Header.Level != unix.IPPROTO_IP || cm.Header.Type != unix.IP_RECVERR || len(cm.Data) < 8 {
			continue
		}
		errno := syscall.Errno(binary.NativeEndian.Uint32(cm.Data[0:4]))
		if cm.Data[4] == unix.SO_EE_ORIGIN_ICMP && isUnreachableErrno(errno) {
			return true
		}
	}
	return false
}

// isUnreachableErr reports whether a socket call failed because of a
// pending ICMP error (one meant for whichever destination caused it).
func isUnreachableErr(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && isUnreachableErrno(errno)
}

func isUnreachableErrno(e syscall.Errno) bool {
	return e == unix.ECONNREFUSED || e == unix.EHOSTUNREACH || e == unix.ENETUNREACH
}

// readBacklogged reports whether datagrams wait unread in conn's receive
// queue (SIOCINQ: the size of the next one; 0 when there is none).
func readBacklogged(conn *net.UDPConn) bool {
	rc, err := conn.SyscallConn()
	if err != nil {
		return true
	}
	queued := 0
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		queued, ierr = unix.IoctlGetInt(int(fd), unix.SIOCINQ)
	}); err != nil || ierr != nil {
		return true // unknown: assume the worst, as other systems do
	}
	return queued > 0
}
