package link

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// Put stores a BEP44 item through the grape and returns its target as 40
// hex characters. data is the grape's /put "data" object, e.g.
// map[string]any{"v": "hello"} for an immutable item. A reply that is a
// string but not a 40-hex target is a grape error ("opts.v not given", "No
// nodes to query", ...), reported as *GrapeError rather than handed back as
// a hash the way Node's link does.
func (l *Link) Put(ctx context.Context, data any) (string, error) {
	reply, err := l.post(ctx, "put", data)
	if err != nil {
		return "", err
	}
	var s string
	if err := jsonUnmarshalString(reply, &s); err != nil {
		return "", err
	}
	if !isHex40(s) {
		return "", &GrapeError{Token: s}
	}
	return s, nil
}

// PutValue is Put for an immutable string value: data {"v": v}.
func (l *Link) PutValue(ctx context.Context, v string) (string, error) {
	return l.Put(ctx, map[string]string{"v": v})
}

// Item is a /get reply: the node that held the value, the token it issued
// (nil when the grape answered from its own store) and the value; mutable
// items also carry K, Sig, Seq and Salt.
type Item struct {
	ID    string  `json:"id"`
	Token *string `json:"token"`
	V     string  `json:"v"`
	K     string  `json:"k,omitempty"`
	Sig   string  `json:"sig,omitempty"`
	Seq   *int64  `json:"seq,omitempty"`
	Salt  string  `json:"salt,omitempty"`
}

// Get fetches a BEP44 item by its 40-hex target, or by an object such as
// map[string]any{"hash": target, "salt": "s"}. An empty reply (how grapes
// say "unknown") is ErrNotFound.
func (l *Link) Get(ctx context.Context, query any) (*Item, error) {
	reply, err := l.post(ctx, "get", query)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(reply)) == 0 {
		return nil, ErrNotFound
	}
	var it Item
	if err := decodeTyped(reply, &it); err != nil {
		return nil, err
	}
	return &it, nil
}

func isHex40(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func jsonUnmarshalString(reply []byte, s *string) error {
	if err := json.Unmarshal(bytes.TrimSpace(reply), s); err != nil {
		return fmt.Errorf("link: unexpected grape reply %.200q: %w", reply, err)
	}
	return nil
}
