package worker

import (
	"fmt"
	"math"
	"time"
)

// FaultsJSON is the wire form of Faults on the admin API, in milliseconds and plain rates:
// {"latency_ms":50,"jitter_ms":10,"error_rate":0.1,"timeout_rate":0}.
// Pointer fields tell "absent" (keep the current value) from zero.
type FaultsJSON struct {
	// LatencyMS is Faults.Latency in milliseconds.
	LatencyMS *float64 `json:"latency_ms,omitempty"`
	// JitterMS is Faults.Jitter in milliseconds.
	JitterMS *float64 `json:"jitter_ms,omitempty"`
	// ErrorRate is Faults.ErrorRate.
	ErrorRate *float64 `json:"error_rate,omitempty"`
	// TimeoutRate is Faults.TimeoutRate.
	TimeoutRate *float64 `json:"timeout_rate,omitempty"`
}

// ToJSON returns the full wire form of f (every field present).
func (f Faults) ToJSON() FaultsJSON {
	lat := float64(f.Latency) / float64(time.Millisecond)
	jit := float64(f.Jitter) / float64(time.Millisecond)
	er, tr := f.ErrorRate, f.TimeoutRate
	return FaultsJSON{LatencyMS: &lat, JitterMS: &jit, ErrorRate: &er, TimeoutRate: &tr}
}

// Apply returns cur with the fields present in j replaced, validated as a whole. Absent fields
// keep their current value, so `{"error_rate":0.5}` changes only the error rate.
func (j FaultsJSON) Apply(cur Faults) (Faults, error) {
	f := cur
	if j.LatencyMS != nil {
		d, err := msToDuration("latency_ms", *j.LatencyMS)
		if err != nil {
			return cur, err
		}
		f.Latency = d
	}
	if j.JitterMS != nil {
		d, err := msToDuration("jitter_ms", *j.JitterMS)
		if err != nil {
			return cur, err
		}
		f.Jitter = d
	}
	if j.ErrorRate != nil {
		f.ErrorRate = *j.ErrorRate
	}
	if j.TimeoutRate != nil {
		f.TimeoutRate = *j.TimeoutRate
	}
	if err := f.Validate(); err != nil {
		return cur, err
	}
	return f, nil
}

func msToDuration(field string, ms float64) (time.Duration, error) {
	maxMS := float64(MaxFaultDelay / time.Millisecond)
	if math.IsNaN(ms) || ms < 0 || ms > maxMS {
		return 0, fmt.Errorf("%s %v out of range: allowed 0..%v", field, ms, maxMS)
	}
	return time.Duration(ms * float64(time.Millisecond)), nil
}
