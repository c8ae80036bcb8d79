package client

import (
	"reflect"
	"testing"
)

func TestChainHooksCallsEachInOrderAndSkipsNil(t *testing.T) {
	var got []string
	a := Hooks{OnAttempt: func(AttemptEvent) { got = append(got, "a.attempt") }}
	b := Hooks{
		OnAttempt: func(AttemptEvent) { got = append(got, "b.attempt") },
		OnBreaker: func(BreakerEvent) { got = append(got, "b.breaker") },
	}
	h := ChainHooks(a, Hooks{}, b)
	h.OnAttempt(AttemptEvent{})
	h.OnBreaker(BreakerEvent{})
	if want := []string{"a.attempt", "b.attempt", "b.breaker"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	if e := ChainHooks(Hooks{}, Hooks{}); e.OnAttempt != nil || e.OnBreaker != nil {
		t.Fatal("chaining empty hooks gave non-nil functions: the engine would call them")
	}
}
