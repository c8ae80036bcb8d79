package budget

import (
	"context"
	"io"
)

// MinChunk is the first buffer a body read reserves: what a small RPC or
// lookup body needs, so a connection that sends one byte costs this much.
const MinChunk = 512

// ReadAll appends r to buf[:0] (reusing its capacity) until EOF or until it
// holds limit+1 bytes, whichever comes first: len > limit means the body is
// over the limit. The buffer grows only when full, to at most twice what was
// received (never past limit+1), and the lease is grown to cover the
// buffer's capacity before any byte is read into it: on top of what it
// already held, so one lease can cover several buffers (a raw body and its
// gunzipped copy). Errors are r's, or the
// lease's (ErrBusy, ErrTooLarge, ctx's); buf is returned in every case so
// the caller can pool it.
func ReadAll(ctx context.Context, l *Lease, buf []byte, r io.Reader, limit int64) ([]byte, error) {
	buf = buf[:0]
	base := l.Held()
	stop := limit + 1
	if int64(cap(buf)) > stop {
		buf = buf[:0:stop] // a pooled buffer larger than needed: use (and lease) only stop bytes
	}
	if err := l.Grow(ctx, base+int64(cap(buf))); err != nil {
		return buf, err
	}
	for int64(len(buf)) < stop {
		if len(buf) == cap(buf) {
			next := min(max(int64(2*cap(buf)), MinChunk), stop)
			if err := l.Grow(ctx, base+next); err != nil {
				return buf, err
			}
			nb := make([]byte, len(buf), next)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}
