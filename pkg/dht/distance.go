package dht

import "bytes"

// Distance follows k-bucket as bittorrent-dht uses it: XOR over the common
// prefix of the two byte strings, and every byte by which they differ in
// length counts as 0xff. Keys are raw service names of any length (even 0),
// so node ids (20 bytes) are routinely compared against shorter or longer
// keys. Comparing these distances lexicographically picks the same closest
// nodes as Node's float fold, minus its rounding ties.

// cmpDistance reports whether a is closer to key than b (-1), as close (0),
// or farther (+1). a and b are node ids; only the first min(len(key), 20)
// bytes can differ, the rest are 0xff for both.
func cmpDistance(key []byte, a, b *NodeID) int {
	n := min(len(key), len(a))
	for i := 0; i < n; i++ {
		da, db := a[i]^key[i], b[i]^key[i]
		if da != db {
			if da < db {
				return -1
			}
			return 1
		}
	}
	return 0
}

// cmpCloser orders nodes for "closest first": by distance to key, and
// equally distant nodes by id. Ties are common (a key shorter than 20 bytes
// leaves the rest of every id at 0xff; the empty key makes all nodes equally
// far); Node breaks them by arrival order, which differs from node to node,
// so an announce and a lookup could pick disjoint "closest" sets. Breaking
// them by id makes every Go node pick the same ones.
func cmpCloser(key []byte, a, b *NodeID) int {
	if c := cmpDistance(key, a, b); c != 0 {
		return c
	}
	return bytes.Compare(a[:], b[:])
}

// distance returns the XOR distance of two byte strings of any length, with
// missing bytes as 0xff; the result has the length of the longer one.
func distance(a, b []byte) []byte {
	n, m := len(a), len(b)
	if n < m {
		n, m = m, n
	}
	d := make([]byte, n)
	for i := range d {
		if i < m {
			d[i] = a[i] ^ b[i]
		} else {
			d[i] = 0xff
		}
	}
	return d
}

// bucketIndex is the number of leading bits id shares with self (0..160);
// 160 only for self itself. The routing table keeps one k-bucket per index,
// which is the tree k-bucket builds by splitting only its own side.
func bucketIndex(self, id *NodeID) int {
	for i := range self {
		x := self[i] ^ id[i]
		if x != 0 {
			for b := 0; b < 8; b++ {
				if x&(0x80>>b) != 0 {
					return i*8 + b
				}
			}
		}
	}
	return len(self) * 8
}
