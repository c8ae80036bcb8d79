package grape_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape"
	"github.com/grenache-go/grenache/grape/grapetest"
)

// Announce on one real Go grape, look up on another, for names of 1, 8, 20
// and 200 bytes (the DHT key is the raw name, of any length).
func TestAnnounceLookupAcrossGrapes(t *testing.T) {
	gs := grapetest.Cluster(t, 3)
	for i, n := range []int{1, 8, 20, 200} {
		name := strings.Repeat(string(rune('a'+i)), n)
		port := 1000 + i
		body, err := grapetest.Call(gs[0].APIURL(), "announce", fmt.Sprintf(`[%q,%d]`, name, port))
		if err != nil {
			t.Fatalf("announce %d-byte name: %v", n, err)
		}
		var acked int
		if err := json.Unmarshal([]byte(body), &acked); err != nil || acked < 1 {
			t.Fatalf("announce %d-byte name answered %q", n, body)
		}
		for _, g := range gs[1:] {
			body, err := grapetest.Call(g.APIURL(), "lookup", fmt.Sprintf("%q", name))
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf(`["127.0.0.1:%d"]`, port); body != want {
				t.Errorf("lookup of %d-byte name on %s: %s, want %s", n, g.APIURL(), body, want)
			}
		}
	}
	if body, _ := grapetest.Call(gs[2].APIURL(), "lookup", `"nobody-announced-this"`); body != "[]" {
		t.Errorf("unknown name: %s", body)
	}
}

func TestPutGetAcrossGrapes(t *testing.T) {
	gs := grapetest.Cluster(t, 3)
	body, err := grapetest.Call(gs[0].APIURL(), "put", `{"v":"hello world"}`)
	if err != nil || body != `"6d33adc2b6b2c14c3036feefb7fedbca1a880527"` {
		t.Fatalf("put answered %q %v", body, err)
	}
	for _, g := range gs {
		body, err := grapetest.Call(g.APIURL(), "get", `"6d33adc2b6b2c14c3036feefb7fedbca1a880527"`)
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			ID    string  `json:"id"`
			Token *string `json:"token"`
			V     string  `json:"v"`
		}
		if err := json.Unmarshal([]byte(body), &res); err != nil || res.V != "hello world" || len(res.ID) != 40 {
			t.Errorf("get on %s: %q %v", g.APIURL(), body, err)
		}
		if !strings.HasPrefix(body, `{"id":"`) {
			t.Errorf("key order differs from Node: %s", body)
		}
	}
	body, err = grapetest.Call(gs[1].APIURL(), "get", `{"hash":"`+strings.Repeat("00", 20)+`"}`)
	if err != nil || body != "" {
		t.Errorf("get of unknown target: %q %v", body, err)
	}
}

// Port 0 announces the grape's own DHT port.
func TestAnnouncePortZero(t *testing.T) {
	gs := grapetest.Cluster(t, 2)
	if _, err := grapetest.Call(gs[0].APIURL(), "announce", `["zero_port_svc",0]`); err != nil {
		t.Fatal(err)
	}
	body, _ := grapetest.Call(gs[1].APIURL(), "lookup", `"zero_port_svc"`)
	if want := fmt.Sprintf(`["127.0.0.1:%d"]`, gs[0].DHTAddr().Port()); body != want {
		t.Errorf("lookup %s, want %s", body, want)
	}
}

// A lone grape with -b and a dead bootstrap cannot announce into the DHT,
// but stores its own announcement and answers lookups with it (§3.8).
func TestBindSelfStore(t *testing.T) {
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.LocalAddr().String()
	dead.Close()
	cfg := grape.DefaultConfig()
	cfg.DHTHost, cfg.DHTPort, cfg.APIPort = "127.0.0.1", 0, 0
	cfg.Bind = "127.0.0.1"
	cfg.Bootstrap = []string{deadAddr}
	cfg.QueryTimeout = 200 * time.Millisecond
	g, err := grape.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	body, err := grapetest.Call(g.APIURL(), "announce", `["self_svc",4242]`)
	if err != nil || (body != `"No nodes to query"` && body != `"All queries failed"`) {
		t.Errorf("announce with no reachable node: %q %v", body, err)
	}
	body, _ = grapetest.Call(g.APIURL(), "lookup", `"self_svc"`)
	if body != `["127.0.0.1:4242"]` {
		t.Errorf("self-stored lookup: %s", body)
	}
}

// A signed (mutable) put with salt through one Go grape is readable on
// another with the same salt; Go grapes verify ed25519, unlike Node 1.0.0.
func TestMutablePutGet(t *testing.T) {
	gs := grapetest.Cluster(t, 2)
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	salt, v := "mysalt", "mutable hello"
	msg := fmt.Sprintf("4:salt%d:%s3:seqi1e1:v%d:%s", len(salt), salt, len(v), v)
	sig := ed25519.Sign(priv, []byte(msg))
	data := fmt.Sprintf(`{"v":%q,"k":%q,"sig":%q,"seq":1,"salt":%q}`, v, hex.EncodeToString(pub), hex.EncodeToString(sig), salt)
	body, err := grapetest.Call(gs[0].APIURL(), "put", data)
	sum := sha1.Sum(append(append([]byte{}, pub...), salt...))
	target := hex.EncodeToString(sum[:])
	if err != nil || body != `"`+target+`"` {
		t.Fatalf("mutable put answered %q %v, want target %s", body, err, target)
	}
	body, err = grapetest.Call(gs[1].APIURL(), "get", fmt.Sprintf(`{"hash":%q,"salt":%q}`, target, salt))
	var res map[string]any
	if err != nil || json.Unmarshal([]byte(body), &res) != nil {
		t.Fatalf("get answered %q %v", body, err)
	}
	if res["v"] != v || res["k"] != hex.EncodeToString(pub) || res["sig"] != hex.EncodeToString(sig) || res["seq"] != 1.0 {
		t.Errorf("get answered %s", body)
	}
}

// With peer max age M an announcement made once disappears from lookups on
// another grape between 2M/3 and 2M (DHT store 2M/3..4M/3, plus the
// seen-peers memory M/3..2M/3), as with Node grapes (protocol §2.6).
func TestAnnouncementExpires(t *testing.T) {
	const m = 900 * time.Millisecond
	gs := grapetest.Cluster(t, 2, grapetest.WithPeerMaxAge(m))
	start := time.Now()
	if body, err := grapetest.Call(gs[0].APIURL(), "announce", `["short_lived",4321]`); err != nil || body == "0" {
		t.Fatalf("announce: %q %v", body, err)
	}
	var gone time.Duration
	for time.Since(start) < 2*m+3*time.Second {
		body, err := grapetest.Call(gs[1].APIURL(), "lookup", `"short_lived"`)
		if err != nil {
			t.Fatal(err)
		}
		if body == "[]" {
			gone = time.Since(start)
			break
		}
		if body != `["127.0.0.1:4321"]` {
			t.Fatalf("lookup answered %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if gone == 0 {
		t.Fatalf("still visible %v after the announce (max age %v)", time.Since(start), m)
	}
	if gone < 2*m/3 {
		t.Errorf("gone after %v, before 2M/3 = %v", gone, 2*m/3)
	}
	t.Logf("visible for %v with max age %v", gone, m)
}
