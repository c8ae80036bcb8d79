package interop

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/bep44"
	"github.com/grenache-go/grenache/pkg/link"
	"github.com/grenache-go/grenache/test/nodeproc"
)

func linkFor(t *testing.T, m member) *link.Link {
	t.Helper()
	cfg := link.DefaultConfig()
	cfg.Grapes = []string{m.api.url}
	// A Node grape's /get of an item only Go grapes hold walks until its
	// queries end (2 s each, plus its verify failure): on a loaded host that
	// passed the link's 2.5 s default once. The test is about what each
	// grape answers, not how fast, so one attempt gets 15 s.
	cfg.RequestTimeout = 15 * time.Second
	l, err := link.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// TestMutableItemsInMixedCluster: in a cluster of two Go and two Node
// grapes, a signed item put through a Go grape is stored by the Go grapes
// (which verify it) and read, verified, from each of them. The Node
// grapes, which have had no ed25519 verifier since grenache-grape 0.9.12,
// keep refusing it: they do not store it (bittorrent-dht's own put is acked
// by the Go grapes only), cannot read it, and a Node-only cluster answers a
// mutable put with "All queries failed". Pinned bittorrent-dht, signing and
// verifying with its own encodeSigData, agrees with pkg/bep44 byte for byte.
// docs/protocol.md records these answers.
func TestMutableItemsInMixedCluster(t *testing.T) {
	t.Parallel()
	n1 := startNode(t, "node1", 0, nil)
	g1 := startGo(t, "go1", dhtAddrs(n1), nil)
	g2 := startGo(t, "go2", dhtAddrs(g1, n1), nil)
	n2 := startNode(t, "node2", 0, dhtAddrs(g1))
	waitConnected(t, n1, g1, g2, n2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	seed := bytes.Repeat([]byte{0x5e}, 32)
	key, err := bep44.KeyFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	pub := key.PublicKey()
	goTarget, err := linkFor(t, g1).PutMutable(ctx, key, "signed in Go", link.MutableOptions{Salt: "go", Seq: 3})
	if err != nil {
		t.Fatalf("mutable put through a Go grape: %v", err)
	}
	for _, m := range []member{g1, g2} {
		it, err := linkFor(t, m).Get(ctx, goTarget, "go")
		if err != nil || it.V != "signed in Go" || *it.Seq != 3 {
			t.Fatalf("%s: get %+v %v", m.api.label, it, err)
		}
	}
	for _, m := range []member{n1, n2} {
		if it, err := linkFor(t, m).Get(ctx, goTarget, "go"); !errors.Is(err, link.ErrNotFound) {
			t.Errorf("%s: a Node grape returned a signed item: %+v %v", m.api.label, it, err)
		}
	}

	// bittorrent-dht signs an item (its own signed bytes) and stores it
	// through the DHT, then gets the Go-signed item and verifies it.
	p := nodeproc.Start(t, "bep44/sign_put_get.js", g1.dht, hex.EncodeToString(seed), "node", "4", "signed by bittorrent-dht", goTarget, "go")
	line, err := p.WaitLine(`"k":`, 20*time.Second)
	if err != nil {
		t.Fatalf("bittorrent-dht script: %v", err)
	}
	if _, err := p.Wait(10 * time.Second); err != nil {
		t.Fatalf("bittorrent-dht script: %v", err)
	}
	var out struct {
		K, Signed, Sig, Target, PutErr, Got, GetErr string
		Acked, GotSeq                               int
	}
	if err := json.Unmarshal([]byte(line[bytes.IndexByte([]byte(line), '{'):]), &out); err != nil {
		t.Fatalf("script output %q: %v", line, err)
	}
	wantBuf := bep44.SignatureBuffer([]byte("node"), 4, []byte("signed by bittorrent-dht"))
	wantSig, _ := bep44.SignItem(key, []byte("node"), 4, []byte("signed by bittorrent-dht"))
	wantTarget := bep44.MutableTarget(&pub, []byte("node"))
	switch {
	case out.K != hex.EncodeToString(pub[:]):
		t.Fatalf("Node derived public key %s, Go %x", out.K, pub)
	case out.Signed != hex.EncodeToString(wantBuf):
		t.Fatalf("bittorrent-dht signed %s, pkg/bep44 builds %x", out.Signed, wantBuf)
	case out.Sig != hex.EncodeToString(wantSig):
		t.Fatalf("Node's signature %s, ours %x", out.Sig, wantSig)
	case out.PutErr != "" || out.Target != hex.EncodeToString(wantTarget[:]) || out.Acked < 1:
		// Acked counts the Go grapes that verified and stored it.
		t.Fatalf("bittorrent-dht put: %+v", out)
	case out.Acked > 2:
		t.Fatalf("bittorrent-dht put acked by %d nodes; only the two Go grapes should store it", out.Acked)
	case out.GetErr != "" || out.Got != "signed in Go" || out.GotSeq != 3:
		t.Fatalf("bittorrent-dht get of the Go-signed item: %+v", out)
	}
	for _, m := range []member{g1, g2} {
		it, err := linkFor(t, m).Get(ctx, out.Target, "node")
		if err != nil || it.V != "signed by bittorrent-dht" {
			t.Fatalf("%s: get of the Node-signed item: %+v %v", m.api.label, it, err)
		}
	}

	// A Node grape relays a mutable /put as it is: in a mixed cluster its
	// reply is the target because the Go grapes stored the item, while the
	// Node grapes (its own store included) hold nothing readable.
	relayed, err := linkFor(t, n1).PutMutable(ctx, key, "relayed by Node", link.MutableOptions{Salt: "relay", Seq: 1})
	if err != nil {
		t.Fatalf("mutable put through a Node grape of a mixed cluster: %v", err)
	}
	if it, err := linkFor(t, g2).Get(ctx, relayed, "relay"); err != nil || it.V != "relayed by Node" {
		t.Fatalf("go2: get of the item relayed by node1: %+v %v", it, err)
	}
	for _, m := range []member{n1, n2} {
		if it, err := linkFor(t, m).Get(ctx, relayed, "relay"); !errors.Is(err, link.ErrNotFound) {
			t.Errorf("%s: a Node grape returned a signed item: %+v %v", m.api.label, it, err)
		}
	}

	// Node grapes on their own still refuse every mutable put.
	n3 := startNode(t, "node3", 0, nil)
	n4 := startNode(t, "node4", 0, dhtAddrs(n3))
	waitConnected(t, n3, n4)
	_, std, _ := ed25519.GenerateKey(nil)
	_, err = linkFor(t, n3).PutMutable(ctx, std, "refused", link.MutableOptions{Seq: 1})
	var ge *link.GrapeError
	if !errors.As(err, &ge) || ge.Token != "All queries failed" {
		t.Fatalf("mutable put in a Node-only cluster: %v, want grape error \"All queries failed\"", err)
	}
}
