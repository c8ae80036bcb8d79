package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Built-in job names.
const (
	JobEcho  = "echo"
	JobSleep = "sleep"
	JobHash  = "hash"
	// jobOther labels payloads that name no job (echoed back), keeping the metric label set
	// bounded whatever clients send.
	jobOther = "other"
	// jobUnknown labels payloads naming a job that is not in the registry (refused).
	jobUnknown = "unknown"
)

// job is one entry of the registry: the only place a built-in job is declared. Its name is
// what payloads send as "job" and its metric label; run validates the payload against the
// limits and does the work. Adding a job is adding an entry to jobs.
type job struct {
	name string
	run  func(ctx context.Context, payload json.RawMessage, env jobEnv) (any, error)
}

// jobEnv is what a job may use: the configured limits and the (test-injectable) clock.
type jobEnv struct {
	limits JobLimits
	sleep  func(context.Context, time.Duration) error
}

// jobs is the registry. A payload with no "job" member is echoed (what a Node worker does);
// one naming a job missing here is refused with ERR_INVALID_JOB.
var jobs = []job{
	{name: JobEcho, run: runEcho},
	{name: JobSleep, run: runSleep},
	{name: JobHash, run: runHash},
}

// findJob returns the registry entry called name.
func findJob(name string) (job, bool) {
	for _, j := range jobs {
		if j.name == name {
			return j, true
		}
	}
	return job{}, false
}

// jobNames lists the registry's names, for error messages.
func jobNames() string {
	names := make([]string, len(jobs))
	for i, j := range jobs {
		names[i] = j.name
	}
	return strings.Join(names, ", ")
}

// ErrInvalidJob is wrapped by every error about a malformed job payload, so callers can tell a
// bad request from a failure of the worker itself.
var ErrInvalidJob = errors.New("ERR_INVALID_JOB")

// JobLimits bounds the work one request may ask for.
type JobLimits struct {
	// MaxSleep is the longest "sleep" job accepted.
	MaxSleep time.Duration
	// MaxHashRounds is the largest "rounds" a "hash" job may ask for.
	MaxHashRounds int
}

// sleepJob is {"job":"sleep","ms":N}; pointers tell a missing field from a zero one.
type sleepJob struct {
	MS json.RawMessage `json:"ms"`
}

// hashJob is {"job":"hash","data":S,"rounds":N}; rounds defaults to 1.
type hashJob struct {
	Data   json.RawMessage `json:"data"`
	Rounds json.RawMessage `json:"rounds"`
}

// SleepResult is the reply to a sleep job.
type SleepResult struct {
	// SleptMS echoes the requested duration.
	SleptMS int64 `json:"slept_ms"`
}

// runJob executes the named job (a name from jobName). sleep is the clock's sleep so tests
// need not wait.
func runJob(ctx context.Context, name string, payload json.RawMessage, lim JobLimits,
	sleep func(context.Context, time.Duration) error) (any, error) {
	env := jobEnv{limits: lim, sleep: sleep}
	switch name {
	case jobOther:
		return runEcho(ctx, payload, env)
	case jobUnknown:
		return nil, fmt.Errorf("%w: unknown job %s (known: %s; a payload without \"job\" is echoed)",
			ErrInvalidJob, clip(jobField(payload)), jobNames())
	}
	j, ok := findJob(name)
	if !ok {
		return nil, fmt.Errorf("%w: unknown job %q (known: %s)", ErrInvalidJob, name, jobNames())
	}
	return j.run(ctx, payload, env)
}

// runEcho answers the payload itself. A missing payload (Node sends undefined -> null) stays
// null.
func runEcho(_ context.Context, payload json.RawMessage, _ jobEnv) (any, error) {
	if len(payload) == 0 {
		return nil, nil
	}
	return payload, nil
}

func runSleep(ctx context.Context, payload json.RawMessage, env jobEnv) (any, error) {
	lim, sleep := env.limits, env.sleep
	var j sleepJob
	if err := json.Unmarshal(payload, &j); err != nil {
		return nil, fmt.Errorf("%w: sleep: %v", ErrInvalidJob, err)
	}
	maxMS := lim.MaxSleep.Milliseconds()
	if isAbsent(j.MS) {
		return nil, fmt.Errorf("%w: sleep: missing \"ms\" (integer 0..%d)", ErrInvalidJob, maxMS)
	}
	ms, ok := parseInt(j.MS)
	if !ok || ms < 0 || ms > maxMS {
		return nil, fmt.Errorf("%w: sleep: \"ms\" must be an integer 0..%d, got %s", ErrInvalidJob, maxMS, clip(j.MS))
	}
	if err := sleep(ctx, time.Duration(ms)*time.Millisecond); err != nil {
		return nil, err
	}
	return SleepResult{SleptMS: ms}, nil
}

func runHash(ctx context.Context, payload json.RawMessage, env jobEnv) (any, error) {
	lim := env.limits
	var j hashJob
	if err := json.Unmarshal(payload, &j); err != nil {
		return nil, fmt.Errorf("%w: hash: %v", ErrInvalidJob, err)
	}
	var data string
	if isAbsent(j.Data) {
		return nil, fmt.Errorf("%w: hash: missing \"data\" (string)", ErrInvalidJob)
	}
	if j.Data[0] != '"' || json.Unmarshal(j.Data, &data) != nil {
		return nil, fmt.Errorf("%w: hash: \"data\" must be a string, got %s", ErrInvalidJob, clip(j.Data))
	}
	rounds := int64(1)
	if !isAbsent(j.Rounds) {
		r, ok := parseInt(j.Rounds)
		if !ok || r < 1 || r > int64(lim.MaxHashRounds) {
			return nil, fmt.Errorf("%w: hash: \"rounds\" must be an integer 1..%d, got %s", ErrInvalidJob, lim.MaxHashRounds, clip(j.Rounds))
		}
		rounds = r
	}
	sum := sha256.Sum256([]byte(data))
	for i := int64(1); i < rounds; i++ {
		// Check the context now and then: a large round count must not outlive its caller.
		if i&1023 == 1 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		sum = sha256.Sum256(sum[:])
	}
	return hex.EncodeToString(sum[:]), nil
}

// isAbsent treats a missing field and an explicit null alike.
func isAbsent(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// parseInt accepts only a plain JSON integer: "5", 1.5, 1e3 and true are all rejected, so a
// wrong type is reported instead of being coerced.
func parseInt(raw json.RawMessage) (int64, bool) {
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return n, err == nil
}

// clip keeps error messages short whatever a client put in the field.
func clip(raw json.RawMessage) string {
	const max = 40
	if len(raw) > max {
		return string(raw[:max]) + "…"
	}
	return string(raw)
}
