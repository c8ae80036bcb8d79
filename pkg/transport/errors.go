package transport

import (
	"errors"
	"fmt"
)

// Error kinds. Every failure of a call other than a handler error wraps one
// of these, so callers can classify with errors.Is.
var (
	// ErrTimeout: the call's deadline passed before the reply arrived.
	ErrTimeout = errors.New("transport: timeout")
	// ErrTransport: connection refused or reset, TLS failure, a non-200
	// reply, an unreadable reply, or a call cancelled by the caller.
	ErrTransport = errors.New("transport: failure")
	// ErrNoPeers: the resolver returned no address for the service.
	ErrNoPeers = errors.New("transport: no peers for service")
	// ErrClosed: the client, connection or server was closed.
	ErrClosed = errors.New("transport: closed")
)

// Wire error tokens this package sends in the error slot of a reply.
const (
	// TokenHeaderParseGR is Node's token for an unparseable _gr header; it is
	// sent in the exact 500 body Node uses.
	TokenHeaderParseGR = "ERR_HEADER_PARSE_GR"
	// TokenRequestParse answers a body that is not a JSON array (Node sends
	// no reply at all, which hangs clients without a timeout).
	TokenRequestParse = "ERR_REQUEST_PARSE"
	// TokenRequestTooLarge answers a body over the server's size limit.
	TokenRequestTooLarge = "ERR_REQUEST_TOO_LARGE"
	// TokenHandlerPanic replaces the result when a handler panicked.
	TokenHandlerPanic = "ERR_HANDLER_PANIC"
	// TokenServerClosing answers a WebSocket request that arrives while the
	// server drains for Shutdown, so the caller can retry elsewhere at once.
	TokenServerClosing = "ERR_SERVER_CLOSING"
	// TokenServerBusy answers a request whose body could not get room in
	// the server's body budget within its wait (HTTP 503): the server is
	// alive but full, so the caller should retry elsewhere.
	TokenServerBusy = "ERR_SERVER_BUSY"
	// TokenServerDraining answers a request that arrives after a draining
	// server's grace (HTTP 503, see HTTPServerConfig.Refuse): the server is leaving the
	// network, so the caller should retry elsewhere. Go and Node clients
	// treat a non-200 reply as a transport failure and retry it.
	TokenServerDraining = "ERR_SERVER_DRAINING"
	// TokenResultEncode replaces a result that could not be encoded as JSON.
	TokenResultEncode = "ERR_RESULT_ENCODE"
)

// RemoteError is an error the peer's handler returned: the non-null second
// element of the reply triple. Msg is that string (or the raw JSON when the
// peer sent a non-string error). It means the peer is alive and answered.
type RemoteError struct {
	Msg string
}

// Error implements error.
func (e *RemoteError) Error() string { return e.Msg }

// CallError is a failed call that is not a handler error. Kind is
// ErrTimeout or ErrTransport; Err is the cause (a net error,
// context.DeadlineExceeded, *StatusError, ...). errors.Is matches both.
type CallError struct {
	Addr string
	Kind error
	Err  error
}

// Error implements error.
func (e *CallError) Error() string { return fmt.Sprintf("call %s: %v: %v", e.Addr, e.Kind, e.Err) }

// Unwrap exposes Kind and the cause to errors.Is/As.
func (e *CallError) Unwrap() []error { return []error{e.Kind, e.Err} }

// StatusError is a reply with a status other than 200. Body holds at most
// the first 512 bytes of it.
type StatusError struct {
	Status int
	Body   string
}

// Error implements error.
func (e *StatusError) Error() string { return fmt.Sprintf("status %d: %s", e.Status, e.Body) }

var (
	errPanic  = errors.New(TokenHandlerPanic)
	errEncode = errors.New(TokenResultEncode)
)
