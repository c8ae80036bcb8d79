package grape

import (
	"context"
	"testing"
)

// An unannounce waits for the announces of its name:port in flight; if a
// newer announce of it joins while it waits (a worker restarted on the same
// port while its predecessor's cancelled announce still ran), wait reports
// it superseded, so the newer record is not taken back.
func TestAnnouncingWaitReportsSuperseded(t *testing.T) {
	var a announcing
	const id = "1337:svc"
	if a.watch(id).wait(context.Background()) {
		t.Fatal("nothing in flight: not superseded")
	}

	a.enter(id) // the old worker's announce, still running
	w := a.watch(id)
	a.enter(id) // the new worker announces
	a.leave(id)
	a.leave(id)
	if !w.wait(context.Background()) {
		t.Fatal("an announce that entered during the wait must supersede the unannounce")
	}

	a.enter(id)
	w = a.watch(id)
	a.leave(id)
	if w.wait(context.Background()) {
		t.Fatal("only the announce in flight before the unannounce: not superseded")
	}
}
