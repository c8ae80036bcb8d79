package client

import (
	"crypto/tls"

	"github.com/grenache-go/grenache/pkg/transport"
)

// The wires Config.Transport names.
const (
	TransportHTTP  = "http"  // Grenache HTTP RPC, Node's grenache-nodejs-http
	TransportHTTPS = "https" // the same over TLS, Node's `secure` option (mutual TLS with a client certificate)
	TransportWS    = "ws"    // Grenache WebSocket RPC, Node's grenache-nodejs-ws
	TransportWSS   = "wss"   // the same over TLS
)

// transportNames is the allowed list, as errors and help print it.
const transportNames = "http|https|ws|wss"

func (c Config) validateTransport() error {
	switch c.Transport {
	case "", TransportHTTP, TransportWS:
		if c.TLS != nil && c.Caller == nil {
			return &ConfigError{Config: configName, Field: "TLS", Value: "set with Transport " + c.Transport,
				Allowed: "only with Transport https or wss"}
		}
	case TransportHTTPS, TransportWSS:
	default:
		return &ConfigError{Config: configName, Field: "Transport", Value: c.Transport, Allowed: transportNames}
	}
	for name, cl := range c.Callers {
		if cl == nil {
			return &ConfigError{Config: configName, Field: "Callers", Value: name + ": nil", Allowed: "a non-nil transport.Caller per service"}
		}
	}
	return nil
}

// newCaller builds the Caller cfg.Transport names, and how to close it.
func newCaller(cfg Config) (transport.Caller, func()) {
	tc := cfg.TLS
	switch cfg.Transport {
	case TransportWS, TransportWSS:
		if cfg.Transport == TransportWSS && tc == nil {
			tc = defaultTLS()
		}
		ws := transport.NewWSClient(transport.WSClientConfig{Timeout: cfg.RequestTimeout, TLS: tc})
		return ws, func() { _ = ws.Close() }
	default:
		if cfg.Transport == TransportHTTPS && tc == nil {
			tc = defaultTLS()
		}
		hc := transport.NewHTTPClient(transport.HTTPClientConfig{Timeout: cfg.RequestTimeout, TLS: tc})
		return hc, hc.Close
	}
}

// callerFor is the Caller of one service: its Callers override, if any.
func (c *Client) callerFor(service string) transport.Caller {
	if len(c.cfg.Callers) == 0 {
		return c.wire // the common case: no map lookup
	}
	if w, ok := c.cfg.Callers[service]; ok {
		return w
	}
	return c.wire
}

// defaultTLS is the client side of TLS with the system roots.
func defaultTLS() *tls.Config { return &tls.Config{MinVersion: tls.VersionTLS12} }
