package gossip_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/client/gossip"
	"github.com/grenache-go/grenache/pkg/link"
)

// A client that shares what it sees of a service's workers with the other
// clients of the service, and weighs what they saw as a prior against its
// own outcomes. The link announces the gossip channel and finds the other
// publishers on it, as it finds the workers.
func ExampleAttach() {
	lcfg := link.DefaultConfig()
	lcfg.Grapes = []string{"http://127.0.0.1:30001"}
	lk, err := link.New(lcfg)
	if err != nil {
		log.Fatal(err)
	}
	defer lk.Close()

	gcfg := gossip.DefaultConfig()
	gcfg.Enabled = true
	g, err := gossip.New(gcfg, "rest:util", lk, lk)
	if err != nil {
		log.Fatal(err)
	}
	c, err := gossip.Attach(g, lk, client.DefaultConfig())
	if err != nil {
		_ = g.Close()
		log.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = g.Run(ctx) }() // publishes and subscribes until cancelled
	defer g.Close()                // stops Run before the client and the link close

	reply, err := c.Request(ctx, "rest:util", json.RawMessage(`{"job":"echo"}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(reply), g.Counters())
}
