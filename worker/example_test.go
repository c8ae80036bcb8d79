package worker_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/grenache-go/grenache/worker"
)

type greetReq struct {
	Name string `json:"name"`
}

// A service in a few lines: a typed function behind an action mux, announced as "greeter"
// through the grape at cfg.Grapes, served until SIGTERM, then drained.
func ExampleServe() {
	mux := worker.NewMux()
	mux.Handle("greet", worker.Func(func(_ context.Context, r greetReq) (string, error) {
		return "hello " + r.Name, nil
	}))
	cfg := worker.DefaultConfig()
	cfg.Service = "greeter"
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := worker.Serve(ctx, cfg, mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Func decodes the payload into the request type and answers decode errors itself.
func ExampleFunc() {
	h := worker.Func(func(_ context.Context, r greetReq) (string, error) { return "hi " + r.Name, nil })
	res, _ := h.ServeGrenache(context.Background(), &worker.Request{Payload: []byte(`{"name":"ada"}`)})
	_, err := h.ServeGrenache(context.Background(), &worker.Request{Payload: []byte(`[1]`)})
	fmt.Println(res)
	fmt.Println(err)
	// Output:
	// hi ada
	// ERR_BAD_REQUEST: json: cannot unmarshal array into Go value of type worker_test.greetReq
}

// A Mux answers unknown actions with an error naming them.
func ExampleMux() {
	mux := worker.NewMux()
	mux.HandleFunc("ping", func(context.Context, *worker.Request) (any, error) { return "pong", nil })
	res, _ := mux.ServeGrenache(context.Background(), &worker.Request{Payload: []byte(`{"action":"ping","args":[]}`)})
	_, err := mux.ServeGrenache(context.Background(), &worker.Request{Payload: []byte(`{"action":"pong","args":[]}`)})
	fmt.Println(res)
	fmt.Println(err)
	// Output:
	// pong
	// ERR_UNKNOWN_ACTION: "pong" (known: ping)
}
