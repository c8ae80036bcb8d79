package ui

import (
	"time"

	"github.com/grenache-go/grenache/client"
)

// View is one event of the stream.
type View struct {
	Services      []ServiceView `json:"services"`
	ServicesTotal int           `json:"services_total"`
	Gossip        *GossipView   `json:"gossip,omitempty"`
	// Untracked counts hook events past the recorder's peer bound.
	Untracked uint64 `json:"untracked"`
}

// ServiceView is one service's peers.
type ServiceView struct {
	Name       string     `json:"name"`
	Peers      []PeerView `json:"peers"`
	PeersTotal int        `json:"peers_total"`
}

// PeerView is one peer's metrics.
type PeerView struct {
	Addr         string  `json:"addr"`
	Active       bool    `json:"active"`
	State        string  `json:"state"`
	Score        float64 `json:"score"`
	LatencyMS    float64 `json:"latency_ms"`
	InFlight     int64   `json:"in_flight"`
	ErrorRate    float64 `json:"error_rate"`
	TimeoutRate  float64 `json:"timeout_rate"`
	Attempts     uint64  `json:"attempts"`
	BreakerOpens uint64  `json:"breaker_opens"`
	// Share is the peer's share of the attempts of the last ShareWindow;
	// -1 without a Recorder.
	Share       float64          `json:"share"`
	Timeline    []TransitionView `json:"timeline"`
	Transitions int              `json:"transitions"`
}

// TransitionView is one breaker transition, AgoS seconds before the event.
type TransitionView struct {
	AgoS float64 `json:"ago_s"`
	From string  `json:"from"`
	To   string  `json:"to"`
}

// GossipView is the gossip book's counters.
type GossipView struct {
	Received uint64 `json:"received"`
	Applied  uint64 `json:"applied"`
	Dropped  uint64 `json:"dropped"`
	Rejected uint64 `json:"rejected"`
	Origins  int    `json:"origins"`
	Peers    int    `json:"peers"`
}

// Snap builds the view the stream sends: at most 50 services (sorted) of at
// most 100 peers each.
func Snap(c *client.Client, opts Options) View {
	now := time.Now()
	svcs := c.Services()
	v := View{ServicesTotal: len(svcs), Services: make([]ServiceView, 0, min(len(svcs), maxServices))}
	for _, name := range svcs[:min(len(svcs), maxServices)] {
		st := c.Stats(name)
		sv := ServiceView{Name: name, PeersTotal: len(st), Peers: make([]PeerView, 0, min(len(st), maxPeers))}
		var shares map[string]float64
		if opts.Recorder != nil {
			shares = opts.Recorder.Shares(name)
		}
		for _, p := range st[:min(len(st), maxPeers)] {
			pv := PeerView{
				Addr: p.Addr, Active: p.Active, State: p.State.String(), Score: p.Score,
				LatencyMS: float64(p.Latency) / 1e6, InFlight: p.InFlight, ErrorRate: p.ErrorRate,
				TimeoutRate: p.TimeoutRate, Attempts: p.Attempts, BreakerOpens: p.BreakerOpens,
				Share: -1, Timeline: []TransitionView{},
			}
			if opts.Recorder != nil {
				pv.Share = shares[p.Addr]
				tl, n := opts.Recorder.Timeline(name, p.Addr)
				pv.Transitions = n
				for _, t := range tl {
					pv.Timeline = append(pv.Timeline, TransitionView{AgoS: now.Sub(t.At).Seconds(), From: t.From.String(), To: t.To.String()})
				}
			}
			sv.Peers = append(sv.Peers, pv)
		}
		v.Services = append(v.Services, sv)
	}
	if opts.Recorder != nil {
		v.Untracked = opts.Recorder.Dropped()
	}
	if opts.Gossip != nil {
		g := opts.Gossip()
		v.Gossip = &GossipView{Received: g.Received, Applied: g.Applied, Dropped: g.Dropped,
			Rejected: g.Rejected, Origins: g.Origins, Peers: g.Peers}
	}
	return v
}
