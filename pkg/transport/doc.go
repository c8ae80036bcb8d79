// Package transport implements Grenache RPC on the wire used by
// grenache-nodejs-http and grenache-nodejs-ws: requests are the JSON triple
// [rid, key, payload], replies [rid, error|null, result].
//
// It holds the HTTP server and client (with gzip via the grc-compress
// header, TLS and mutual TLS), the WebSocket RPC server and client, and
// pub/sub over WebSocket (Publisher, Subscriber). It keeps the wire only:
// turning a service name into calls (peer choice, breakers, retries, Map)
// is package client's one request engine, which calls peers through the
// Caller interface that HTTPClient and WSClient implement.
package transport
