package worker

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

type getUserReq struct {
	ID int `json:"id"`
}

type user struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func getUser(_ context.Context, r getUserReq) (user, error) {
	if r.ID == 0 {
		return user{}, errors.New("ERR_NO_SUCH_USER")
	}
	return user{ID: r.ID, Name: "ada"}, nil
}

func call(t *testing.T, h Handler, payload string) (string, error) {
	t.Helper()
	res, err := h.ServeGrenache(context.Background(), &Request{Service: "svc", Payload: json.RawMessage(payload)})
	if err != nil {
		return "", err
	}
	b, merr := json.Marshal(res)
	if merr != nil {
		t.Fatal(merr)
	}
	return string(b), nil
}

func TestMuxDispatchesActions(t *testing.T) {
	m := NewMux()
	m.Handle("getUser", Func(getUser))
	m.HandleFunc("sum", func(ctx context.Context, _ *Request) (any, error) {
		total := 0
		for _, a := range ActionArgs(ctx) {
			var n int
			if err := json.Unmarshal(a, &n); err != nil {
				return nil, errors.Join(ErrBadRequest, err)
			}
			total += n
		}
		return total, nil
	})
	cases := []struct{ in, want, wantErr string }{
		{`{"action":"getUser","args":[{"id":7}]}`, `{"id":7,"name":"ada"}`, ""},
		{`{"action":"sum","args":[1,2,3]}`, `6`, ""},
		{`{"action":"getUser","args":[{"id":0}]}`, "", "ERR_NO_SUCH_USER"},
		{`{"action":"getUser","args":[{"id":"x"}]}`, "", "ERR_BAD_REQUEST: json: cannot unmarshal string"},
		{`{"action":"nope","args":[]}`, "", `ERR_UNKNOWN_ACTION: "nope" (known: getUser, sum)`},
		{`{"args":[]}`, "", `ERR_UNKNOWN_ACTION: missing "action" (known: getUser, sum)`},
		{`[1]`, "", `ERR_BAD_REQUEST: want {"action":"name","args":[...]}`},
		{`{"action":5}`, "", `ERR_BAD_REQUEST`},
	}
	for _, c := range cases {
		got, err := call(t, m, c.in)
		switch {
		case c.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), c.wantErr)):
			t.Errorf("%s: err %v, want prefix %q", c.in, err, c.wantErr)
		case c.wantErr == "" && (err != nil || got != c.want):
			t.Errorf("%s = %s %v, want %s", c.in, got, err, c.want)
		}
	}
}

func TestFuncDecodesWholePayloadOutsideMux(t *testing.T) {
	h := Func(getUser)
	if got, err := call(t, h, `{"id":3}`); err != nil || got != `{"id":3,"name":"ada"}` {
		t.Fatalf("got %s %v", got, err)
	}
	_, err := call(t, h, `"not an object"`)
	if !errors.Is(err, ErrBadRequest) || !strings.HasPrefix(err.Error(), "ERR_BAD_REQUEST: json: ") {
		t.Fatalf("decode error: %v", err)
	}
}

// Faults are middleware around any handler, not only the built-in jobs.
func TestFaultsWrapCustomHandler(t *testing.T) {
	h, _ := newTestHandler(Faults{ErrorRate: 1}, seqRand(0, 0), nil)
	h.next = Func(getUser)
	if _, err := h.handle(context.Background(), "svc", json.RawMessage(`{"id":1}`)); err == nil || err.Error() != ErrMsgInjected {
		t.Fatalf("want injected fault, got %v", err)
	}
	if count(h, jobOther, outcomeInjected) != 1 {
		t.Fatal("injected fault on a custom handler not counted")
	}
}
