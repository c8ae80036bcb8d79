package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/grenache-go/grenache/pkg/transport"
)

// StreamRequest is a streamed request as a StreamHandler sees it: rid and
// key from the _gr header, the _a action and _ar args, and the body as a
// reader (see transport.StreamRequest).
type StreamRequest = transport.StreamRequest

// StreamHandler serves streamed requests (grenache-nodejs-http's
// PeerRPCClient.stream), reading the body as it arrives and writing the
// reply as it goes; req.Reply writes the usual [rid, err, result] triple.
// It runs beside the buffered Handler on the same port: only chunked
// requests with a _gr header reach it.
type StreamHandler = transport.StreamHandler

// StreamJobSHA256 is the built-in streaming job's action: the reply's
// result is {"sha256":"<hex>","bytes":N} of the streamed body, so any
// Node streaming client can check a Go worker.
const StreamJobSHA256 = "sha256"

// streamJobs serves the built-in streaming jobs.
func streamJobs(_ context.Context, req *StreamRequest, w io.Writer) error {
	if req.Action != StreamJobSHA256 {
		return fmt.Errorf("%w: %q (known: %s)", ErrUnknownAction, clip([]byte(req.Action)), StreamJobSHA256)
	}
	h := sha256.New()
	n, err := io.Copy(h, req.Body) // 32 KiB at a time, whatever the stream's length
	if err != nil {
		return fmt.Errorf("ERR_STREAM_READ: %w", err)
	}
	return req.Reply(w, struct {
		SHA256 string `json:"sha256"`
		Bytes  int64  `json:"bytes"`
	}{hex.EncodeToString(h.Sum(nil)), n}, nil)
}

// streamHandler is the host's stream handler: the configured one, or the
// built-in jobs for a host serving the built-in jobs, or nil (streams are
// then parsed as buffered requests, as in a Node server without
// disableBuffered). Requests are counted for the drain like buffered ones.
func (w *Worker) streamHandler() transport.StreamHandler {
	sh := w.cfg.Stream
	if sh == nil && w.h.next == nil {
		sh = streamJobs
	}
	if sh == nil {
		return nil
	}
	return func(ctx context.Context, req *StreamRequest, out io.Writer) error {
		w.h.active.Add(1)
		defer w.h.active.Add(-1)
		return sh(ctx, req, out)
	}
}
