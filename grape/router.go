package grape

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/grenache-go/grenache/internal/version"
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
	r.Get("/ui", g.serveUIPage)
	r.Get("/ui/events", g.serveUIEvents)
	r.NotFound(g.serveGrenache)
	r.MethodNotAllowed(g.serveGrenache)
	return connRouted(r)
}

// withConnRoute is the server's ConnContext: it gives every connection one
// chi route context, under chi's own key, for connRouted to reuse.
func withConnRoute(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, chi.RouteCtxKey, chi.NewRouteContext())
}

// connRouted serves mux with the connection's route context instead of a
// fresh one per request. chi uses a route context it finds in the request
// context (that is how a parent router hands one to a mounted sub-router);
// without one it puts a pooled one in with r.WithContext, two allocations
// per request and about a tenth of the bytes a /lookup allocates, so of
// its GC cost. An HTTP/1.x connection serves one request at a time, so the
// connection's context, reset before each request, is never shared; any
// other request (HTTP/2, or a server without withConnRoute) gets a
// context of its own.
func connRouted(mux *chi.Mux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rctx, ok := r.Context().Value(chi.RouteCtxKey).(*chi.Context)
		if !ok || r.ProtoMajor != 1 {
			rctx = chi.NewRouteContext()
			r = r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, rctx))
		}
		rctx.Reset()
		rctx.Routes = mux
		mux.ServeHTTP(w, r)
	})
}

// serveHealth answers 200 once the DHT is ready (joined, or one
// QueryTimeout without any bootstrap peer answering: Node's "ready"), 503
// before.
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
	// The build, as --version and grape_build_info report it.
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	GoVersion string `json:"go_version"`
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
	build := version.Get()
	return Status{
		Version:       build.Version,
		Revision:      build.Revision,
		GoVersion:     build.GoVersion,
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
