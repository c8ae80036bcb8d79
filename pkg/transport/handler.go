package transport

import (
	"context"
	"encoding/json"
)

// Handler serves one RPC request. key is the service name the caller used
// (not checked against what the server announced, as in Node); payload is
// the raw third element of the request triple ("null" when absent), owned
// by the handler (it may keep it after returning).
//
// The result is encoded with encoding/json, except that json.RawMessage is
// sent as is (after a validity check) so handlers that already hold JSON
// pay no re-encoding. A non-nil error is sent as its Error() string in the
// reply's error slot; the caller sees it as *RemoteError.
type Handler func(ctx context.Context, key string, payload json.RawMessage) (any, error)
