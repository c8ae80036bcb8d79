package transport

import (
	"context"
	"crypto/tls"
	"net/http"
	"time"

	"github.com/grenache-go/grenache/pkg/budget"
	"github.com/grenache-go/grenache/pkg/validate"
	"github.com/rs/zerolog"
)

// HTTPServerConfig configures an HTTPServer. Zero fields take the defaults
// noted on each (DefaultHTTPServerConfig); Validate refuses negative ones.
type HTTPServerConfig struct {
	// TLS, when set, serves HTTPS (set ClientAuth and ClientCAs for mutual
	// TLS). HTTP/1.1 only, as Node peers speak.
	TLS *tls.Config
	// MaxBodyBytes bounds a request body, before and after gunzip (default
	// 8 MiB). Larger requests get 413 and ERR_REQUEST_TOO_LARGE.
	MaxBodyBytes int64
	// BodyBudget is shared between every request body this server reads or
	// decompresses at once (default: a budget of its own of
	// DefaultBodyBudget bytes, or MinBodyBudget(MaxBodyBytes) if that is
	// larger). A request that cannot get its bytes within the budget's wait
	// gets 503 and ERR_SERVER_BUSY. It must hold at least
	// MinBodyBudget(MaxBodyBytes) bytes, or the largest allowed requests are
	// refused the same way.
	BodyBudget *budget.Budget
	// IdleTimeout is how long an idle keep-alive connection is kept
	// (default 120 s, longer than clients' idle timeouts so the client side
	// closes first and never reuses a socket we are closing).
	IdleTimeout time.Duration
	// ReadTimeout bounds reading one request, headers and body (default
	// 60 s), so a peer trickling a body cannot hold a connection forever.
	// Streamed requests are bounded by StreamIdleTimeout instead.
	ReadTimeout time.Duration
	// Logger receives handler panics and server errors (default: the zero
	// Logger, which logs nothing).
	Logger zerolog.Logger
	// BaseContext is the parent context of every handler call, for values
	// such as loggers (default context.Background()). Handlers see it
	// cancelled only if the caller cancels it; Shutdown still drains
	// in-flight calls.
	BaseContext context.Context
	// Refuse, while it returns true, makes the server answer every request
	// with 503 and TokenServerDraining, closing the connection (default nil:
	// never). A service host sets it for the end of its drain: requests still
	// reaching it come from callers with stale lookups, and a non-200 reply
	// is what both Go and Node clients retry on another peer. The body is
	// read first so the reply carries the request's rid.
	Refuse func() bool
	// Upgrade receives requests asking for a WebSocket upgrade (a WSServer),
	// so one port serves the HTTP and the WebSocket RPC wire and one
	// announcement reaches callers of either (default nil: upgrades are
	// answered as HTTP requests). Its connections are its own: Shutdown of
	// this server does not close them; shut it down too.
	Upgrade http.Handler
	// StreamHandler receives streamed requests: those sent with
	// Transfer-Encoding: chunked and a _gr header, which is what
	// PeerRPCClient.stream sends and no buffered Grenache client does. Every
	// other request goes to the buffered Handler. When nil (the default) a
	// streamed request is read and parsed as a buffered one, as a Node
	// PeerRPCServer without disableBuffered does. Stream bodies bypass the
	// body limit and budget: they are never held in memory.
	StreamHandler StreamHandler
	// StreamIdleTimeout is how long a streamed body may stay silent before
	// the server gives up on it (default DefaultStreamIdleTimeout).
	StreamIdleTimeout time.Duration
}

// DefaultHTTPServerConfig returns the defaults documented on
// HTTPServerConfig (plain HTTP, a body budget of the server's own).
func DefaultHTTPServerConfig() HTTPServerConfig {
	return HTTPServerConfig{
		MaxBodyBytes:      8 << 20,
		IdleTimeout:       120 * time.Second,
		ReadTimeout:       60 * time.Second,
		StreamIdleTimeout: DefaultStreamIdleTimeout,
	}
}

// Validate refuses negative fields (zero means the default); the error is
// a *validate.FieldError naming the field.
func (c HTTPServerConfig) Validate() error {
	const name = "transport.HTTPServerConfig"
	return firstError(
		validate.AtLeast(name, "MaxBodyBytes", c.MaxBodyBytes, 0),
		validate.AtLeast(name, "IdleTimeout", c.IdleTimeout, 0),
		validate.AtLeast(name, "ReadTimeout", c.ReadTimeout, 0),
		validate.AtLeast(name, "StreamIdleTimeout", c.StreamIdleTimeout, 0),
	)
}

// withDefaults returns c with its zero fields set to the defaults.
func (c HTTPServerConfig) withDefaults() HTTPServerConfig {
	d := DefaultHTTPServerConfig()
	orDefault(&c.MaxBodyBytes, d.MaxBodyBytes)
	orDefault(&c.IdleTimeout, d.IdleTimeout)
	orDefault(&c.ReadTimeout, d.ReadTimeout)
	orDefault(&c.StreamIdleTimeout, d.StreamIdleTimeout)
	if c.BodyBudget == nil {
		c.BodyBudget = defaultBudget(c.MaxBodyBytes)
	}
	return c
}

// WSServerConfig configures a WSServer. Zero fields take the defaults
// noted on each (DefaultWSServerConfig); Validate refuses negative ones.
type WSServerConfig struct {
	// TLS, when set, serves wss://. Leave it nil for a WSServer mounted as
	// an HTTPServer's Upgrade: that server's listener does TLS.
	TLS *tls.Config
	// MaxMessageBytes bounds one incoming frame (default 8 MiB).
	MaxMessageBytes int64
	// MaxInFlight bounds concurrent requests per connection (default 128);
	// when reached, the server stops reading that socket until one
	// finishes, pushing back on the client instead of queueing without
	// bound.
	MaxInFlight int
	// BodyBudget is shared between every message this server holds at once,
	// from its first byte until its reply is queued (default: a budget of
	// its own of DefaultBodyBudget bytes, or MaxMessageBytes + 1 if that is
	// larger). Messages grow with the bytes received, never with the length
	// a frame header claims. A connection whose message gets no room within
	// the budget's wait stops being read; once its requests in flight are
	// answered it is closed with status 1013 (try again later) and reason
	// ERR_SERVER_BUSY, so the caller retries elsewhere.
	BodyBudget *budget.Budget
	// Logger receives handler panics and server errors (default: the zero
	// Logger, which logs nothing).
	Logger zerolog.Logger
}

// DefaultWSServerConfig returns the defaults documented on WSServerConfig
// (ws://, a body budget of the server's own).
func DefaultWSServerConfig() WSServerConfig {
	return WSServerConfig{MaxMessageBytes: 8 << 20, MaxInFlight: 128}
}

// Validate refuses negative fields (zero means the default); the error is
// a *validate.FieldError naming the field.
func (c WSServerConfig) Validate() error {
	const name = "transport.WSServerConfig"
	return firstError(
		validate.AtLeast(name, "MaxMessageBytes", c.MaxMessageBytes, 0),
		validate.AtLeast(name, "MaxInFlight", c.MaxInFlight, 0),
	)
}

// withDefaults returns c with its zero fields set to the defaults.
func (c WSServerConfig) withDefaults() WSServerConfig {
	d := DefaultWSServerConfig()
	orDefault(&c.MaxMessageBytes, d.MaxMessageBytes)
	orDefault(&c.MaxInFlight, d.MaxInFlight)
	if c.BodyBudget == nil {
		c.BodyBudget, _ = budget.New(max(DefaultBodyBudget, c.MaxMessageBytes+1), budget.DefaultWait)
	}
	return c
}
