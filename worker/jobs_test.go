package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var testLimits = JobLimits{MaxSleep: time.Second, MaxHashRounds: 1000}

// recSleep records requested sleeps and returns at once, unless ctx is already done.
type recSleep struct{ slept []time.Duration }

func (r *recSleep) sleep(ctx context.Context, d time.Duration) error {
	r.slept = append(r.slept, d)
	return ctx.Err()
}

func TestJobName(t *testing.T) {
	cases := map[string]string{
		`{"job":"echo","x":1}`:             JobEcho,
		` {"job":"sleep"}`:                 JobSleep,
		`{"job":"hash"}`:                   JobHash,
		`{"job":"nope"}`:                   jobUnknown,
		`{"job":5}`:                        jobOther,
		`"hello"`:                          jobOther,
		`[1,2]`:                            jobOther,
		`{"jobs":"echo"}`:                  jobOther,
		`{broken`:                          jobOther,
		``:                                 jobOther,
		`{"job":"echo\u0000x"}`:            jobUnknown,
		`{"j\u006fb":"echo"}`:              JobEcho,
		`{"job":"ech\u006f"}`:              JobEcho,
		`{"a":{"job":"hash"}}`:             jobOther,
		`{"job":"echo","job":1}`:           jobOther,
		`{"x":[1,{"y":"}"}],"job":"hash"}`: JobHash,
	}
	for in, want := range cases {
		if got := jobName(json.RawMessage(in)); got != want {
			t.Errorf("jobName(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestEchoReturnsPayload(t *testing.T) {
	for _, p := range []string{`{"job":"echo","a":[1,2]}`, `"hello"`, `{"job":5,"k":true}`, `42`, `null`} {
		res, err := runJob(context.Background(), jobName(json.RawMessage(p)), json.RawMessage(p), testLimits, nil)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if string(res.(json.RawMessage)) != p {
			t.Fatalf("echo %s returned %v", p, res)
		}
	}
	if res, err := runJob(context.Background(), jobOther, nil, testLimits, nil); res != nil || err != nil {
		t.Fatalf("missing payload: %v %v", res, err)
	}
}

func TestSleepJob(t *testing.T) {
	rs := &recSleep{}
	res, err := runJob(context.Background(), JobSleep, json.RawMessage(`{"job":"sleep","ms":250}`), testLimits, rs.sleep)
	if err != nil {
		t.Fatal(err)
	}
	if res.(SleepResult).SleptMS != 250 || len(rs.slept) != 1 || rs.slept[0] != 250*time.Millisecond {
		t.Fatalf("got %v, slept %v", res, rs.slept)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := runJob(ctx, JobSleep, json.RawMessage(`{"job":"sleep","ms":1}`), testLimits, rs.sleep); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled sleep: %v", err)
	}
}

func TestInvalidJobsNameTheProblem(t *testing.T) {
	cases := map[string]string{
		`{"job":"sleep"}`:                        `missing "ms"`,
		`{"job":"sleep","ms":null}`:              `missing "ms"`,
		`{"job":"sleep","ms":-5}`:                `"ms" must be an integer 0..1000, got -5`,
		`{"job":"sleep","ms":1001}`:              `got 1001`,
		`{"job":"sleep","ms":"100"}`:             `got "100"`,
		`{"job":"sleep","ms":1.5}`:               `got 1.5`,
		`{"job":"sleep","ms":true}`:              `got true`,
		`{"job":"hash"}`:                         `missing "data"`,
		`{"job":"hash","data":7}`:                `"data" must be a string, got 7`,
		`{"job":"hash","data":"x","rounds":0}`:   `"rounds" must be an integer 1..1000, got 0`,
		`{"job":"hash","data":"x","rounds":1e9}`: `got 1e9`,
		`{"job":"hash","data":"x","rounds":"` + strings.Repeat("9", 80) + `"}`: `…`,
	}
	for in, want := range cases {
		_, err := runJob(context.Background(), jobName(json.RawMessage(in)), json.RawMessage(in), testLimits, (&recSleep{}).sleep)
		if !errors.Is(err, ErrInvalidJob) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want ErrInvalidJob containing %q", in, err, want)
		}
	}
}

func TestHashJob(t *testing.T) {
	want := sha256.Sum256([]byte("abc"))
	for i := 1; i < 3; i++ {
		want = sha256.Sum256(want[:])
	}
	res, err := runJob(context.Background(), JobHash, json.RawMessage(`{"job":"hash","data":"abc","rounds":3}`), testLimits, nil)
	if err != nil || res != hex.EncodeToString(want[:]) {
		t.Fatalf("3 rounds: %v %v", res, err)
	}
	one := sha256.Sum256([]byte("abc"))
	res, err = runJob(context.Background(), JobHash, json.RawMessage(`{"job":"hash","data":"abc"}`), testLimits, nil)
	if err != nil || res != hex.EncodeToString(one[:]) {
		t.Fatalf("default rounds: %v %v", res, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := runJob(ctx, JobHash, json.RawMessage(`{"job":"hash","data":"abc","rounds":1000}`), testLimits, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled hash: %v", err)
	}
}

// FuzzJobName checks the allocation-free scanner against encoding/json on valid JSON.
func FuzzJobName(f *testing.F) {
	for _, s := range []string{`{"job":"echo"}`, `{"a":{"job":"hash"},"job":"sleep"}`, `{"job":"echo","job":"hash"}`,
		`{"j\u006fb":"echo"}`, `{"job":"ech\u006f"}`, `[{"job":"echo"}]`, `{"x":"\"job\"","job":5}`, ` { "job" : "hash" } `} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !json.Valid([]byte(s)) {
			jobName(json.RawMessage(s)) // must not panic
			return
		}
		if got, want := jobName(json.RawMessage(s)), jobNameSlow(json.RawMessage(s)); got != want {
			t.Fatalf("jobName(%s) = %q, encoding/json says %q", s, got, want)
		}
	})
}
