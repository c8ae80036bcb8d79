package gossip

import (
	"errors"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/pkg/transport"
)

// Attach builds the client that gossips through g, from cfg over r: g is
// its hint source (cfg.Hints; the adaptive strategy weighs the hints against
// the client's own outcomes, other strategies ignore them), and what g
// publishes is read from the new client's own metrics of g's service
// (Client.Stats), so gossip keeps no second record of the peers. The hooks
// in cfg are left as they are. One Gossiper serves one client and one
// service; start it with Run before or after Attach.
func Attach(g *Gossiper, r transport.Resolver, cfg client.Config) (*client.Client, error) {
	if cfg.Hints != nil {
		return nil, errors.New("gossip: Attach: the client config already has a hint source (Config.Hints)")
	}
	if g.metrics.Load() != nil {
		return nil, errAttached
	}
	cfg.Hints = g
	c, err := client.New(r, cfg)
	if err != nil {
		return nil, err
	}
	if !g.observe(func() []client.PeerStats { return c.Stats(g.service) }) {
		_ = c.Close()
		return nil, errAttached
	}
	return c, nil
}

var errAttached = errors.New("gossip: Attach: this gossiper already serves a client")
