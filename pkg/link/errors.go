package link

import (
	"errors"
	"fmt"
)

// ErrLookupEmpty is returned by Lookup when the grape knows no peer for the
// name. The text matches Node's link so logs read the same.
var ErrLookupEmpty = errors.New("ERR_GRAPE_LOOKUP_EMPTY")

// ErrNotFound is returned by Get when the grape answers with an empty body,
// which is how grapes say "no such item".
var ErrNotFound = errors.New("link: item not found")

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("link: closed")

// GrapeError is an application error reported by a grape: status 200 with a
// JSON string body (e.g. "ERR_GRAPE_LOOKUP", "No nodes to query") where an
// array, number or object was expected. Token is the decoded string.
type GrapeError struct {
	Token string
}

// Error implements error.
func (e *GrapeError) Error() string { return "grape: " + e.Token }

// StatusError is a non-2xx reply from a grape, e.g. 413
// ERR_GRAPE_PAYLOAD_SIZE or 500 ERR_GRAPE_PAYLOAD_INVALID. Body holds the
// (raw, usually non-JSON) reply text.
type StatusError struct {
	Grape  string
	Status int
	Body   string
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("grape %s: status %d: %s", e.Grape, e.Status, e.Body)
}

// UnreachableError means no grape could be reached: every configured grape
// refused the connection, timed out or failed at transport level. Errs holds
// one error per grape tried, in order.
type UnreachableError struct {
	Errs []error
}

// Error implements error.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("link: no grape reachable: %v", errors.Join(e.Errs...))
}

// Unwrap exposes the per-grape errors to errors.Is/As (e.g. to detect
// context.DeadlineExceeded).
func (e *UnreachableError) Unwrap() []error { return e.Errs }
