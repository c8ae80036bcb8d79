package nodeproc

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func listenUDP(port int) (net.PacketConn, error) {
	return net.ListenPacket("udp4", "0.0.0.0:"+strconv.Itoa(port))
}

// post sends one grape API request without keep-alive and returns the
// trimmed body.
func post(t *testing.T, url, body string) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return strings.TrimSpace(string(b))
}
