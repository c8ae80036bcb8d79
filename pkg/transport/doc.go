// Package transport implements Grenache RPC on the wire used by
// grenache-nodejs-http and grenache-nodejs-ws: requests are the JSON triple
// [rid, key, payload], replies [rid, error|null, result].
//
// It holds the HTTP server and client (with gzip via the grc-compress
// header, TLS and mutual TLS), the Picker/Requester layer that turns a
// service name into a call on one peer (Request) or on all of them (Map),
// the WebSocket RPC server and client, and pub/sub over WebSocket
// (Publisher, Subscriber).
package transport
