package dht

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"slices"

	"github.com/grenache-go/grenache/pkg/bep44"
)

// Put stores a BEP44 item in our own value store and then on the closest
// nodes (a get walk for tokens, or the cached table, then put). It returns
// the target once at least one node accepted; otherwise an error, although
// the item stays stored locally (as in Node).
func (n *Node) Put(ctx context.Context, item Item) (Target, error) {
	if len(item.V) >= maxValueLen {
		return Target{}, errors.New("v must be less than 1000 bytes in put()")
	}
	if item.K != nil && item.Sig == nil {
		return Target{}, errors.New("dht: mutable put needs sig")
	}
	n.mu.Lock()
	target, kerr := n.values.put(item)
	n.mu.Unlock()
	if kerr != nil {
		return target, kerr
	}
	tg := string(target[:])
	getArgs := func() *args { return &args{Target: strPtr(tg)} }
	putArgs := func(tok []byte) *args {
		a := &args{Token: strPtr(string(tok)), V: bencodeString(item.V)}
		if item.K != nil {
			a.K, a.Sig, a.Seq = strPtr(string(item.K[:])), strPtr(string(item.Sig[:])), i64Ptr(item.Seq)
			a.Cas = item.Cas
			if len(item.Salt) > 0 {
				a.Salt = strPtr(string(item.Salt))
			}
		}
		return a
	}
	for attempt := 0; ; attempt++ {
		nodes, cached, err := n.tableFor(ctx, target[:], "get", getArgs, "put", putArgs)
		if err != nil && len(nodes) == 0 {
			if errors.Is(err, ErrNoNodes) || ctx.Err() != nil {
				return target, err
			}
			return target, ErrNoNodes
		}
		acked, err := n.storeRound(ctx, nodes, "put", putArgs)
		if acked == 0 && cached && attempt == 0 && ctx.Err() == nil {
			n.mu.Lock()
			n.tables.drop(target[:])
			n.mu.Unlock()
			continue
		}
		if acked == 0 {
			return target, err
		}
		return target, nil
	}
}

// Get finds the BEP44 item at target: from our own value store first
// (Local, From = our id, no token), else by a get walk. An immutable reply
// wins at once if sha1(bencode(v)) is the target; mutable replies must
// match sha1(k ‖ salt) and carry a valid signature, and the walk goes on to
// return the highest seq seen (a node may hold an older version). ok is
// false when nobody had it; err is ErrNoNodes when nobody could be asked.
func (n *Node) Get(ctx context.Context, target Target, salt []byte) (GetResult, bool, error) {
	n.mu.Lock()
	it, found := n.values.get(target)
	n.mu.Unlock()
	if found {
		return GetResult{From: n.id, Local: true, Item: cloneItem(it)}, true, nil
	}
	var res GetResult
	tg := string(target[:])
	rs, err := n.walk(ctx, walkSpec{
		q: "get", key: target[:],
		args: func() *args { return &args{Target: strPtr(tg)} },
		onReply: func(from contact, r *reply) bool {
			it, ok := itemFromReply(r, target, salt)
			if !ok || (found && it.Seq <= res.Item.Seq) {
				return false
			}
			res = GetResult{From: from.ID, Item: it}
			if r.Token != nil {
				res.Token = []byte(*r.Token)
			}
			found = true
			return it.K == nil
		},
		// Until an item is found, the walk waits for slow nodes.
		found: func() bool { return found },
	})
	if len(rs) > 0 {
		n.cacheTable(target[:], rs)
	}
	if found {
		return res, true, nil
	}
	return GetResult{}, false, err
}

// itemFromReply checks a get reply's item against the target.
func itemFromReply(r *reply, target Target, salt []byte) (Item, bool) {
	if r.V == nil {
		return Item{}, false
	}
	v, ok := unbencodeString(r.V)
	if !ok {
		return Item{}, false
	}
	if r.K == nil {
		return Item{V: v}, sha1.Sum(r.V) == target && bytes.Equal(bencodeString(v), r.V)
	}
	if len(*r.K) != 32 || r.Sig == nil || len(*r.Sig) != 64 || r.Seq == nil {
		return Item{}, false
	}
	var k [32]byte
	var sig [64]byte
	copy(k[:], *r.K)
	copy(sig[:], *r.Sig)
	it := Item{V: v, K: &k, Sig: &sig, Seq: *r.Seq, Salt: slices.Clone(salt)}
	if MutableTarget(&k, salt) != target || !bep44.Verify(k[:], salt, it.Seq, v, sig[:]) {
		return Item{}, false
	}
	return it, true
}
