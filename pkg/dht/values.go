package dht

import (
	"bytes"
	"container/list"

	"github.com/grenache-go/grenache/pkg/bep44"
)

// ImmutableTarget is the BEP44 address of an immutable value:
// sha1(bencode(v)). The BEP44 arithmetic lives in pkg/bep44, shared with
// pkg/link, which verifies what grapes return with the same code.
func ImmutableTarget(v []byte) Target { return bep44.ImmutableTarget(v) }

// MutableTarget is the BEP44 address of a mutable item: sha1(k ‖ salt).
func MutableTarget(k *[32]byte, salt []byte) Target { return bep44.MutableTarget(k, salt) }

// SignatureBuffer is the byte string a mutable item's signature covers
// (bep44.SignatureBuffer).
func SignatureBuffer(salt []byte, seq int64, v []byte) []byte {
	return bep44.SignatureBuffer(salt, seq, v)
}

// Target returns the item's BEP44 address.
func (it *Item) Target() Target {
	if it.K != nil {
		return MutableTarget(it.K, it.Salt)
	}
	return ImmutableTarget(it.V)
}

// verifyItem checks what a storing node must check before accepting an
// item: size, salt size, and for mutable items the ed25519 signature.
func verifyItem(it *Item) *Error {
	if len(it.V) > maxValueLen {
		return &Error{Code: codeTooLarge, Msg: "data payload too large"}
	}
	if it.K == nil {
		return nil
	}
	if len(it.Salt) > maxSaltLen {
		return &Error{Code: codeSaltTooBig, Msg: "salt too big"}
	}
	if it.Sig == nil || !bep44.Verify(it.K[:], it.Salt, it.Seq, it.V, it.Sig[:]) {
		return &Error{Code: codeInvalidSig, Msg: "invalid signature"}
	}
	return nil
}

// checkReplace applies the BEP44 sequence rules of a mutable put over a
// stored item: a CAS that does not name the stored seq is 301, a seq not
// above the stored one is 302, except re-putting the identical item, which
// BEP44 treats as a refresh.
func checkReplace(stored, in *Item) *Error {
	if stored == nil || stored.K == nil {
		return nil
	}
	if in.Cas != nil && *in.Cas != stored.Seq {
		return &Error{Code: codeCasMismatch, Msg: "CAS mismatch"}
	}
	if in.Seq == stored.Seq && bytes.Equal(in.V, stored.V) {
		return nil
	}
	if in.Seq <= stored.Seq {
		return &Error{Code: codeSeqTooOld, Msg: "sequence number less than current"}
	}
	return nil
}

// valueItemOverhead is what one stored item costs beyond its value and
// salt bytes: the item with its key, signature and CAS, the list element
// and the map slot (about 330 bytes summed by size class). An upper bound,
// checked by TestValueStoreByteBudget (heap growth per item, measured at
// about 150 bytes with Go 1.26).
const valueItemOverhead = 448

// valueStore is the BEP44 item store: an LRU bounded by max items and
// maxBytes charged bytes (valueCost), with no time expiry (like
// bittorrent-dht's). Not safe for concurrent use.
type valueStore struct {
	max      int
	maxBytes int
	bytes    int
	ll       *list.List // of *storedItem, most recently used first
	m        map[Target]*list.Element
}

type storedItem struct {
	target Target
	item   Item
}

// valueCost is the bytes an item is charged against maxBytes.
func valueCost(it *Item) int { return len(it.V) + len(it.Salt) + valueItemOverhead }

func newValueStore(max, maxBytes int) *valueStore {
	return &valueStore{max: max, maxBytes: maxBytes, ll: list.New(), m: make(map[Target]*list.Element)}
}

// get returns the item at target.
func (s *valueStore) get(t Target) (Item, bool) {
	e, ok := s.m[t]
	if !ok {
		return Item{}, false
	}
	s.ll.MoveToFront(e)
	return e.Value.(*storedItem).item, true
}

// put verifies it and stores it under its target, applying the sequence
// rules over any stored mutable item.
func (s *valueStore) put(it Item) (Target, *Error) {
	if err := verifyItem(&it); err != nil {
		return Target{}, err
	}
	t := it.Target()
	if e, ok := s.m[t]; ok {
		si := e.Value.(*storedItem)
		if err := checkReplace(&si.item, &it); err != nil {
			return t, err
		}
		if valueCost(&it) > s.maxBytes {
			s.ll.Remove(e)
			delete(s.m, t)
			s.bytes -= valueCost(&si.item)
			return t, nil
		}
		s.bytes += valueCost(&it) - valueCost(&si.item)
		si.item = cloneItem(it)
		s.ll.MoveToFront(e)
		s.evictOver(0, 1)
		return t, nil
	}
	c := valueCost(&it)
	if s.max <= 0 || c > s.maxBytes {
		return t, nil
	}
	s.evictOver(c, 0)
	s.m[t] = s.ll.PushFront(&storedItem{target: t, item: cloneItem(it)})
	s.bytes += c
	return t, nil
}

// evictOver drops least recently used items until room bytes more fit in
// the budget and at most max items remain, keeping the keep most recent.
func (s *valueStore) evictOver(room, keep int) {
	for s.ll.Len() > keep && (s.ll.Len() >= s.max+keep || s.bytes+room > s.maxBytes) {
		last := s.ll.Back()
		si := last.Value.(*storedItem)
		s.ll.Remove(last)
		delete(s.m, si.target)
		s.bytes -= valueCost(&si.item)
	}
}

// len is the number of stored items.
func (s *valueStore) len() int { return s.ll.Len() }

// cloneItem copies the slices so callers cannot mutate stored items.
func cloneItem(it Item) Item {
	it.V = bytes.Clone(it.V)
	it.Salt = bytes.Clone(it.Salt)
	if it.K != nil {
		k := *it.K
		it.K = &k
	}
	if it.Sig != nil {
		s := *it.Sig
		it.Sig = &s
	}
	if it.Cas != nil {
		c := *it.Cas
		it.Cas = &c
	}
	return it
}
