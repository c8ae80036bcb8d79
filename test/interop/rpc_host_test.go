package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/grenache-go/grenache/worker"
)

// Issue 10, point 5: Node PeerRPCClients (HTTP and WS) call services built on the Go service
// host: an {action, args} Mux of typed handlers, and the --forward sidecar in front of a
// Python HTTP service.

// rpcStartHost runs worker.NewService(cfg, h) announcing service to grapeURL until the test ends.
func rpcStartHost(t *testing.T, grapeURL, service string, h worker.Handler) *worker.Worker {
	t.Helper()
	cfg := worker.DefaultConfig()
	cfg.Service = service
	cfg.Bind, cfg.Port = "127.0.0.1", 0
	cfg.Grapes = []string{grapeURL}
	cfg.AnnounceInterval = 500 * time.Millisecond
	cfg.DrainGrace = 0
	cfg.ShutdownGrace = 2 * time.Second
	cfg.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
	w, err := worker.NewService(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	return runWorker(t, w, "host "+service)
}

type hostUserReq struct {
	ID int `json:"id"`
}

func TestRPCNodeClientsCallGoServiceHost(t *testing.T) {
	t.Parallel()
	grape := rpcNodeGrape(t)
	const svc = "rpc_go_host"
	mux := worker.NewMux()
	mux.Handle("getUser", worker.Func(func(_ context.Context, r hostUserReq) (map[string]any, error) {
		if r.ID == 0 {
			return nil, errors.New("ERR_NO_SUCH_USER")
		}
		return map[string]any{"id": r.ID, "name": "ada"}, nil
	}))
	w := rpcStartHost(t, grape, svc, mux)
	rpcWaitVisible(t, grape, svc, w.Addr())

	ops := []rpcOp{
		{Op: "request", Payload: map[string]any{"action": "getUser", "args": []any{map[string]int{"id": 7}}}},
		{Op: "request", Payload: map[string]any{"action": "getUser", "args": []any{map[string]int{"id": 0}}}},
		{Op: "request", Payload: map[string]any{"action": "getUser", "args": []any{map[string]string{"id": "x"}}}},
		{Op: "request", Payload: map[string]any{"action": "nope", "args": []any{}}},
		{Op: "request", Payload: map[string]any{"action": "getUser", "args": []any{map[string]int{"id": 1}}}, Repeat: 30},
	}
	for _, kind := range []string{"http", "ws"} {
		res := rpcRunNodeClient(t, grape, svc, kind, ops)
		rpcExpectOK(t, kind+" getUser", res[0], `{"id":7,"name":"ada"}`)
		if e := res[1].rpcErr(); e != "ERR_NO_SUCH_USER" {
			t.Errorf("%s handler error: %q", kind, e)
		}
		if e := res[2].rpcErr(); !strings.HasPrefix(e, "ERR_BAD_REQUEST: json: cannot unmarshal string") {
			t.Errorf("%s decode error: %q", kind, e)
		}
		if e := res[3].rpcErr(); e != `ERR_UNKNOWN_ACTION: "nope" (known: getUser)` {
			t.Errorf("%s unknown action: %q", kind, e)
		}
		if res[4].Err != nil || strings.Count(string(res[4].Res), `"ada"`) != 30 {
			t.Errorf("%s 30 concurrent: err %q res %.100s", kind, res[4].rpcErr(), res[4].Res)
		}
	}
}

func TestRPCNodeClientCallsThroughSidecar(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: the sidecar test needs a backend in another language")
	}
	cmd := exec.Command(py, "../../worker/testdata/backend.py")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	port, ok := strings.CutPrefix(strings.TrimSpace(line), "PORT ")
	if err != nil || !ok {
		t.Fatalf("backend.py printed %q (%v)", line, err)
	}
	backend := "http://127.0.0.1:" + port

	fc := worker.DefaultForwardConfig()
	fc.URL = backend + "/rpc"
	fc.ActionPath = true
	f, err := worker.NewForward(fc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	grape := rpcNodeGrape(t)
	const svc = "rpc_py_sidecar"
	w := rpcStartHost(t, grape, svc, f)
	rpcWaitVisible(t, grape, svc, w.Addr())

	for _, kind := range []string{"http", "ws"} {
		res := rpcRunNodeClient(t, grape, svc, kind, []rpcOp{
			{Op: "request", Payload: map[string]any{"action": "getUser", "args": []int{7}}},
			{Op: "request", Payload: map[string]any{"args": []int{7}}},
			{Op: "request", Payload: map[string]any{"action": "x", "args": []int{7}}, Repeat: 20},
		})
		var got struct {
			Path    string          `json:"path"`
			Got     json.RawMessage `json:"got"`
			Service string          `json:"service"`
		}
		if res[0].Err != nil || json.Unmarshal(res[0].Res, &got) != nil || got.Path != "/rpc/getUser" || got.Service != svc ||
			!rpcJSONEqual(got.Got, []byte(`{"action":"getUser","args":[7]}`)) {
			t.Errorf("%s through the sidecar: err %q res %s", kind, res[0].rpcErr(), res[0].Res)
		}
		if e := res[1].rpcErr(); !strings.HasPrefix(e, "ERR_BAD_REQUEST: forwarding by action needs") {
			t.Errorf("%s payload without action: %q", kind, e)
		}
		if res[2].Err != nil || strings.Count(string(res[2].Res), `/rpc/x`) != 20 {
			t.Errorf("%s 20 concurrent: err %q res %.100s", kind, res[2].rpcErr(), res[2].Res)
		}
	}
}
