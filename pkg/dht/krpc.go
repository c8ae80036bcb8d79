package dht

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/anacrolix/torrent/bencode"

	"github.com/grenache-go/grenache/pkg/bep44"
)

// KRPC error codes (BEP5 and BEP44) as bittorrent-dht sends them.
const (
	codeGeneric      = 201
	codeServer       = 202
	codeProtocol     = 203
	codeMethod       = 204
	codeTooLarge     = 205
	codeInvalidSig   = 206
	codeSaltTooBig   = 207
	codeCasMismatch  = 301
	codeSeqTooOld    = 302
	maxValueLen      = bep44.MaxValueLen // BEP44: v (bencoded string payload) must be below this
	maxSaltLen       = bep44.MaxSaltLen  // BEP44: salt may be at most 64 bytes
	compactNodeLen   = 26                // 20-byte id + IPv4 + port
	compactPeerLen   = 6                 // IPv4 + port
	maxPacketSize    = 65507
	maxPeersPerReply = (maxPacketSize - 1024) / (compactPeerLen + 2) // "6:" + 6 bytes each, room for the rest
)

// msg is one KRPC message. Presence matters for some fields (an empty
// info_hash is a valid key), so those are pointers; raw types keep decoding
// total so that odd but well-formed packets still get an answer.
type msg struct {
	A *args   `bencode:"a,omitempty"`
	E errList `bencode:"e,omitempty"`
	Q string  `bencode:"q,omitempty"`
	R *reply  `bencode:"r,omitempty"`
	T string  `bencode:"t"`
	Y string  `bencode:"y"`
}

// args is the "a" dict of a query. Field names follow the wire.
type args struct {
	Cas         *int64        `bencode:"cas,omitempty"`
	ID          string        `bencode:"id"`
	ImpliedPort *int64        `bencode:"implied_port,omitempty"`
	InfoHash    *string       `bencode:"info_hash,omitempty"`
	K           *string       `bencode:"k,omitempty"`
	Port        *int64        `bencode:"port,omitempty"`
	Salt        *string       `bencode:"salt,omitempty"`
	Seq         *int64        `bencode:"seq,omitempty"`
	Sig         *string       `bencode:"sig,omitempty"`
	Target      *string       `bencode:"target,omitempty"`
	Token       *string       `bencode:"token,omitempty"`
	V           bencode.Bytes `bencode:"v,omitempty"`
}

// reply is the "r" dict of a response.
type reply struct {
	ID     string        `bencode:"id"`
	K      *string       `bencode:"k,omitempty"`
	Nodes  *string       `bencode:"nodes,omitempty"`
	Seq    *int64        `bencode:"seq,omitempty"`
	Sig    *string       `bencode:"sig,omitempty"`
	Token  *string       `bencode:"token,omitempty"`
	V      bencode.Bytes `bencode:"v,omitempty"`
	Values []string      `bencode:"values,omitempty"`
}

var errBadPacket = errors.New("dht: malformed KRPC packet")

// errList is the "e" list, [code, message]. It decodes through the
// library's generic path because decoding a list straight into []any hits a
// reflection panic in it.
type errList []any

// UnmarshalBencode implements bencode.Unmarshaler.
func (e *errList) UnmarshalBencode(b []byte) error {
	var v any
	if err := bencode.Unmarshal(b, &v); err != nil {
		return err
	}
	l, ok := v.([]any)
	if !ok {
		return errBadPacket
	}
	*e = l
	return nil
}

// decodeMsg parses one datagram. It never panics: the bencode library
// re-raises runtime errors, so a recover here turns any such surprise into
// a bad packet instead of a crashed node.
func decodeMsg(b []byte) (m msg, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = msg{}, fmt.Errorf("%w: %v", errBadPacket, r)
		}
	}()
	if len(b) == 0 || b[0] != 'd' {
		return msg{}, errBadPacket
	}
	// The hand-written decoder takes the well-formed packets we see;
	// anything else goes to the library, which keeps its exact results and
	// errors for odd input (see bencode_fast_dec.go).
	if fm, ok := decodeMsgFast(b); ok {
		return fm, nil
	}
	if err := bencode.Unmarshal(b, &m); err != nil {
		return msg{}, fmt.Errorf("%w: %v", errBadPacket, err)
	}
	return m, nil
}

// decodeHeader extracts only t, y and q, for answering a query whose
// arguments failed to decode with a protocol error instead of silence.
func decodeHeader(b []byte) (t, y, q string, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	var d map[string]bencode.Bytes
	if bencode.Unmarshal(b, &d) != nil {
		return "", "", "", false
	}
	for k, dst := range map[string]*string{"t": &t, "y": &y, "q": &q} {
		if raw, found := d[k]; found && bencode.Unmarshal(raw, dst) != nil {
			return "", "", "", false
		}
	}
	return t, y, q, true
}

