package transport

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawPost sends a hand-made request so the test sees exactly the bytes a
// foreign client would, with no help from our own HTTPClient.
func rawPost(t *testing.T, method, url string, body []byte, hdr map[string]string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = []string{v} // verbatim key, e.g. "_gr"
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out, resp.Header
}

func TestWireSuccessAndHandlerError(t *testing.T) {
	addr, _ := startHTTPServer(t, testHandler)
	st, body, hdr := rawPost(t, "POST", "http://"+addr+"/", []byte(`["0426862e-eca1-4c85-b2d1-10d3013e25ef","rpc_test","hello"]`), nil)
	if st != 200 || string(body) != `["0426862e-eca1-4c85-b2d1-10d3013e25ef",null,"world"]` {
		t.Fatalf("success: %d %s", st, body)
	}
	if hdr.Get("Content-Length") != "53" || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("reply headers %v", hdr)
	}
	// A large reply is framed with an explicit length too.
	big := `"` + strings.Repeat("y", 5000) + `"`
	st, body, hdr = rawPost(t, "POST", "http://"+addr+"/", []byte(`["r","k",`+big+`]`), nil)
	if st != 200 || len(body) != 5000+2+len(`["r",null,]`) || hdr.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Fatalf("large reply: %d len %d headers %v", st, len(body), hdr)
	}
	st, body, _ = rawPost(t, "POST", "http://"+addr+"/", []byte(`["r2","rpc_test",{"fail":true}]`), nil)
	if st != 200 || string(body) != `["r2","ERR_SOMETHING_FAILED",null]` {
		t.Fatalf("handler error: %d %s", st, body)
	}
}

func TestWireAnyPathAndMethod(t *testing.T) {
	addr, _ := startHTTPServer(t, testHandler)
	for _, c := range []struct{ method, path, rid string }{
		{"POST", "/any/path?q=1", "rid-x"},
		{"GET", "/", "rid-y"},
		{"PUT", "/ws", "rid-w"},
	} {
		st, body, _ := rawPost(t, c.method, "http://"+addr+c.path, []byte(`["`+c.rid+`","rpc_test","hello"]`), nil)
		if want := `["` + c.rid + `",null,"world"]`; st != 200 || string(body) != want {
			t.Errorf("%s %s: %d %s, want %s", c.method, c.path, st, body, want)
		}
	}
}

func TestWireGarbageBodyGetsAnAnswer(t *testing.T) {
	addr, _ := startHTTPServer(t, testHandler)
	for _, b := range []string{"not json", "", `{"a":1}`, `"str"`, `[1,2`} {
		st, body, _ := rawPost(t, "POST", "http://"+addr+"/", []byte(b), nil)
		if st != 400 || string(body) != `[null,"ERR_REQUEST_PARSE",null]` {
			t.Errorf("body %q: %d %s", b, st, body)
		}
	}
}

func TestWireShortArraysAndOddRIDs(t *testing.T) {
	addr, _ := startHTTPServer(t, testHandler)
	cases := map[string]string{
		`["rid-z"]`:                          `["rid-z",null,null]`,
		`[]`:                                 `[null,null,null]`,
		`[42,"k","hello"]`:                   `[42,null,"world"]`,
		` [ "a\"b" , "k" , {"x":[1,"]"]} ] `: `["a\"b",null,{"x":[1,"]"]}]`,
		`["r","k",{"a":1},"extra"]`:          `["r",null,{"a":1}]`,
	}
	for in, want := range cases {
		st, body, _ := rawPost(t, "POST", "http://"+addr+"/", []byte(in), nil)
		if st != 200 || string(body) != want {
			t.Errorf("%s: %d %s, want %s", in, st, body, want)
		}
	}
}

func TestWireGRHeaderTakesPrecedence(t *testing.T) {
	keys := make(chan string, 1)
	addr, _ := startHTTPServer(t, func(ctx context.Context, key string, p json.RawMessage) (any, error) {
		keys <- key
		return testHandler(ctx, key, p)
	})
	st, body, _ := rawPost(t, "POST", "http://"+addr+"/", []byte(`["body-rid","body-key","hello"]`),
		map[string]string{"_gr": `["hdr-rid","hdr-key"]`})
	if gotKey := <-keys; st != 200 || string(body) != `["hdr-rid",null,"world"]` || gotKey != "hdr-key" {
		t.Fatalf("_gr: %d %s key %q", st, body, gotKey)
	}
}

