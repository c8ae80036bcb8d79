package client

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Policy chooses the peer of one attempt. The engine then admits the
// choice through the peer's breaker (asking again up to three times when the
// breaker refuses) and falls back to the least bad peer when no choice is
// admitted, so a policy only ranks peers; it never sees a request.
//
// Pick returns an index into peers, or -1 when no peer suits it. It is
// called concurrently for every attempt, so it must be safe for concurrent
// use, fast and allocation-free; state a policy keeps across picks must be
// atomic. Peers is a value: copying it allocates nothing.
type Policy interface {
	Pick(peers Peers) int
}

// PolicyFactory builds a policy for one client: a stateful policy gets
// fresh state per client.
type PolicyFactory func() Policy

// PolicyInfo names a registered policy and says what it does in one line
// (the CLI's help text).
type PolicyInfo struct {
	Name string
	Help string
}

type policyEntry struct {
	info    PolicyInfo
	factory PolicyFactory
}

var policies = struct {
	sync.RWMutex
	m map[string]policyEntry
}{m: map[string]policyEntry{}}

// RegisterPolicy makes a policy available as Config.Strategy = name (and
// so as the client binary's --strategy). Call it from an init
// function, as database/sql drivers do: it panics on an empty name, a nil
// factory or a name registered twice, which are programming errors.
func RegisterPolicy(name string, factory PolicyFactory, help string) {
	if name == "" || factory == nil {
		panic("client: RegisterPolicy needs a name and a factory")
	}
	policies.Lock()
	defer policies.Unlock()
	if _, dup := policies.m[name]; dup {
		panic("client: policy " + name + " registered twice")
	}
	policies.m[name] = policyEntry{info: PolicyInfo{Name: name, Help: help}, factory: factory}
}

// Policies lists the registered policies sorted by name.
func Policies() []PolicyInfo {
	policies.RLock()
	defer policies.RUnlock()
	out := make([]PolicyInfo, 0, len(policies.m))
	for _, e := range policies.m {
		out = append(out, e.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// PolicyNames is the allowed values of Config.Strategy, "a|b|c", as
// validation errors and help texts show them.
func PolicyNames() string {
	infos := Policies()
	names := make([]string, len(infos))
	for i, p := range infos {
		names[i] = p.Name
	}
	return strings.Join(names, "|")
}

// newPolicy builds the named policy.
func newPolicy(name string) (Policy, error) {
	policies.RLock()
	e, ok := policies.m[name]
	policies.RUnlock()
	if !ok {
		return nil, fmt.Errorf("client: unknown policy %q; allowed %s", name, PolicyNames())
	}
	return e.factory(), nil
}

// knownPolicy reports whether name is registered.
func knownPolicy(name string) bool {
	policies.RLock()
	defer policies.RUnlock()
	_, ok := policies.m[name]
	return ok
}
