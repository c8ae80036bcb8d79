package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// ErrBadRequest is wrapped by every error a Mux or Func answers for a payload it cannot
// decode, so callers (and the metrics) can tell a bad request from a failing handler.
var ErrBadRequest = errors.New("ERR_BAD_REQUEST")

// ErrUnknownAction is wrapped by the error a Mux answers for an action it has no handler for.
var ErrUnknownAction = errors.New("ERR_UNKNOWN_ACTION")

// ActionRequest is the {action, args} payload Bitfinex services dispatch on.
type ActionRequest struct {
	Action string            `json:"action"`
	Args   []json.RawMessage `json:"args"`
}

// Mux dispatches {"action": name, "args": [...]} payloads to the handler registered for the
// action. The handler sees the whole request; ActionArgs gives it the decoded args. An
// unknown or missing action is answered with an error naming it and the known ones.
type Mux struct {
	mu      sync.RWMutex
	actions map[string]Handler
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{actions: map[string]Handler{}} }

// Handle registers h for action, replacing any earlier handler. It panics on an empty action
// name, a programming error.
func (m *Mux) Handle(action string, h Handler) {
	if action == "" || h == nil {
		panic("worker: Mux.Handle needs an action name and a handler")
	}
	m.mu.Lock()
	m.actions[action] = h
	m.mu.Unlock()
}

// HandleFunc registers f for action.
func (m *Mux) HandleFunc(action string, f func(ctx context.Context, req *Request) (any, error)) {
	m.Handle(action, HandlerFunc(f))
}

// actionKey is the context key under which a Mux passes the decoded args.
type actionKey struct{}

// ActionArgs returns the args of the {action, args} payload a Mux dispatched, or nil outside
// a Mux.
func ActionArgs(ctx context.Context) []json.RawMessage {
	a, _ := ctx.Value(actionKey{}).([]json.RawMessage)
	return a
}

// ServeGrenache implements Handler.
func (m *Mux) ServeGrenache(ctx context.Context, req *Request) (any, error) {
	var ar ActionRequest
	if err := json.Unmarshal(req.Payload, &ar); err != nil {
		return nil, fmt.Errorf(`%w: want {"action":"name","args":[...]}: %v`, ErrBadRequest, err)
	}
	m.mu.RLock()
	h, ok := m.actions[ar.Action]
	m.mu.RUnlock()
	if !ok {
		if ar.Action == "" {
			return nil, fmt.Errorf(`%w: missing "action" (known: %s)`, ErrUnknownAction, m.known())
		}
		return nil, fmt.Errorf("%w: %q (known: %s)", ErrUnknownAction, clip(json.RawMessage(ar.Action)), m.known())
	}
	return h.ServeGrenache(context.WithValue(ctx, actionKey{}, ar.Args), req)
}

func (m *Mux) known() string {
	m.mu.RLock()
	names := make([]string, 0, len(m.actions))
	for n := range m.actions {
		names = append(names, n)
	}
	m.mu.RUnlock()
	sort.Strings(names)
	return strings.Join(names, ", ")
}
