package grape

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawDo sends one raw HTTP/1.1 request on conn and reads the response, so
// the exact headers are visible (no client-side normalisation).
func rawDo(t *testing.T, br *bufio.Reader, conn net.Conn, method, target, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: x\r\n", method, target)
	for _, h := range hdr {
		b.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(data)
}

// TestNodeAnswers checks every malformed and quirky request of the protocol
// notes (§2.1, B.6) against Node's exact status and body, on one keep-alive
// connection, with a valid lookup after each to prove the grape still serves.
func TestNodeAnswers(t *testing.T) {
	g, node := startFake(t, nil)
	if _, err := callAPI(g, "announce", `["rpc_test",1337]`); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 1000)
	cases := []struct {
		name, method, target, body string
		status                     int
		want                       string
		hdr                        []string
	}{
		{"unknown path", "POST", "/unregister", `{"data":"rpc_test"}`, 200, `"ERR_REQ_NOTFOUND"`, nil},
		{"root", "POST", "/", `{"data":"rpc_test"}`, 200, `"ERR_REQ_NOTFOUND"`, nil},
		{"garbage", "POST", "/lookup", `garbage`, 500, `ERR_GRAPE_PAYLOAD_INVALID`, nil},
		{"empty body", "POST", "/lookup", ``, 500, `ERR_GRAPE_PAYLOAD_INVALID`, nil},
		{"garbage unknown path", "POST", "/nope", `{`, 500, `ERR_GRAPE_PAYLOAD_INVALID`, nil},
		{"two values", "POST", "/lookup", `{} {}`, 500, `ERR_GRAPE_PAYLOAD_INVALID`, nil},
		{"null", "POST", "/lookup", `null`, 500, `Cannot read properties of null (reading 'data')`, nil},
		{"null unknown path", "POST", "/unregister", `null`, 500, `Cannot read properties of null (reading 'data')`, nil},
		{"lookup number", "POST", "/lookup", `{"data":123}`, 200, `"ERR_GRAPE_LOOKUP"`, nil},
		{"lookup missing", "POST", "/lookup", `{"rid":"x"}`, 200, `"ERR_GRAPE_LOOKUP"`, nil},
		{"lookup empty", "POST", "/lookup", `{"data":""}`, 200, `"ERR_GRAPE_LOOKUP"`, nil},
		{"lookup top-level number", "POST", "/lookup", `42`, 200, `"ERR_GRAPE_LOOKUP"`, nil},
		{"announce string", "POST", "/announce", `{"data":"rpc_test"}`, 200, `"ERR_GRAPE_ANNOUNCE"`, nil},
		{"announce string port", "POST", "/announce", `{"data":["rpc_test","1337"]}`, 200, `"ERR_GRAPE_SERVICE_PORT"`, nil},
		{"announce float port", "POST", "/announce", `{"data":["rpc_test",13.5]}`, 200, `"ERR_GRAPE_SERVICE_PORT"`, nil},
		{"announce null name", "POST", "/announce", `{"data":[null,1337]}`, 500, "The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received null", nil},
		{"announce number name", "POST", "/announce", `{"data":[123,1337]}`, 500, "The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received type number (123)", nil},
		{"unannounce string", "POST", "/unannounce", `{"data":"rpc_test"}`, 200, `"ERR_GRAPE_UNANNOUNCE"`, nil},
		{"unannounce missing", "POST", "/unannounce", `{"rid":"x"}`, 200, `"ERR_GRAPE_UNANNOUNCE"`, nil},
		{"unannounce no port", "POST", "/unannounce", `{"data":["rpc_test"]}`, 200, `"ERR_GRAPE_SERVICE_PORT"`, nil},
		{"unannounce string port", "POST", "/unannounce", `{"data":["rpc_test","1337"]}`, 200, `"ERR_GRAPE_SERVICE_PORT"`, nil},
		{"unannounce float port", "POST", "/unannounce", `{"data":["rpc_test",13.5]}`, 200, `"ERR_GRAPE_SERVICE_PORT"`, nil},
		{"unannounce port too big", "POST", "/unannounce", `{"data":["rpc_test",70000]}`, 200, `"ERR_GRAPE_SERVICE_PORT"`, nil},
		{"unannounce negative port", "POST", "/unannounce", `{"data":["rpc_test",-1]}`, 200, `"ERR_GRAPE_SERVICE_PORT"`, nil},
		{"unannounce null name", "POST", "/unannounce", `{"data":[null,1337]}`, 500, "The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received null", nil},
		{"unannounce other port", "POST", "/unannounce", `{"data":["rpc_test",1338]}`, 200, `0`, nil},
		{"announce port too big", "POST", "/announce", `{"data":["x",70000]}`, 200, `"All queries failed"`, nil},
		{"GET lookup with body", "GET", "/lookup", `{"data":"rpc_test"}`, 200, `["127.0.0.1:1337"]`, nil},
		{"query string", "POST", "/lookup?x=1", `{"data":"rpc_test"}`, 200, `"ERR_REQ_NOTFOUND"`, nil},
		{"capital", "POST", "/Lookup", `{"data":"rpc_test"}`, 200, `["127.0.0.1:1337"]`, nil},
		{"all caps", "POST", "/LOOKUP", `{"data":"rpc_test"}`, 200, `"ERR_REQ_NOTFOUND"`, nil},
		{"dash prefix", "PUT", "/-lookup", `{"data":"rpc_test"}`, 200, `["127.0.0.1:1337"]`, nil},
		{"trailing slash", "POST", "/lookup/", `{"data":"rpc_test"}`, 200, `"ERR_REQ_NOTFOUND"`, nil},
		{"no rid, data first", "POST", "/lookup", `{"data":"rpc_test"}`, 200, `["127.0.0.1:1337"]`, nil},
		{"form content type", "POST", "/lookup", `{"rid":"r","data":"rpc_test"}`, 200, `["127.0.0.1:1337"]`, []string{"Content-Type: application/x-www-form-urlencoded"}},
		{"DELETE method", "DELETE", "/lookup", `{"data":"rpc_test"}`, 200, `["127.0.0.1:1337"]`, nil},
		{"lookup unknown", "POST", "/lookup", `{"data":"nobody"}`, 200, `[]`, nil},
		{"put no v", "POST", "/put", `{"data":{"x":1}}`, 200, `"opts.v not given"`, nil},
		{"put long v", "POST", "/put", `{"data":{"v":"` + long + `"}}`, 200, `"v must be less than 1000 bytes in put()"`, nil},
		{"put no data", "POST", "/put", `{"rid":"x"}`, 500, `Cannot read properties of undefined (reading 'k')`, nil},
		{"put null data", "POST", "/put", `{"data":null}`, 500, `Cannot read properties of null (reading 'k')`, nil},
		{"put number data", "POST", "/put", `{"data":5}`, 200, `"opts.v not given"`, nil},
		{"put null v", "POST", "/put", `{"data":{"v":null}}`, 200, `"Cannot read properties of null (reading 'length')"`, nil},
		{"put string data", "POST", "/put", `{"data":"hello world"}`, 200, `"6d33adc2b6b2c14c3036feefb7fedbca1a880527"`, nil},
		{"put", "POST", "/put", `{"data":{"v":"hello world"}}`, 200, `"6d33adc2b6b2c14c3036feefb7fedbca1a880527"`, nil},
		{"mutable short k", "POST", "/put", `{"data":{"v":"x","k":"abcd","sig":"00","seq":1}}`, 200, `"opts.k ed25519 public key must be 32 bytes"`, nil},
		{"mutable no sig", "POST", "/put", `{"data":{"v":"x","k":"` + strings.Repeat("ab", 32) + `","seq":1}}`, 200, `"opts.sign function or options.sig signature is required for mutable put"`, nil},
		{"mutable no seq", "POST", "/put", `{"data":{"v":"x","k":"` + strings.Repeat("ab", 32) + `","sig":"` + strings.Repeat("cd", 64) + `"}}`, 200, `"opts.seq not provided for a mutable update"`, nil},
		{"mutable bad cas", "POST", "/put", `{"data":{"v":"x","k":"` + strings.Repeat("ab", 32) + `","sig":"00","seq":1,"cas":"1"}}`, 200, `"opts.cas must be an integer if provided"`, nil},
		{"get", "POST", "/get", `{"data":"6d33adc2b6b2c14c3036feefb7fedbca1a880527"}`, 200, `{"id":"abcd000000000000000000000000000000000000","token":null,"v":"hello world"}`, nil},
		{"get object", "POST", "/get", `{"data":{"hash":"6d33adc2b6b2c14c3036feefb7fedbca1a880527","salt":""}}`, 200, `{"id":"abcd000000000000000000000000000000000000","token":null,"v":"hello world"}`, nil},
		{"get unknown", "POST", "/get", `{"data":"` + strings.Repeat("00", 20) + `"}`, 200, ``, nil},
		{"get bad hex", "POST", "/get", `{"data":"zz"}`, 200, ``, nil},
		{"get no data", "POST", "/get", `{}`, 500, `Cannot read properties of undefined (reading 'salt')`, nil},
		{"get number hash", "POST", "/get", `{"data":{"hash":5}}`, 200, `"ERR_GRAPE_GENERIC"`, nil},
		{"too large", "POST", "/lookup", `{"data":"` + strings.Repeat("x", 9000) + `"}`, 413, `ERR_GRAPE_PAYLOAD_SIZE`, nil},
		{"POST metrics is Node's", "POST", "/metrics", `{"data":1}`, 200, `"ERR_REQ_NOTFOUND"`, nil},
	}
	conn, err := net.Dial("tcp", g.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	for _, c := range cases {
		resp, body := rawDo(t, br, conn, c.method, c.target, c.body, c.hdr...)
		if resp.StatusCode != c.status || body != c.want {
			t.Errorf("%s: got %d %q, want %d %q", c.name, resp.StatusCode, body, c.status, c.want)
		}
		checkNodeHeaders(t, c.name, resp, len(body))
		if resp.Close {
			t.Errorf("%s: connection closed; Node keeps it alive", c.name)
			conn.Close()
			if conn, err = net.Dial("tcp", g.ln.Addr().String()); err != nil {
				t.Fatal(err)
			}
			br = bufio.NewReader(conn)
		}
		resp, body = rawDo(t, br, conn, "POST", "/lookup", `{"data":"rpc_test"}`)
		if resp.StatusCode != 200 || body != `["127.0.0.1:1337"]` {
			t.Fatalf("after %s: lookup answered %d %q", c.name, resp.StatusCode, body)
		}
	}
	if want := []int{1337}; fmt.Sprint(node.announced) != fmt.Sprint(want) {
		t.Errorf("announced ports %v, want %v", node.announced, want)
	}
}

func checkNodeHeaders(t *testing.T, name string, resp *http.Response, n int) {
	t.Helper()
	if _, ok := resp.Header["Content-Type"]; ok {
		t.Errorf("%s: has Content-Type %q; Node sends none", name, resp.Header.Get("Content-Type"))
	}
	if resp.ContentLength != int64(n) {
		t.Errorf("%s: Content-Length %d, body %d", name, resp.ContentLength, n)
	}
	if resp.Header.Get("Date") == "" {
		t.Errorf("%s: no Date header", name)
	}
	if !resp.Close && (resp.Header.Get("Connection") != "keep-alive" || resp.Header.Get("Keep-Alive") != "timeout=5") {
		t.Errorf("%s: Connection %q Keep-Alive %q", name, resp.Header.Get("Connection"), resp.Header.Get("Keep-Alive"))
	}
}

// callAPI posts {"data": data} and returns the body of any reply.
func callAPI(g *Grape, endpoint, data string) (string, error) {
	resp, err := http.Post(g.APIURL()+"/"+endpoint, "application/json", strings.NewReader(`{"rid":"t","data":`+data+`}`))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
