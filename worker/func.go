package worker

import (
	"context"
	"encoding/json"
	"fmt"
)

// Func adapts a typed function to Handler: the payload is decoded into Req with
// encoding/json (a payload that does not fit is answered "ERR_BAD_REQUEST: json: ..."
// without calling f), and f's Resp is encoded as the result. Inside a Mux, Req is decoded
// from the first of the action's args instead of the whole payload, so
// mux.Handle("getUser", worker.Func(getUser)) serves {"action":"getUser","args":[{...}]}.
func Func[Req, Resp any](f func(ctx context.Context, req Req) (Resp, error)) Handler {
	return HandlerFunc(func(ctx context.Context, r *Request) (any, error) {
		raw := r.Payload
		if args, ok := ctx.Value(actionKey{}).([]json.RawMessage); ok {
			raw = json.RawMessage("null")
			if len(args) > 0 {
				raw = args[0]
			}
		}
		var req Req
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
		return f(ctx, req)
	})
}
