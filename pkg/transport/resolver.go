package transport

import "context"

// Resolver turns a service name into peer addresses ("ip:port"). A
// *link.Link is one.
type Resolver interface {
	Lookup(ctx context.Context, name string) ([]string, error)
}