func TestWireBadGRHeaderIs500Literal(t *testing.T) {
	addr, _ := startHTTPServer(t, testHandler)
	for _, v := range []string{"notjson", `{"a":1}`} {
		st, body, hdr := rawPost(t, "POST", "http://"+addr+"/", []byte(`["r","k","hello"]`), map[string]string{"_gr": v})
		if st != 500 || string(body) != `[null, "ERR_HEADER_PARSE_GR", null]` || hdr.Get("Content-Length") != "35" {
			t.Errorf("_gr %q: %d %q len %s", v, st, body, hdr.Get("Content-Length"))
		}
	}
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func gunz(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("reply not gzip: %v (%q)", err, b)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWireGzipBothWays(t *testing.T) {
	addr, _ := startHTTPServer(t, testHandler)
	req := []byte(`["rg","rpc_test",{"echo":{"a":1,"s":"x"}}]`)
	st, body, _ := rawPost(t, "POST", "http://"+addr+"/", gz(t, req), map[string]string{"grc-compress": "gzip"})
	if st != 200 {
		t.Fatalf("status %d", st)
	}
	if got := string(gunz(t, body)); got != `["rg",null,{"echo":{"a":1,"s":"x"}}]` {
		t.Fatalf("gzip reply %s", got)
	}
	// "none" (what Node sends uncompressed) gives a plain reply.
	st, body, _ = rawPost(t, "POST", "http://"+addr+"/", []byte(`["rn","k","hello"]`), map[string]string{"grc-compress": "none"})
	if st != 200 || string(body) != `["rn",null,"world"]` {
		t.Fatalf("none: %d %s", st, body)
	}
	// Marked gzip but not gzip: Node falls back to the raw body; so do we,
	// and the reply is still gzipped because the request said so.
	st, body, _ = rawPost(t, "POST", "http://"+addr+"/", []byte(`["rf","k","hello"]`), map[string]string{"grc-compress": "gzip"})
	if st != 200 || string(gunz(t, body)) != `["rf",null,"world"]` {
		t.Fatalf("fallback: %d %q", st, body)
	}
}

func TestWireBodyLimit(t *testing.T) {
	addr, _ := startHTTPServerWith(t, testHandler, HTTPServerConfig{MaxBodyBytes: 64})
	big := `["r","k","` + strings.Repeat("x", 100) + `"]`
	st, body, _ := rawPost(t, "POST", "http://"+addr+"/", []byte(big), nil)
	if st != 413 || string(body) != `[null,"ERR_REQUEST_TOO_LARGE",null]` {
		t.Fatalf("plain: %d %s", st, body)
	}
	// A small gzip body that inflates past the limit is refused too.
	st, body, _ = rawPost(t, "POST", "http://"+addr+"/", gz(t, []byte(big)), map[string]string{"grc-compress": "gzip"})
	if st != 413 || string(gunz(t, body)) != `[null,"ERR_REQUEST_TOO_LARGE",null]` {
		t.Fatalf("gzip bomb: %d %q", st, body)
	}
}

func TestWireHandlerPanicAnswered(t *testing.T) {
	addr, _ := startHTTPServer(t, testHandler)
	st, body, _ := rawPost(t, "POST", "http://"+addr+"/", []byte(`["rp","k",{"panic":true}]`), nil)
	if st != 200 || string(body) != `["rp","ERR_HANDLER_PANIC",null]` {
		t.Fatalf("panic: %d %s", st, body)
	}
}

func TestServerReadTimeoutCutsTricklingPeer(t *testing.T) {
	addr, _ := startHTTPServerWith(t, testHandler, HTTPServerConfig{ReadTimeout: 100 * time.Millisecond})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Promise a body and never send it.
	_, _ = conn.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[\"r\""))
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 512)
	start := time.Now()
	for {
		if _, err := conn.Read(buf); err != nil {
			break // closed (or answered and closed) by the server
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("connection held %v", d)
	}
}

// A handler may keep its payload after returning: later requests must not
// overwrite it through a reused buffer.
func TestHandlerOwnsPayload(t *testing.T) {
	kept := make(chan json.RawMessage, 64)
	addr, _ := startHTTPServer(t, func(_ context.Context, _ string, p json.RawMessage) (any, error) {
		kept <- p
		return nil, nil
	})
	for i := range 50 {
		body := fmt.Sprintf(`["r","k",{"i":%d,"pad":"%s"}]`, i, strings.Repeat("z", i))
		if st, _, _ := rawPost(t, "POST", "http://"+addr+"/", []byte(body), nil); st != 200 {
			t.Fatalf("status %d", st)
		}
	}
	close(kept)
	i := 0
	for p := range kept {
		if want := fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("z", i)); string(p) != want {
			t.Fatalf("payload %d changed after the call: %s", i, p)
		}
		i++
	}
}
