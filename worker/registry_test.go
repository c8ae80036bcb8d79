package worker

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// A payload naming a job the registry does not hold is refused with a message naming it and
// the known jobs, never echoed (the old switch did that when a name was missed somewhere).
func TestUnknownJobIsRefused(t *testing.T) {
	h, _ := newTestHandler(Faults{}, seqRand(), nil)
	_, err := h.handle(context.Background(), "job_service", json.RawMessage(`{"job":"nope","x":1}`))
	if !errors.Is(err, ErrInvalidJob) || !strings.Contains(err.Error(), `unknown job "nope"`) ||
		!strings.Contains(err.Error(), "echo, sleep, hash") {
		t.Fatalf("unknown job: %v", err)
	}
	if count(h, jobUnknown, outcomeInvalid) != 1 {
		t.Fatal("unknown job not counted as job=unknown outcome=invalid")
	}
}

// One registry entry is all a new job needs: dispatch (fast and slow name paths),
// validation through its run, and its metric label.
func TestRegistryEntryIsEnough(t *testing.T) {
	saved := jobs
	t.Cleanup(func() { jobs = saved })
	jobs = append(append([]job(nil), saved...), job{
		name: "upper",
		run: func(_ context.Context, p json.RawMessage, _ jobEnv) (any, error) {
			var j struct {
				S *string `json:"s"`
			}
			if json.Unmarshal(p, &j) != nil || j.S == nil {
				return nil, errors.Join(ErrInvalidJob, errors.New(`upper: want "s" (string)`))
			}
			return strings.ToUpper(*j.S), nil
		},
	})
	h, _ := newTestHandler(Faults{}, seqRand(), nil)
	for _, p := range []string{`{"job":"upper","s":"abc"}`, `{"job":"upp\u0065r","s":"abc"}`} {
		res, err := h.handle(context.Background(), "job_service", json.RawMessage(p))
		if err != nil || res != "ABC" {
			t.Fatalf("%s: %v %v", p, res, err)
		}
	}
	if _, err := h.handle(context.Background(), "job_service", json.RawMessage(`{"job":"upper"}`)); !errors.Is(err, ErrInvalidJob) {
		t.Fatalf("invalid upper: %v", err)
	}
	if count(h, "upper", outcomeOK) != 2 || count(h, "upper", outcomeInvalid) != 1 {
		t.Fatal("upper not counted under its own label")
	}
	mfs, err := h.m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if !hasLabel(mfs, "worker_requests_total", "job", "upper") {
		t.Fatal(`worker_requests_total has no job="upper" series`)
	}
}

func hasLabel(mfs []*dto.MetricFamily, family, name, value string) bool {
	for _, mf := range mfs {
		if mf.GetName() != family {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == name && l.GetValue() == value {
					return true
				}
			}
		}
	}
	return false
}
