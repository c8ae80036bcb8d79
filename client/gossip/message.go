package gossip

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
)

// SchemaVersion is the value of "v" in every message this package writes and
// the only one it accepts. A change of meaning gets a new version, so old
// readers reject new messages instead of misreading them.
const SchemaVersion = 1

// Limits on fields, so one message can never cost more than a bounded amount
// of memory and work.
const (
	maxOriginLen = 64
	maxPeerLen   = 64
	// maxSafeInt is 2^53-1: seq and sent must survive a JavaScript Number.
	maxSafeInt = 1<<53 - 1
	// maxAgeMS bounds age_ms; ages beyond the TTL are ignored anyway.
	maxAgeMS = 24 * 3600 * 1000
)

// ErrMalformed wraps every decoding and validation failure.
var ErrMalformed = errors.New("gossip: malformed message")

// State is what a hint says about a peer.
type State string

// The two states a hint can carry.
const (
	Degraded State = "degraded"
	Healthy  State = "healthy"
)

// Hint is one origin's view of one peer.
//
// Wire form: {"peer":"127.0.0.1:1337","state":"degraded","conf":0.8,"age_ms":1200}.
type Hint struct {
	// Peer is the peer's address as lookups return it ("ip:port").
	Peer string `json:"peer"`
	// State is "degraded" or "healthy".
	State State `json:"state"`
	// Conf is the origin's confidence in [0, 1], at most 3 decimals.
	Conf float64 `json:"conf"`
	// AgeMS is how old the origin's evidence was when it sent the message.
	AgeMS int64 `json:"age_ms"`
}

// Message is one published frame.
//
// Wire form (one JSON text frame):
//
//	{"v":1,"origin":"<id>","seq":N,"sent":<unix ms>,"hints":[...],"key":"<b64>","sig":"<b64>"}
//
// key and sig are present together or not at all.
type Message struct {
	// Version is SchemaVersion.
	Version int `json:"v"`
	// Origin is the publisher's id, [A-Za-z0-9._:-]{1,64}.
	Origin string `json:"origin"`
	// Seq grows strictly with each message of one origin, in 1..2^53-1.
	// Publishers start it from the wall clock in ms, so it keeps growing
	// across restarts without stored state.
	Seq uint64 `json:"seq"`
	// Sent is the send time in Unix milliseconds, in 1..2^53-1.
	Sent int64 `json:"sent"`
	// Hints are the publisher's views, at most one per peer.
	Hints []Hint `json:"hints"`
	// Key is the signer's ed25519 public key, standard base64 (optional).
	Key string `json:"key,omitempty"`
	// Sig is the ed25519 signature of [Message.Canonical], standard base64.
	Sig string `json:"sig,omitempty"`
}

// Encode validates m and returns its wire form. maxBytes bounds the result
// (<= 0 means no bound); maxHints bounds the hints.
func Encode(m *Message, maxBytes, maxHints int) ([]byte, error) {
	if err := m.validate(maxHints); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if maxBytes > 0 && len(b) > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(b), maxBytes)
	}
	return b, nil
}

// Decode parses and validates one frame. It rejects frames over maxBytes
// before parsing, unknown fields, trailing data, more than maxHints hints,
// and every field outside its documented range. It does not check
// signatures; see [Verify].
func Decode(frame []byte, maxBytes, maxHints int) (*Message, error) {
	if maxBytes > 0 && len(frame) > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(frame), maxBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(frame))
	dec.DisallowUnknownFields()
	var m Message
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	if err := m.validate(maxHints); err != nil {
		return nil, err
	}
	return &m, nil
}

// validate checks every documented bound of the schema.
func (m *Message) validate(maxHints int) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, a...)...)
	}
	if m.Version != SchemaVersion {
		return bad("version %d, want %d", m.Version, SchemaVersion)
	}
	if err := validToken(m.Origin, maxOriginLen); err != nil {
		return bad("origin: %v", err)
	}
	if m.Seq == 0 || m.Seq > maxSafeInt {
		return bad("seq %d out of range", m.Seq)
	}
	if m.Sent <= 0 || m.Sent > maxSafeInt {
		return bad("sent %d out of range", m.Sent)
	}
	if m.Hints == nil {
		return bad("hints missing")
	}
	if maxHints > 0 && len(m.Hints) > maxHints {
		return bad("%d hints exceed %d", len(m.Hints), maxHints)
	}
	if (m.Key == "") != (m.Sig == "") {
		return bad("key and sig must come together")
	}
	seen := make(map[string]struct{}, len(m.Hints))
	for i, h := range m.Hints {
		if err := h.validate(); err != nil {
			return bad("hint %d: %v", i, err)
		}
		if _, dup := seen[h.Peer]; dup {
			return bad("hint %d: peer %q repeated", i, h.Peer)
		}
		seen[h.Peer] = struct{}{}
	}
	return nil
}

// validate checks one hint's fields.
func (h *Hint) validate() error {
	if err := validPeer(h.Peer); err != nil {
		return err
	}
	if h.State != Degraded && h.State != Healthy {
		return fmt.Errorf("state %q", h.State)
	}
	if math.IsNaN(h.Conf) || h.Conf < 0 || h.Conf > 1 {
		return fmt.Errorf("conf %v outside [0, 1]", h.Conf)
	}
	// At most 3 decimals, so the signed canonical form (permille) is exact.
	if pm := h.Conf * 1000; math.Abs(pm-math.Round(pm)) > 1e-6 {
		return fmt.Errorf("conf %v has more than 3 decimals", h.Conf)
	}
	if h.AgeMS < 0 || h.AgeMS > maxAgeMS {
		return fmt.Errorf("age_ms %d out of range", h.AgeMS)
	}
	return nil
}

// permille is conf as an exact integer, used in the canonical form.
func (h *Hint) permille() int64 { return int64(math.Round(h.Conf * 1000)) }

// RoundConf rounds a confidence to the 3 decimals the schema allows and
// clamps it to [0, 1].
func RoundConf(c float64) float64 {
	if math.IsNaN(c) || c <= 0 {
		return 0
	}
	if c >= 1 {
		return 1
	}
	return math.Round(c*1000) / 1000
}

// validToken accepts 1..max bytes of [A-Za-z0-9._:-]: enough for UUIDs and
// host names, and free of the separators used by the canonical form.
func validToken(s string, max int) error {
	if len(s) == 0 || len(s) > max {
		return fmt.Errorf("length %d outside 1..%d", len(s), max)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == ':' || c == '-'
		if !ok {
			return fmt.Errorf("byte %q not allowed", c)
		}
	}
	return nil
}

// validPeer accepts "host:port" with a port in 1..65535 and a host made of
// the token characters (IPv6 in brackets allowed), as Grenache lookups return.
func validPeer(p string) error {
	if len(p) == 0 || len(p) > maxPeerLen {
		return fmt.Errorf("peer length %d outside 1..%d", len(p), maxPeerLen)
	}
	host, port, err := net.SplitHostPort(p)
	if err != nil {
		return fmt.Errorf("peer %q: %v", p, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return fmt.Errorf("peer %q: bad port", p)
	}
	if err := validToken(host, maxPeerLen); err != nil {
		return fmt.Errorf("peer %q host: %v", p, err)
	}
	return nil
}
