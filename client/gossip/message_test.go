package gossip

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestMessageRoundTrip(t *testing.T) {
	clk := newClock()
	in := msg(clk, "a-1", 7, deg("127.0.0.1:1337", 0.83), Hint{Peer: "[::1]:80", State: Healthy, Conf: 1, AgeMS: 1200})
	b := enc(t, in)
	want := `{"v":1,"origin":"a-1","seq":7,"sent":1800000000000,"hints":[{"peer":"127.0.0.1:1337","state":"degraded","conf":0.83,"age_ms":0},{"peer":"[::1]:80","state":"healthy","conf":1,"age_ms":1200}]}`
	if string(b) != want {
		t.Fatalf("wire form\n got %s\nwant %s", b, want)
	}
	out, err := Decode(b, 4096, 10)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(*out) != fmt.Sprint(*in) {
		t.Fatalf("round trip: got %+v want %+v", *out, *in)
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	good := `{"v":1,"origin":"o","seq":1,"sent":1,"hints":[%s]}`
	h := func(s string) string { return fmt.Sprintf(good, s) }
	cases := []struct{ name, frame string }{
		{"empty frame", ``},
		{"not JSON", `hello`},
		{"JSON array", `[1,2]`},
		{"Node PeerPub example payload", `{"n":3,"hint":"gossip"}`},
		{"future schema version", `{"v":2,"origin":"o","seq":1,"sent":1,"hints":[]}`},
		{"version missing", `{"origin":"o","seq":1,"sent":1,"hints":[]}`},
		{"origin missing", `{"v":1,"seq":1,"sent":1,"hints":[]}`},
		{"origin with space", `{"v":1,"origin":"a b","seq":1,"sent":1,"hints":[]}`},
		{"origin with newline", `{"v":1,"origin":"a\nb","seq":1,"sent":1,"hints":[]}`},
		{"origin too long", `{"v":1,"origin":"` + strings.Repeat("x", 65) + `","seq":1,"sent":1,"hints":[]}`},
		{"seq zero", `{"v":1,"origin":"o","seq":0,"sent":1,"hints":[]}`},
		{"seq beyond 2^53", `{"v":1,"origin":"o","seq":9007199254740992,"sent":1,"hints":[]}`},
		{"seq negative", `{"v":1,"origin":"o","seq":-1,"sent":1,"hints":[]}`},
		{"seq fractional", `{"v":1,"origin":"o","seq":1.5,"sent":1,"hints":[]}`},
		{"sent zero", `{"v":1,"origin":"o","seq":1,"sent":0,"hints":[]}`},
		{"hints missing", `{"v":1,"origin":"o","seq":1,"sent":1}`},
		{"hints null", `{"v":1,"origin":"o","seq":1,"sent":1,"hints":null}`},
		{"unknown top-level field", `{"v":1,"origin":"o","seq":1,"sent":1,"hints":[],"x":1}`},
		{"trailing data", `{"v":1,"origin":"o","seq":1,"sent":1,"hints":[]} {}`},
		{"key without sig", `{"v":1,"origin":"o","seq":1,"sent":1,"hints":[],"key":"AAAA"}`},
		{"unknown hint field", h(`{"peer":"1.2.3.4:5","state":"healthy","conf":1,"age_ms":0,"x":1}`)},
		{"bad state", h(`{"peer":"1.2.3.4:5","state":"dead","conf":1,"age_ms":0}`)},
		{"conf above 1", h(`{"peer":"1.2.3.4:5","state":"healthy","conf":1.5,"age_ms":0}`)},
		{"conf negative", h(`{"peer":"1.2.3.4:5","state":"healthy","conf":-0.1,"age_ms":0}`)},
		{"conf with 4 decimals", h(`{"peer":"1.2.3.4:5","state":"healthy","conf":0.1234,"age_ms":0}`)},
		{"age negative", h(`{"peer":"1.2.3.4:5","state":"healthy","conf":1,"age_ms":-1}`)},
		{"age beyond a day", h(`{"peer":"1.2.3.4:5","state":"healthy","conf":1,"age_ms":86400001}`)},
		{"peer without port", h(`{"peer":"1.2.3.4","state":"healthy","conf":1,"age_ms":0}`)},
		{"peer port 0", h(`{"peer":"1.2.3.4:0","state":"healthy","conf":1,"age_ms":0}`)},
		{"peer port 65536", h(`{"peer":"1.2.3.4:65536","state":"healthy","conf":1,"age_ms":0}`)},
		{"peer port with leading zero", h(`{"peer":"1.2.3.4:080","state":"healthy","conf":1,"age_ms":0}`)},
		{"peer host with space", h(`{"peer":"a b:80","state":"healthy","conf":1,"age_ms":0}`)},
		{"peer too long", h(`{"peer":"` + strings.Repeat("a", 62) + `:80","state":"healthy","conf":1,"age_ms":0}`)},
		{"same peer twice", h(`{"peer":"1.2.3.4:5","state":"healthy","conf":1,"age_ms":0},{"peer":"1.2.3.4:5","state":"degraded","conf":1,"age_ms":0}`)},
		{"more hints than allowed", h(`{"peer":"1.2.3.4:5","state":"healthy","conf":1,"age_ms":0},{"peer":"1.2.3.4:6","state":"healthy","conf":1,"age_ms":0},{"peer":"1.2.3.4:7","state":"healthy","conf":1,"age_ms":0}`)},
		{"oversized frame", `{"v":1,"origin":"o","seq":1,"sent":1,"hints":[]}` + strings.Repeat(" ", 1000)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode([]byte(c.frame), 1000, 2)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode(%q) = %v, want ErrMalformed", c.frame, err)
			}
		})
	}
}

