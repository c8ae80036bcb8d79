package grape

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// router serves the operator extras on GET only and hands everything else,
// whatever its method or path, to the Node-compatible handler, so a Node
// client sees no difference: chi's NotFound and MethodNotAllowed handlers are
// the Grenache API itself. chi matches the escaped path, so "/%68ealthz" is
// not /healthz and goes to the Grenache handler, which answers
// ERR_REQ_NOTFOUND as Node does.
func (g *Grape) router() http.Handler {
	metricsHandler := promhttp.HandlerFor(g.metrics.reg, promhttp.HandlerOpts{})
	r := chi.NewRouter()
	r.Get("/healthz", g.serveHealth)
	r.Get("/metrics", func(w http.ResponseWriter, r *http.Request) {
		g.metrics.observe("metrics", outcomeOK, 0)
		metricsHandler.ServeHTTP(w, r)
	})
	r.Get("/status", g.serveStatus)
	r.NotFound(g.serveGrenache)
	r.MethodNotAllowed(g.serveGrenache)
	return r
}

// serveHealth answers 200 once the DHT has finished its bootstrap walk
// (whatever its outcome, like Node's "ready"), 503 before.
func (g *Grape) serveHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	select {
	case <-g.node.Ready():
		g.metrics.observe("healthz", outcomeOK, 0)
		_, _ = w.Write([]byte("ok\n"))
	default:
		g.metrics.observe("healthz", "starting", 0)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("starting\n"))
	}
}

// Status is the JSON document GET /status returns.
type Status struct {
	ID            string   `json:"id"`
	DHTAddr       string   `json:"dht_addr"`
	APIAddr       string   `json:"api_addr"`
	Bootstrap     []string `json:"bootstrap"`
	Ready         bool     `json:"ready"`
	RoutingNodes  int      `json:"routing_nodes"`
	PeerKeys      int      `json:"peer_keys"`
	Peers         int      `json:"peers"`
	Values        int      `json:"values"`
	SeenPeers     int      `json:"seen_peers"`
	UptimeSeconds float64  `json:"uptime_seconds"`
}

// Status reports the grape's identity, addresses and store sizes.
func (g *Grape) Status() Status {
	st := g.node.Stats()
	ready := false
	select {
	case <-g.node.Ready():
		ready = true
	default:
	}
	bs := append([]string{}, g.cfg.Bootstrap...)
	return Status{
		ID:            hex.EncodeToString(st.ID[:]),
		DHTAddr:       g.node.Addr().String(),
		APIAddr:       g.ln.Addr().String(),
		Bootstrap:     bs,
		Ready:         ready,
		RoutingNodes:  st.RoutingNodes,
		PeerKeys:      st.PeerKeys,
		Peers:         st.Peers,
		Values:        st.Values,
		SeenPeers:     g.seen.Len(),
		UptimeSeconds: g.now().Sub(g.started).Round(time.Millisecond).Seconds(),
	}
}

func (g *Grape) serveStatus(w http.ResponseWriter, _ *http.Request) {
	g.metrics.observe("status", outcomeOK, 0)
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(g.Status())
}
