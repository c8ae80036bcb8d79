package dht

import (
	"bytes"
	"testing"
)

func id(b ...byte) NodeID {
	var n NodeID
	copy(n[:], b)
	return n
}

func TestDistanceUnequalLengths(t *testing.T) {
	if got := distance([]byte{0x0f}, []byte{0xf0, 0x01, 0x02}); !bytes.Equal(got, []byte{0xff, 0xff, 0xff}) {
		t.Fatalf("missing bytes must be 0xff: %x", got)
	}
	if got := distance(nil, []byte{1, 2}); !bytes.Equal(got, []byte{0xff, 0xff}) {
		t.Fatalf("empty key: %x", got)
	}
	if got := distance([]byte{1, 2}, []byte{1, 3}); !bytes.Equal(got, []byte{0, 1}) {
		t.Fatalf("equal length: %x", got)
	}
}

func TestCmpDistance(t *testing.T) {
	a, b := id(0x10, 0xff), id(0x11, 0x00)
	// Short key: only its first byte takes part, so a is closer.
	if cmpDistance([]byte{0x10}, &a, &b) != -1 || cmpDistance([]byte{0x10}, &b, &a) != 1 {
		t.Fatal("1-byte key")
	}
	// Two bytes: 0x10ff vs 0x1100 against 0x1100 → b is exact.
	if cmpDistance([]byte{0x11, 0x00}, &a, &b) != 1 {
		t.Fatal("2-byte key")
	}
	// Empty key: every node is equally far (all 0xff).
	if cmpDistance(nil, &a, &b) != 0 {
		t.Fatal("empty key")
	}
	// A key longer than 20 bytes is compared over the 20-byte prefix.
	long := make([]byte, 9000)
	long[0] = 0x11
	if cmpDistance(long, &a, &b) != 1 {
		t.Fatal("long key")
	}
	// "rpc_test" as a key: lexicographic XOR over the first 8 bytes.
	key := []byte("rpc_test")
	near, far := id('r', 'p', 'c', '_', 't', 'e', 's', 0x00), id('r', 'p', 'c', '_', 't', 'e', 's', 't'^0x80)
	// byte 7: near XORs to 0x74, far to 0x80.
	if cmpDistance(key, &near, &far) != -1 {
		t.Fatal("rpc_test key ordering")
	}
}

func TestBucketIndex(t *testing.T) {
	self := id(0x80)
	if bucketIndex(&self, &self) != 160 {
		t.Fatal("self")
	}
	o := id(0x00)
	if bucketIndex(&self, &o) != 0 {
		t.Fatal("first bit differs")
	}
	o = id(0x80, 0x01)
	if bucketIndex(&self, &o) != 15 {
		t.Fatal("bit 15")
	}
}

func TestCmpCloserBreaksTiesByID(t *testing.T) {
	a, b := id(0x10, 0x01), id(0x10, 0x02)
	if cmpDistance([]byte{0x10}, &a, &b) != 0 || cmpCloser([]byte{0x10}, &a, &b) != -1 || cmpCloser(nil, &b, &a) != 1 {
		t.Fatal("equal distance is ordered by id")
	}
	if cmpCloser([]byte{0x10, 0x02}, &a, &b) != 1 {
		t.Fatal("distance first")
	}
}
