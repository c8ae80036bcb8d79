package interop

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/grenache-go/grenache/worker"
)

// Matrix item 3: Node PeerRPCClient (request, map, gzip) calling Go workers, plus raw requests.

func TestRPCNodeClientCallsGoWorkers(t *testing.T) {
	t.Parallel()
	grape := rpcNodeGrape(t)
	const svc = "rpc_go_worker"
	w1 := rpcStartWorker(t, grape, svc, nil)
	w2 := rpcStartWorker(t, grape, svc, nil)
	rpcWaitVisible(t, grape, svc, w1.Addr(), w2.Addr())

	hashABC := `"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"`
	res := rpcRunNodeClient(t, grape, svc, "http", []rpcOp{
		{Op: "request", Payload: "hello"},
		{Op: "request", Payload: map[string]any{"job": "echo", "a": []int{1, 2}, "s": "x"}},
		{Op: "request", Payload: map[string]any{"job": "hash", "data": "abc"}, Compress: true},
		{Op: "request", Payload: map[string]any{"job": "sleep", "ms": 30}, Compress: true},
		{Op: "map", Payload: map[string]any{"job": "hash", "data": "abc"}},
		{Op: "map", Payload: "both", Compress: true},
		{Op: "request", Payload: map[string]any{"job": "sleep", "ms": -1}},
		{Op: "request", Payload: map[string]any{"job": "hash", "data": 5}, Compress: true},
		{Op: "request", Payload: map[string]any{"k": strings.Repeat("z", 20000)}, Compress: true},
		{Op: "request", Payload: "concurrent", Repeat: 50},
	})
	rpcExpectOK(t, "request hello", res[0], `"hello"`)
	rpcExpectOK(t, "request echo", res[1], `{"job":"echo","a":[1,2],"s":"x"}`)
	rpcExpectOK(t, "request hash gzip", res[2], hashABC)
	rpcExpectOK(t, "request sleep gzip", res[3], `{"slept_ms":30}`)
	rpcExpectOK(t, "map hash (2 workers)", res[4], "["+hashABC+","+hashABC+"]")
	rpcExpectOK(t, "map gzip (2 workers)", res[5], `["both","both"]`)
	if e := res[6].rpcErr(); !strings.Contains(e, `ERR_INVALID_JOB: sleep: "ms" must be an integer`) {
		t.Errorf("invalid sleep: err %q", e)
	}
	if e := res[7].rpcErr(); !strings.Contains(e, `ERR_INVALID_JOB: hash: "data" must be a string`) {
		t.Errorf("invalid hash (gzip): err %q", e)
	}
	rpcExpectOK(t, "large gzip echo", res[8], `{"k":"`+strings.Repeat("z", 20000)+`"}`)
	var many []string
	if res[9].Err != nil || json.Unmarshal(res[9].Res, &many) != nil || len(many) != 50 || many[49] != "concurrent" {
		t.Errorf("50 concurrent requests: err %v res %.80s", res[9].Err, res[9].Res)
	}
}

func TestRPCNodeClientSeesInjectedFaults(t *testing.T) {
	t.Parallel()
	grape := rpcNodeGrape(t)
	errW := rpcStartWorker(t, grape, "rpc_fault_error", func(c *worker.Config) { c.Faults.ErrorRate = 1 })
	holdW := rpcStartWorker(t, grape, "rpc_fault_hold", func(c *worker.Config) { c.Faults.TimeoutRate = 1 })
	rpcWaitVisible(t, grape, "rpc_fault_error", errW.Addr())
	rpcWaitVisible(t, grape, "rpc_fault_hold", holdW.Addr())

	r := rpcRunNodeClient(t, grape, "rpc_fault_error", "http", []rpcOp{{Op: "request", Payload: "x"}})
	if r[0].rpcErr() != worker.ErrMsgInjected {
		t.Errorf("error fault: got err %q res %s", r[0].rpcErr(), r[0].Res)
	}
	r = rpcRunNodeClient(t, grape, "rpc_fault_hold", "http", []rpcOp{{Op: "request", Payload: "x", Timeout: 300}})
	// Node reports its own client timeout: the worker never answered.
	if e := r[0].rpcErr(); !strings.Contains(e, "timeout") || r[0].Ms < 290 {
		t.Errorf("timeout fault: err %q after %d ms", e, r[0].Ms)
	}
}

// TestRPCRawRequestsToGoWorker: what a Node PeerRPCServer accepts on the wire, a Go worker
// accepts too (and it answers garbage, which Node does not).
func TestRPCRawRequestsToGoWorker(t *testing.T) {
	t.Parallel()
	grape := rpcNodeGrape(t)
	w := rpcStartWorker(t, grape, "rpc_raw", nil)
	cases := []struct {
		name string
		body []byte
		hdr  map[string]string
		want string
	}{
		{"plain triple", []byte(`["rid-x","rpc_raw","hello"]`), nil, `["rid-x",null,"hello"]`},
		{"_gr header wins", []byte(`["body-rid","body-key","hello"]`), map[string]string{"_gr": `["hdr-rid","hdr-key"]`}, `["hdr-rid",null,"hello"]`},
		{"short triple", []byte(`["rid-z"]`), nil, `["rid-z",null,null]`},
		{"job error", []byte(`["rid-e","k",{"job":"hash"}]`), nil, `["rid-e","ERR_INVALID_JOB: hash: missing \"data\" (string)",null]`},
	}
	for _, c := range cases {
		st, b, err := rpcRawPost(t, w.Addr(), c.body, c.hdr)
		if err != nil || st != 200 || string(b) != c.want {
			t.Errorf("%s: %d %s %v, want 200 %s", c.name, st, b, err, c.want)
		}
	}
	// An unparseable _gr: Node's exact 500 body.
	st, b, err := rpcRawPost(t, w.Addr(), []byte(`["a","b","c"]`), map[string]string{"_gr": "notjson"})
	if err != nil || st != 500 || string(b) != `[null, "ERR_HEADER_PARSE_GR", null]` {
		t.Errorf("bad _gr: %d %s %v", st, b, err)
	}
	// Garbage gets an answer (Node never answers it), with an error token.
	st, b, err = rpcRawPost(t, w.Addr(), []byte(`not json`), nil)
	if err != nil || st == 0 || !strings.Contains(string(b), "ERR_") {
		t.Errorf("garbage: %d %s %v, want an answer carrying an error token", st, b, err)
	}
	// gzip request → gzip reply, inferred from the request only.
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = zw.Write([]byte(`["rid-g","k",{"job":"echo","z":1}]`))
	_ = zw.Close()
	st, b, err = rpcRawPost(t, w.Addr(), zb.Bytes(), map[string]string{"grc-compress": "gzip"})
	if err != nil || st != 200 {
		t.Fatalf("gzip: %d %v", st, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gzip reply not gzip: %q", b)
	}
	plain, _ := io.ReadAll(zr)
	if string(plain) != `["rid-g",null,{"job":"echo","z":1}]` {
		t.Errorf("gzip reply: %s", plain)
	}
}
