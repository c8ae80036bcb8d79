package interop

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// maxNodeLookup is the budget for a typical /lookup on a Node grape in a
// healthy loopback cluster (Node answers in 1-10 ms, grenache-protocol.md
// App. C): the median of a test's Node lookups must stay under it.
//
// stallLookup flags a single lookup as a stall. A Node walk that queries a
// node which never answers waits out its KRPC timeout (four 500 ms ticks,
// observed 2.3 s), so a stall is never shorter than ~1.5 s, while a busy
// shared CI machine can delay an honest lookup by a few hundred ms. No
// lookup may reach stallLookup.
const (
	maxNodeLookup = 100 * time.Millisecond
	stallLookup   = time.Second
)

// grapeAPI is a small client of one grape's HTTP API (Node or Go) that
// records how long each /lookup took, so tests can assert "no stalls".
type grapeAPI struct {
	label string // e.g. "node1", "go1": used in failure messages
	kind  string // "node" or "go"
	url   string
	c     *http.Client

	mu      sync.Mutex
	lookups []time.Duration
}

// newGrapeAPI returns a client with keep-alive connections; t.Cleanup
// closes them so their goroutines are gone before goleak looks.
func newGrapeAPI(t testing.TB, label, kind, url string) *grapeAPI {
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	t.Cleanup(tr.CloseIdleConnections)
	return &grapeAPI{label: label, kind: kind, url: url, c: &http.Client{Timeout: 10 * time.Second, Transport: tr}}
}

// call POSTs {"data": data} to /endpoint and returns status and body.
func (g *grapeAPI) call(t testing.TB, endpoint string, data any) (int, []byte) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"data": data, "rid": "interop-" + strconv.FormatInt(time.Now().UnixNano(), 36)})
	if err != nil {
		t.Fatalf("%s: marshal %s: %v", g.label, endpoint, err)
	}
	resp, err := g.c.Post(g.url+"/"+endpoint, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s /%s: %v", g.label, endpoint, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s /%s: read body: %v", g.label, endpoint, err)
	}
	return resp.StatusCode, b
}

// announce announces name→port and returns the acknowledged count; a
// non-number reply (an error string on 200) fails the test.
func (g *grapeAPI) announce(t testing.TB, name string, port int) int {
	t.Helper()
	status, b := g.call(t, "announce", []any{name, port})
	var n int
	if err := json.Unmarshal(b, &n); status != http.StatusOK || err != nil {
		t.Fatalf("%s /announce %q: status %d body %q, want a number", g.label, short(name), status, b)
	}
	return n
}

// lookup returns the peers for name and records the latency.
func (g *grapeAPI) lookup(t testing.TB, name string) []string {
	t.Helper()
	start := time.Now()
	status, b := g.call(t, "lookup", name)
	d := time.Since(start)
	g.mu.Lock()
	g.lookups = append(g.lookups, d)
	g.mu.Unlock()
	var peers []string
	if err := json.Unmarshal(b, &peers); status != http.StatusOK || err != nil || peers == nil {
		t.Fatalf("%s /lookup %q: status %d body %q, want a JSON array", g.label, short(name), status, b)
	}
	return peers
}

// put stores an immutable value and checks the returned target is
// sha1(bencode(v)) as 40 hex characters.
func (g *grapeAPI) put(t testing.TB, v string) string {
	t.Helper()
	status, b := g.call(t, "put", map[string]any{"v": v})
	var target string
	if err := json.Unmarshal(b, &target); status != http.StatusOK || err != nil {
		t.Fatalf("%s /put: status %d body %q, want a JSON string", g.label, status, b)
	}
	if want := immutableTarget(v); target != want {
		t.Fatalf("%s /put %q = %q, want sha1(bencode(v)) = %s", g.label, v, target, want)
	}
	return target
}

// getResult is the /get reply object.
type getResult struct {
	ID    string  `json:"id"`
	Token *string `json:"token"`
	V     string  `json:"v"`
}

// get fetches a value by target; found=false on the empty-body "not found".
func (g *grapeAPI) get(t testing.TB, target string) (getResult, bool) {
	t.Helper()
	status, b := g.call(t, "get", target)
	if status != http.StatusOK {
		t.Fatalf("%s /get %s: status %d body %q", g.label, target, status, b)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return getResult{}, false
	}
	var r getResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s /get %s: body %q is not a result object: %v", g.label, target, b, err)
	}
	if len(r.ID) != 40 || !isHex(r.ID) || (r.Token != nil && !isHex(*r.Token)) {
		t.Fatalf("%s /get %s: malformed id/token in %q", g.label, target, b)
	}
	return r, true
}

// lookupTimes returns a copy of the recorded /lookup latencies.
func (g *grapeAPI) lookupTimes() []time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]time.Duration(nil), g.lookups...)
}

// resetLookupTimes forgets latencies recorded so far (cluster warm-up).
func (g *grapeAPI) resetLookupTimes() {
	g.mu.Lock()
	g.lookups = nil
	g.mu.Unlock()
}

// immutableTarget is the BEP44 target of an immutable string value.
func immutableTarget(v string) string {
	sum := sha1.Sum([]byte(strconv.Itoa(len(v)) + ":" + v))
	return hex.EncodeToString(sum[:])
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// short keeps failure messages readable for 200-byte names.
func short(s string) string {
	if len(s) <= 24 {
		return s
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:16], len(s))
}

// serviceName returns a name of exactly size UTF-8 bytes starting with tag
// (one ASCII letter). Names of 20 bytes or more mix in multi-byte runes,
// since the DHT key is the raw UTF-8 bytes of the name.
func serviceName(tag byte, size int) string {
	if size <= 1 {
		return string(tag)
	}
	var b strings.Builder
	b.WriteByte(tag)
	for b.Len() < size {
		switch room := size - b.Len(); {
		case size >= 20 && room >= 3 && b.Len()%7 == 3:
			b.WriteString("✓") // 3 bytes
		case size >= 20 && room >= 2 && b.Len()%5 == 1:
			b.WriteString("é") // 2 bytes
		default:
			b.WriteByte('a' + byte(b.Len()%26))
		}
	}
	return b.String()
}
