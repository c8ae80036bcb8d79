// Command call-service calls examples/echo-service through the adaptive client: it looks
// the service up through a grape, picks a peer, retries elsewhere on failure, and prints
// the result of {"action": "upper", "args": [text]}.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/pkg/link"
	"github.com/grenache-go/grenache/worker"
)

func main() {
	grape := flag.String("grape", worker.DefaultGrape, "grape HTTP API URL")
	text := flag.String("text", "hello", "text to send")
	flag.Parse()

	lcfg := link.DefaultConfig()
	lcfg.Grapes = []string{*grape}
	lk, err := link.New(lcfg)
	if err != nil {
		log.Fatal(err)
	}
	defer lk.Close()
	c, err := client.New(lk, client.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.Request(ctx, "example:echo", map[string]any{"action": "upper", "args": []string{*text}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(res))
}
