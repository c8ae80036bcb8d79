package gossip

import (
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// fakeClock is the injected clock of the pure tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.UnixMilli(1_800_000_000_000)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testConfig is DefaultConfig validated, with our own origin fixed.
func testConfig(t testing.TB) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Enabled = true
	cfg.Origin = "self"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// msg builds a valid message from origin with seq, sent at clk's now.
func msg(clk *fakeClock, origin string, seq uint64, hints ...Hint) *Message {
	if hints == nil {
		hints = []Hint{}
	}
	return &Message{Version: SchemaVersion, Origin: origin, Seq: seq, Sent: clk.Now().UnixMilli(), Hints: hints}
}

// enc encodes m without bounds, failing the test on error.
func enc(t testing.TB, m *Message) []byte {
	t.Helper()
	b, err := Encode(m, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func deg(peer string, conf float64) Hint { return Hint{Peer: peer, State: Degraded, Conf: conf} }
func ok(peer string, conf float64) Hint  { return Hint{Peer: peer, State: Healthy, Conf: conf} }
