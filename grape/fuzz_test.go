package grape

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// FuzzAPIBody feeds arbitrary targets and bodies to the API handler (over a
// fake DHT) and checks that every answer is one a Node grape could give:
// 200 with a JSON body or an empty one, 413 ERR_GRAPE_PAYLOAD_SIZE, or 500
// with one of Node's raw texts; never a Content-Type, never a panic. The
// seed corpus in testdata/fuzz/FuzzAPIBody runs with every `go test`.
func FuzzAPIBody(f *testing.F) {
	for _, s := range [][2]string{
		{"/lookup", `{"data":"svc"}`},
		{"/announce", `{"data":["svc",1337]}`},
		{"/announce", `{"data":["svc",0]}`},
		{"/put", `{"data":{"v":"hello world"}}`},
		{"/get", `{"data":"6d33adc2b6b2c14c3036feefb7fedbca1a880527"}`},
		{"/get", `{"data":{"hash":"6d33adc2b6b2c14c3036feefb7fedbca1a880527","salt":"s"}}`},
		{"/put", `{"data":{"v":"x","k":"` + strings.Repeat("ab", 32) + `","sig":"` + strings.Repeat("cd", 64) + `","seq":1,"salt":"s","cas":0}}`},
		{"/lookup", `null`},
		{"/x", `[]`},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	cfg := DefaultConfig()
	cfg.Bind = "127.0.0.1"
	cfg.APIPort = 0
	cfg.MaxPayloadSize = 512
	g, err := newGrape(cfg, newFakeNode())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = g.Close() })
	h := g.srv.Handler
	f.Fuzz(func(t *testing.T, target string, body []byte) {
		// The handler sees the raw request target, whatever bytes it holds.
		req := httptest.NewRequest(http.MethodPost, "http://x/", bytes.NewReader(body))
		req.RequestURI = target
		req.URL.Path = target
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		got := rec.Body.Bytes()
		if ct := res.Header.Get("Content-Type"); ct != "" {
			t.Fatalf("Content-Type %q for %q %q", ct, target, body)
		}
		if cl := res.Header.Get("Content-Length"); cl != strconv.Itoa(len(got)) {
			t.Fatalf("Content-Length %q for body of %d", cl, len(got))
		}
		switch res.StatusCode {
		case 200:
			if len(got) > 0 && !json.Valid(got) {
				t.Fatalf("200 with non-JSON %q for %q %q", got, target, body)
			}
		case 413:
			if string(got) != "ERR_GRAPE_PAYLOAD_SIZE" || len(body) <= 512 {
				t.Fatalf("413 %q for a %d-byte body", got, len(body))
			}
		case 500:
			s := string(got)
			if s != "ERR_GRAPE_PAYLOAD_INVALID" && !strings.HasPrefix(s, "Cannot read properties of ") &&
				!strings.HasPrefix(s, "The first argument must be of type string") {
				t.Fatalf("500 %q for %q %q", s, target, body)
			}
		default:
			t.Fatalf("status %d for %q %q", res.StatusCode, target, body)
		}
	})
}
