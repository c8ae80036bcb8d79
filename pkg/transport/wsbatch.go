package transport

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// wsFrameWriter writes the text frames of many goroutines to one socket in
// batches (group commit): a sender queues its frame, and the one that found
// nobody writing writes everything queued, again until the queue is empty,
// under one cork, so a batch costs one syscall. There is no writer
// goroutine: one call alone writes its own frame at once, with no hand-off.
//
// Many calls share a socket on the Grenache wire (Node's too), and one
// write per frame was a third of the CPU of either end at 16 and more in
// flight. Before writing, the writer yields once (runtime.Gosched), so that
// the senders already runnable, typically the callers woken by one read of
// many replies or the handlers of one read of many requests, queue their
// frames into the same batch; grpc-go's loopy writer yields the same way
// before flushing a small batch. A sender alone on its socket does not
// yield: there is nobody to wait for. Nor does a batch wait for more than
// wsBatchFrames: the sender that fills it writes it at once, taking the
// writing over from the one still yielding.
type wsFrameWriter struct {
	ws    *websocket.Conn
	cork  *corkConn
	yield func() // runtime.Gosched; a test holds a sender there

	mu       sync.Mutex
	queue    []*bytes.Buffer
	spare    []*bytes.Buffer // the previous batch's slice, reused
	flushing bool            // some sender writes the queue until it is empty
	yielding bool            // that sender has not started writing yet
	owner    uint64          // counts the senders that took the flushing on
	err      error           // the first failed batch; the socket is closed then
}

// wsBatchFrames is the batch a sender writes at once even while the sender
// before it still yields. Waiting for every runnable sender made one batch
// of all calls in flight, so the two ends took turns instead of working at
// once: at 16 in flight the client -> worker pair reached 86% of the bare
// pair (one socket per call) with all-in batches, 106% with 2, 149% with 4,
// 147% with 8 (median of 5 paired runs each, make bench-rpc-transports).
const wsBatchFrames = 4

// newWSFrameWriter writes to ws, which runs over cork; timeout bounds
// every write to the socket from now on.
func newWSFrameWriter(ws *websocket.Conn, cork *corkConn, timeout time.Duration) *wsFrameWriter {
	cork.setWriteTimeout(timeout)
	return &wsFrameWriter{ws: ws, cork: cork, yield: runtime.Gosched}
}

// send queues frame, which it owns from here on (it goes back to the
// buffer pool once written), and writes the batch when nobody else is.
// crowd says whether others may be about to send on this socket (calls or
// requests in flight beside this one's). A nil error means the frame was
// queued on a socket that had not failed; a frame is only known to be
// delivered when its reply comes back.
func (w *wsFrameWriter) send(frame *bytes.Buffer, crowd bool) error {
	w.mu.Lock()
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		putBuf(frame)
		return err
	}
	w.queue = append(w.queue, frame)
	switch {
	case !w.flushing:
		w.flushing = true
		w.owner++
		if !crowd {
			w.mu.Unlock()
			return w.flush()
		}
		me := w.owner
		w.yielding = true
		w.mu.Unlock()
		w.yield()
		w.mu.Lock()
		if w.owner != me {
			w.mu.Unlock()
			return nil // a sender took the batch over while this one yielded
		}
		w.yielding = false
		w.mu.Unlock()
		return w.flush()
	case w.yielding && len(w.queue) >= wsBatchFrames:
		// A full batch goes out now instead of waiting for the yielding
		// sender, so the peer starts on it while the rest queue.
		w.owner++
		w.yielding = false
		w.mu.Unlock()
		return w.flush()
	default:
		w.mu.Unlock()
		return nil
	}
}

// flush writes batches until the queue is empty. Every sender then has at
// most one frame queued (it waits for its reply before sending again), so
// the loop ends once the senders have been served.
func (w *wsFrameWriter) flush() error {
	for {
		w.mu.Lock()
		batch := w.queue
		if len(batch) == 0 {
			w.flushing = false
			w.mu.Unlock()
			return nil
		}
		w.queue, w.spare = w.spare, nil
		w.mu.Unlock()

		err := w.write(batch)
		for i, f := range batch {
			putBuf(f)
			batch[i] = nil
		}
		w.mu.Lock()
		w.spare = batch[:0]
		if err != nil {
			w.err = err
			for _, f := range w.queue {
				putBuf(f)
			}
			w.queue, w.flushing = nil, false
			w.mu.Unlock()
			// The socket is unusable: closing it fails every call
			// waiting on it at once, rather than at their timeouts.
			_ = w.ws.CloseNow()
			return err
		}
		w.mu.Unlock()
	}
}

func (w *wsFrameWriter) write(batch []*bytes.Buffer) error {
	w.cork.cork()
	var err error
	for _, f := range batch {
		// No deadline on the context: the library would arm and disarm a
		// timer per frame; the cork's write timeout bounds the socket.
		if err = w.ws.Write(context.Background(), websocket.MessageText, f.Bytes()); err != nil {
			break
		}
	}
	if uerr := w.cork.uncork(); err == nil {
		err = uerr
	}
	return err
}
