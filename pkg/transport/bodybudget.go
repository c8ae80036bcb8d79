package transport

import (
	"context"
	"errors"
	"net/http"

	"github.com/grenache-go/grenache/pkg/budget"
)

// DefaultBodyBudget is the bytes of request bodies one server reads or
// decompresses at once unless told otherwise: eight 8 MiB bodies, or
// tens of thousands of small RPCs.
const DefaultBodyBudget = 64 << 20

// MinBodyBudget is the smallest budget that lets one request with a body
// of maxBody bytes through: the raw body and its gunzipped copy (each read
// one byte past the limit to detect an oversized one) plus the
// decompressor's state.
func MinBodyBudget(maxBody int64) int64 { return 2*(maxBody+1) + gunzipReserve }

// defaultBudget is a server's own budget when none is shared with it.
func defaultBudget(maxBody int64) *budget.Budget {
	b, _ := budget.New(max(DefaultBodyBudget, MinBodyBudget(maxBody)), budget.DefaultWait)
	return b
}

// isBudgetErr reports a failure to get budget (as opposed to a bad body).
func isBudgetErr(ctx context.Context, err error) bool {
	return errors.Is(err, budget.ErrBusy) || errors.Is(err, budget.ErrTooLarge) ||
		(ctx.Err() != nil && errors.Is(err, ctx.Err()))
}

// bodyError answers a body that could not be read. A request refused for
// budget is closed after the reply: net/http would otherwise wait for the
// unread rest of its body before sending the reply, which a stalled or
// hostile client never sends.
func (s *HTTPServer) bodyError(w http.ResponseWriter, err error, compress bool, rid []byte) {
	status, tok := bodyErrorReply(err)
	if status == http.StatusServiceUnavailable {
		w.Header()["Connection"] = []string{"close"}
	}
	s.reply(w, status, compress, rid, tok, true, nil)
}

// bodyErrorReply maps a body read failure to its status and wire token:
// over the limit is the client's fault (413); no budget is the server's
// momentary state (503, which callers retry elsewhere); anything else is
// an unreadable body (400).
func bodyErrorReply(err error) (int, string) {
	switch {
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge, TokenRequestTooLarge
	case errors.Is(err, budget.ErrBusy), errors.Is(err, budget.ErrTooLarge),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, TokenServerBusy
	}
	return http.StatusBadRequest, TokenRequestParse
}
