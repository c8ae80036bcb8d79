package grape

import (
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sort"
	"time"
)

// The live view (GET /ui) is one self-contained page (no external URL: it
// works offline) fed by Server-Sent Events from GET /ui/events, a JSON
// snapshot every uiInterval. Both are Go-only extras like /status.
//
//go:embed ui.html
var uiPage []byte

const (
	uiInterval = 500 * time.Millisecond
	// A hostile peer store can hold tens of thousands of names: the page
	// shows the first uiMaxNames (byte order) and says how many more.
	uiMaxNames    = 200
	uiMaxPeers    = 20
	uiMaxSuspects = 100
	// uiMaxStreams bounds the open event streams: each costs one snapshot
	// (a pass over the store under the node's lock) per interval.
	uiMaxStreams = 8
)

// uiView is one event of /ui/events.
type uiView struct {
	ID            string      `json:"id"`
	DHTAddr       string      `json:"dht_addr"`
	APIAddr       string      `json:"api_addr"`
	UptimeSeconds float64     `json:"uptime_seconds"`
	RoutingNodes  int         `json:"routing_nodes"`
	Buckets       []uiBucket  `json:"buckets"`
	Suspects      []uiSuspect `json:"suspects"`
	SuspectsTotal int         `json:"suspects_total"`
	Names         []uiName    `json:"names"`
	NamesTotal    int         `json:"names_total"`
	KRPC          uiKRPC      `json:"krpc"`
}

type uiBucket struct {
	Index int      `json:"index"`
	Nodes []uiNode `json:"nodes"`
}

type uiNode struct {
	ID          string  `json:"id"`
	Addr        string  `json:"addr"`
	LastSeenAgo float64 `json:"last_seen_ago_s"`
	Suspect     bool    `json:"suspect"`
	Dead        bool    `json:"dead"`
}

type uiSuspect struct {
	Addr string  `json:"addr"`
	Ago  float64 `json:"ago_s"`
	Dead bool    `json:"dead"`
}

type uiName struct {
	Name       string     `json:"name"`
	Peers      []uiPeerAt `json:"peers"`
	PeersTotal int        `json:"peers_total"`
}

type uiPeerAt struct {
	Addr      string  `json:"addr"`
	ExpiresIn float64 `json:"expires_in_s"` // -1: never
}

// uiKRPC gives per-second rates over the last interval (per query name)
// and the totals since start.
type uiKRPC struct {
	SentPerSec     map[string]float64 `json:"sent_per_s"`
	RecvPerSec     map[string]float64 `json:"recv_per_s"`
	TimeoutsPerSec float64            `json:"timeouts_per_s"`
	Timeouts       uint64             `json:"timeouts"`
	Sent           uint64             `json:"sent"`
	Recv           uint64             `json:"recv"`
}

func (g *Grape) serveUIPage(w http.ResponseWriter, _ *http.Request) {
	g.metrics.observe("ui", outcomeOK, 0)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The page loads nothing from anywhere: say so to the browser too.
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(uiPage)
}

// serveUIEvents streams uiView snapshots until the client goes or the
// grape shuts down.
func (g *Grape) serveUIEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	if g.uiStreams.Add(1) > uiMaxStreams {
		g.uiStreams.Add(-1)
		g.metrics.observe("ui_events", "busy", 0)
		http.Error(w, "too many live views open (at most 8)", http.StatusServiceUnavailable)
		return
	}
	defer g.uiStreams.Add(-1)
	g.metrics.observe("ui_events", outcomeOK, 0)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	tick := time.NewTicker(uiInterval)
	defer tick.Stop()
	var prev uiCounters
	for {
		v, cur := g.uiSnapshot(prev)
		prev = cur
		b, err := json.Marshal(v)
		if err != nil {
			return
		}
		if _, err := w.Write(append(append([]byte("data: "), b...), '\n', '\n')); err != nil {
			return
		}
		fl.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-g.uiStop:
			return
		case <-tick.C:
		}
	}
}

// uiCounters are the previous event's counters, for rates.
type uiCounters struct {
	at         time.Time
	sent, recv map[string]uint64
	timeouts   uint64
}

func (g *Grape) uiSnapshot(prev uiCounters) (uiView, uiCounters) {
	now := g.now()
	st := g.node.Stats()
	sn := g.node.Snapshot(uiMaxNames, uiMaxPeers, uiMaxSuspects)
	v := uiView{
		ID: hex.EncodeToString(st.ID[:]), DHTAddr: g.node.Addr().String(), APIAddr: g.ln.Addr().String(),
		UptimeSeconds: now.Sub(g.started).Round(time.Millisecond).Seconds(),
		RoutingNodes:  st.RoutingNodes, SuspectsTotal: sn.SuspectsTotal, NamesTotal: sn.NamesTotal,
		Buckets: []uiBucket{}, Suspects: []uiSuspect{}, Names: []uiName{},
	}
	ago := func(t time.Time) float64 { return sn.At.Sub(t).Round(time.Millisecond).Seconds() }
	for _, b := range sn.Buckets {
		ub := uiBucket{Index: b.Index, Nodes: make([]uiNode, 0, len(b.Nodes))}
		for _, n := range b.Nodes {
			ub.Nodes = append(ub.Nodes, uiNode{ID: hex.EncodeToString(n.ID[:]), Addr: n.Addr.String(),
				LastSeenAgo: ago(n.LastSeen), Suspect: n.Suspect, Dead: n.Dead})
		}
		v.Buckets = append(v.Buckets, ub)
	}
	for _, s := range sn.Suspects {
		v.Suspects = append(v.Suspects, uiSuspect{Addr: s.Addr.String(), Ago: ago(s.At), Dead: s.Dead})
	}
	for _, n := range sn.Names {
		un := uiName{Name: n.Name, PeersTotal: n.PeersTotal, Peers: make([]uiPeerAt, 0, len(n.Peers))}
		for _, p := range n.Peers {
			in := -1.0
			if !p.Expires.IsZero() {
				in = p.Expires.Sub(sn.At).Round(time.Second).Seconds()
			}
			un.Peers = append(un.Peers, uiPeerAt{Addr: p.Addr.String(), ExpiresIn: in})
		}
		v.Names = append(v.Names, un)
	}
	cur := uiCounters{at: now, sent: st.QueriesSent, recv: st.QueriesRecv, timeouts: st.QueryTimeouts}
	dt := now.Sub(prev.at).Seconds()
	v.KRPC = uiKRPC{SentPerSec: rates(cur.sent, prev.sent, dt), RecvPerSec: rates(cur.recv, prev.recv, dt),
		Timeouts: st.QueryTimeouts, Sent: total(cur.sent), Recv: total(cur.recv)}
	if prev.at.IsZero() || dt <= 0 {
		dt = 0
	}
	if dt > 0 {
		v.KRPC.TimeoutsPerSec = float64(cur.timeouts-prev.timeouts) / dt
	}
	return v, cur
}

// rates turns two counter maps (query names: a fixed, known set) into
// per-second rates; none on the first event.
func rates(cur, prev map[string]uint64, dt float64) map[string]float64 {
	out := make(map[string]float64, len(cur))
	names := make([]string, 0, len(cur))
	for k := range cur {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if prev == nil || dt <= 0 {
			out[k] = 0
			continue
		}
		out[k] = float64(cur[k]-prev[k]) / dt
	}
	return out
}

func total(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}