// encodeMsg bencodes m into one exactly sized slice, byte for byte what
// bencode.Marshal would write (dict keys sorted, as KRPC requires); the
// library still encodes the rare msg the fast path leaves to it (see
// bencode_fast_enc.go).
func encodeMsg(m *msg) ([]byte, error) {
	if m != nil {
		if n, ok := msgSize(m); ok {
			return appendMsgFast(make([]byte, 0, n), m), nil
		}
	}
	return bencode.Marshal(m)
}

// krpcError builds the "e" list of an error reply.
func krpcError(code int, text string) errList { return errList{int64(code), text} }

// parseError reads the "e" list of an error reply into an *Error.
func parseError(e errList) *Error {
	out := &Error{Code: codeGeneric, Msg: "unknown KRPC error"}
	if len(e) > 0 {
		if c, ok := e[0].(int64); ok {
			out.Code = int(c)
		}
	}
	if len(e) > 1 {
		if s, ok := e[1].(string); ok {
			out.Msg = s
		}
	}
	return out
}

// tid encodes our own transaction id: a non-zero 16-bit big-endian counter,
// the only form Node grapes accept in replies.
func tidBytes(id uint16) string {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], id)
	return string(b[:])
}

// parseTID reads a reply's t as one of ours; false for anything else.
func parseTID(t string) (uint16, bool) {
	if len(t) != 2 {
		return 0, false
	}
	id := binary.BigEndian.Uint16([]byte(t))
	return id, id != 0
}

// contact is a node as the routing table and the walks know it.
type contact struct {
	ID   NodeID
	Addr netip.AddrPort
}

// encodeNodes packs contacts in the 26-byte compact IPv4 format; non-IPv4
// contacts are skipped because the Grenache wire has no nodes6.
func encodeNodes(cs []contact) string {
	b := make([]byte, 0, len(cs)*compactNodeLen)
	for _, c := range cs {
		a := c.Addr.Addr().Unmap()
		if !a.Is4() {
			continue
		}
		ip := a.As4()
		b = append(b, c.ID[:]...)
		b = append(b, ip[:]...)
		b = binary.BigEndian.AppendUint16(b, c.Addr.Port())
	}
	return string(b)
}

// decodeNodes unpacks compact nodes, ignoring a trailing partial entry and
// entries with port 0 (nobody can be reached there).
func decodeNodes(s string) []contact {
	n := len(s) / compactNodeLen
	out := make([]contact, 0, n)
	for i := 0; i < n; i++ {
		e := s[i*compactNodeLen : (i+1)*compactNodeLen]
		var c contact
		copy(c.ID[:], e[:20])
		ip := netip.AddrFrom4([4]byte{e[20], e[21], e[22], e[23]})
		port := binary.BigEndian.Uint16([]byte(e[24:26]))
		if port == 0 {
			continue
		}
		c.Addr = netip.AddrPortFrom(ip, port)
		out = append(out, c)
	}
	return out
}

// encodePeer packs an IPv4 peer in the 6-byte compact format.
func encodePeer(p netip.AddrPort) (string, bool) {
	a := p.Addr().Unmap()
	if !a.Is4() {
		return "", false
	}
	ip := a.As4()
	b := append(ip[:], 0, 0)
	binary.BigEndian.PutUint16(b[4:], p.Port())
	return string(b), true
}

// decodePeer unpacks a 6-byte compact peer; other lengths (IPv6) are ignored.
func decodePeer(s string) (netip.AddrPort, bool) {
	if len(s) != compactPeerLen {
		return netip.AddrPort{}, false
	}
	ip := netip.AddrFrom4([4]byte{s[0], s[1], s[2], s[3]})
	port := binary.BigEndian.Uint16([]byte(s[4:6]))
	if port == 0 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip, port), true
}

// bencodeString returns the bencoded form of a byte string, "<len>:<bytes>".
func bencodeString(v []byte) []byte {
	out := fmt.Appendf(nil, "%d:", len(v))
	return append(out, v...)
}

// unbencodeString reads raw bencode that must be a single byte string.
func unbencodeString(raw []byte) ([]byte, bool) {
	if len(raw) == 0 || raw[0] < '0' || raw[0] > '9' {
		return nil, false
	}
	var s []byte
	if err := bencode.Unmarshal(raw, &s); err != nil {
		return nil, false
	}
	return s, true
}

func strPtr(s string) *string { return &s }
func i64Ptr(v int64) *int64   { return &v }
