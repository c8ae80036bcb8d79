package transport

import (
	"crypto/tls"
	"time"

	"github.com/grenache-go/grenache/pkg/validate"
	"github.com/rs/zerolog"
)

// PublisherConfig configures a Publisher. Zero fields take the defaults
// noted on each (DefaultPublisherConfig); Validate refuses negative ones.
type PublisherConfig struct {
	// TLS, when set, serves wss://.
	TLS *tls.Config
	// QueueSize is each subscriber's send queue length (default 256
	// messages). A subscriber whose queue is full is disconnected.
	QueueSize int
	// MaxSubscribers bounds the subscribers served at once (default 1024).
	// Each costs a send queue of QueueSize references, a goroutine and a
	// socket; a connection past the bound is closed with status 1013 (try
	// again later) before it is registered.
	MaxSubscribers int
	// WriteTimeout bounds writing one frame to a subscriber (default 5 s);
	// a subscriber that cannot take a frame in that time is dropped.
	WriteTimeout time.Duration
}

// DefaultPublisherConfig returns the defaults documented on
// PublisherConfig (ws://).
func DefaultPublisherConfig() PublisherConfig {
	return PublisherConfig{QueueSize: 256, MaxSubscribers: 1024, WriteTimeout: 5 * time.Second}
}

// Validate refuses negative fields (zero means the default); the error is
// a *validate.FieldError naming the field.
func (c PublisherConfig) Validate() error {
	const name = "transport.PublisherConfig"
	return firstError(
		validate.AtLeast(name, "QueueSize", c.QueueSize, 0),
		validate.AtLeast(name, "MaxSubscribers", c.MaxSubscribers, 0),
		validate.AtLeast(name, "WriteTimeout", c.WriteTimeout, 0),
	)
}

// withDefaults returns c with its zero fields set to the defaults.
func (c PublisherConfig) withDefaults() PublisherConfig {
	d := DefaultPublisherConfig()
	orDefault(&c.QueueSize, d.QueueSize)
	orDefault(&c.MaxSubscribers, d.MaxSubscribers)
	orDefault(&c.WriteTimeout, d.WriteTimeout)
	return c
}

// SubscriberConfig configures a Subscriber. Zero fields take the defaults
// noted on each (DefaultSubscriberConfig); Validate refuses negative ones.
type SubscriberConfig struct {
	// LookupInterval is how often the channel is looked up again to find
	// new publishers (default 5 s).
	LookupInterval time.Duration
	// ReconnectBackoffMin and ReconnectBackoffMax are the first and the
	// largest delay between reconnection attempts to one publisher
	// (defaults 100 ms and 5 s; the delay doubles per failure, with jitter,
	// and resets after a success). A Max below Min is taken as Min.
	ReconnectBackoffMin time.Duration
	ReconnectBackoffMax time.Duration
	// MessageBuffer is the capacity of the Messages channel (default 1024).
	// When it is full, new messages are dropped and counted (Dropped): a
	// slow reader must not stall the sockets or grow memory.
	MessageBuffer int
	// MessageBufferBytes bounds the bytes of the messages waiting in
	// Messages (default 16 MiB): a frame may be up to 1 MiB, so the count
	// alone would let publishers park a gigabyte in a slow reader's buffer.
	// A message that would pass it is dropped and counted like one past the
	// count.
	MessageBufferBytes int
	// MaxPublishers bounds the publishers tracked and kept a socket to
	// (default 256). Addresses come from lookups, remote input: past the
	// bound new ones are ignored until known ones leave, and an address
	// longer than 259 bytes (a DNS name, a colon and a port) is never
	// tracked, so the table stays bounded.
	MaxPublishers int
	// TLS, when set, dials publishers with wss://.
	TLS *tls.Config
	// Logger receives connection events (default: the zero Logger, which
	// logs nothing).
	Logger zerolog.Logger
}

// DefaultSubscriberConfig returns the defaults documented on
// SubscriberConfig (ws://).
func DefaultSubscriberConfig() SubscriberConfig {
	return SubscriberConfig{
		LookupInterval:      5 * time.Second,
		ReconnectBackoffMin: 100 * time.Millisecond,
		ReconnectBackoffMax: 5 * time.Second,
		MessageBuffer:       1024,
		MessageBufferBytes:  16 << 20,
		MaxPublishers:       256,
	}
}

// Validate refuses negative fields (zero means the default); the error is
// a *validate.FieldError naming the field.
func (c SubscriberConfig) Validate() error {
	const name = "transport.SubscriberConfig"
	return firstError(
		validate.AtLeast(name, "LookupInterval", c.LookupInterval, 0),
		validate.AtLeast(name, "ReconnectBackoffMin", c.ReconnectBackoffMin, 0),
		validate.AtLeast(name, "ReconnectBackoffMax", c.ReconnectBackoffMax, 0),
		validate.AtLeast(name, "MessageBuffer", c.MessageBuffer, 0),
		validate.AtLeast(name, "MessageBufferBytes", c.MessageBufferBytes, 0),
		validate.AtLeast(name, "MaxPublishers", c.MaxPublishers, 0),
	)
}

// withDefaults returns c with its zero fields set to the defaults.
func (c SubscriberConfig) withDefaults() SubscriberConfig {
	d := DefaultSubscriberConfig()
	orDefault(&c.LookupInterval, d.LookupInterval)
	orDefault(&c.ReconnectBackoffMin, d.ReconnectBackoffMin)
	orDefault(&c.ReconnectBackoffMax, d.ReconnectBackoffMax)
	orDefault(&c.MessageBuffer, d.MessageBuffer)
	orDefault(&c.MessageBufferBytes, d.MessageBufferBytes)
	orDefault(&c.MaxPublishers, d.MaxPublishers)
	c.ReconnectBackoffMax = max(c.ReconnectBackoffMax, c.ReconnectBackoffMin)
	return c
}
