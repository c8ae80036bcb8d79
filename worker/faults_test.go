package worker

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestFaultsValidate(t *testing.T) {
	cases := []struct {
		name string
		f    Faults
		want string // substring of the error; empty = valid
	}{
		{"zero", Faults{}, ""},
		{"all set", Faults{Latency: 50 * time.Millisecond, Jitter: time.Millisecond, ErrorRate: 0.3, TimeoutRate: 0.7}, ""},
		{"negative latency", Faults{Latency: -1}, "latency"},
		{"huge jitter", Faults{Jitter: MaxFaultDelay + 1}, "jitter"},
		{"error rate > 1", Faults{ErrorRate: 1.5}, "error rate"},
		{"timeout rate < 0", Faults{TimeoutRate: -0.1}, "timeout rate"},
		{"NaN", Faults{ErrorRate: math.NaN()}, "error rate"},
		{"sum > 1", Faults{ErrorRate: 0.6, TimeoutRate: 0.6}, "exceed 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.f.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want error containing %q, got %v", c.want, err)
			}
		})
	}
}

func TestFaultsDecide(t *testing.T) {
	f := Faults{Latency: 10 * time.Millisecond, Jitter: 20 * time.Millisecond, ErrorRate: 0.25, TimeoutRate: 0.5}
	cases := []struct {
		jitter, fault float64
		delay         time.Duration
		kind          FaultKind
	}{
		{0, 0, 10 * time.Millisecond, FaultTimeout},
		{0.5, 0.49, 20 * time.Millisecond, FaultTimeout},
		{0.5, 0.5, 20 * time.Millisecond, FaultError},
		{0.99, 0.74, 29800 * time.Microsecond, FaultError},
		{0, 0.75, 10 * time.Millisecond, FaultNone},
		{0, 0.999, 10 * time.Millisecond, FaultNone},
	}
	for _, c := range cases {
		d := f.Decide(c.jitter, c.fault)
		if d.Delay != c.delay || d.Kind != c.kind {
			t.Errorf("Decide(%v,%v) = %v/%v, want %v/%v", c.jitter, c.fault, d.Delay, d.Kind, c.delay, c.kind)
		}
	}
	if d := (Faults{}).Decide(0, 0); d.Delay != 0 || d.Kind != FaultNone {
		t.Errorf("zero faults decided %+v", d)
	}
	if !(Faults{}).IsZero() || f.IsZero() {
		t.Error("IsZero wrong")
	}
}

func TestFaultsJSONApplyMergesAndValidates(t *testing.T) {
	cur := Faults{Latency: 5 * time.Millisecond, ErrorRate: 0.1}
	half := 0.5
	got, err := FaultsJSON{ErrorRate: &half}.Apply(cur)
	if err != nil {
		t.Fatal(err)
	}
	if got.Latency != 5*time.Millisecond || got.ErrorRate != 0.5 {
		t.Fatalf("merge lost a field: %+v", got)
	}
	ms := 12.5
	got, err = FaultsJSON{LatencyMS: &ms, JitterMS: &ms}.Apply(cur)
	if err != nil || got.Latency != 12500*time.Microsecond || got.Jitter != 12500*time.Microsecond {
		t.Fatalf("ms conversion: %+v %v", got, err)
	}
	neg := -1.0
	if _, err := (FaultsJSON{JitterMS: &neg}).Apply(cur); err == nil || !strings.Contains(err.Error(), "jitter_ms") {
		t.Fatalf("negative jitter_ms accepted or unnamed: %v", err)
	}
	big := 0.95
	if g, err := (FaultsJSON{TimeoutRate: &big}).Apply(cur); err == nil {
		t.Fatalf("0.1+0.95 accepted: %+v", g)
	}
	rt := cur.ToJSON()
	back, err := rt.Apply(Faults{})
	if err != nil || back != cur {
		t.Fatalf("round trip: %+v %v", back, err)
	}
}