func TestEncodeRefusesInvalidMessages(t *testing.T) {
	clk := newClock()
	bad := []*Message{
		{Version: SchemaVersion, Origin: "o", Seq: 1, Sent: 1}, // nil hints
		msg(clk, "", 1), // empty origin
		msg(clk, "o", 1, Hint{Peer: "1.2.3.4:5", State: Degraded, Conf: 0.0001}),        // conf precision
		msg(clk, "o", 1, Hint{Peer: "1.2.3.4:5", State: "DEGRADED", Conf: 1}),           // case matters
		msg(clk, "o", 1, deg("1.2.3.4:5", 1), deg("1.2.3.4:6", 1), deg("1.2.3.4:7", 1)), // > maxHints
	}
	for i, m := range bad {
		if _, err := Encode(m, 0, 2); !errors.Is(err, ErrMalformed) {
			t.Errorf("case %d: Encode = %v, want ErrMalformed", i, err)
		}
	}
	if _, err := Encode(msg(clk, "o", 1, deg("1.2.3.4:5", 1)), 20, 2); !errors.Is(err, ErrMalformed) {
		t.Errorf("Encode over maxBytes = %v, want ErrMalformed", err)
	}
}

// The default limits must hold a full message of worst-case peers, signed,
// and a realistic message about hundreds of peers must stay small.
func TestSizeBounds(t *testing.T) {
	cfg := testConfig(t)
	cfg.Origin = strings.Repeat("o", maxOriginLen)
	key, _ := ParsePrivateKey(strings.Repeat("01", 32))
	cfg.SigningKey = key
	clk := newClock()
	var worst []Hint
	for i := range cfg.MaxPeers {
		host := fmt.Sprintf("[fd00:aaaa:bbbb:cccc:dddd:eeee:%04x:%04x]", i, i) // 43 chars
		worst = append(worst, Hint{Peer: host + ":65535", State: Degraded, Conf: 0.999, AgeMS: maxAgeMS})
	}
	b, err := NewComposer(cfg).Compose(clk.Now(), worst)
	if err != nil {
		t.Fatalf("worst-case message of %d hints does not fit %d bytes: %v", cfg.MaxPeers, cfg.MaxFrameBytes(), err)
	}
	t.Logf("worst case: %d hints, %d bytes (limit %d)", len(worst), len(b), cfg.MaxFrameBytes())

	var typical []Hint
	for i := range 300 {
		typical = append(typical, Hint{Peer: fmt.Sprintf("10.0.%d.%d:%d", i/250, i%250, 20000+i), State: Healthy, Conf: 0.87, AgeMS: 1234})
	}
	b, err = NewComposer(cfg).Compose(clk.Now(), typical)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 24*1024 {
		t.Fatalf("300 typical hints take %d bytes, want <= 24 KiB", len(b))
	}
	t.Logf("typical: 300 hints, %d bytes (%.0f bytes/hint)", len(b), float64(len(b))/300)
}
