package link

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// Announce asks the grape to store name -> <grape's IP>:port in the DHT and
// returns how many DHT nodes acknowledged it. Grape error strings ("No nodes
// to query", "ERR_GRAPE_SERVICE_PORT", ...) are *GrapeError.
func (l *Link) Announce(ctx context.Context, name string, port int) (int, error) {
	reply, err := l.post(ctx, "announce", []any{name, port})
	if err != nil {
		return 0, err
	}
	var n int
	if err := decodeTyped(reply, &n); err != nil {
		return 0, err
	}
	return n, nil
}

// StartAnnouncing announces name:port now and then again after a random
// delay of 0.5–1.5 × interval, like Node's link, until StopAnnouncing or
// Close. The jitter keeps many services from re-announcing in lockstep.
// Calling it again for the same name and port replaces the running loop
// (e.g. to change the interval). Failures are logged and retried at the
// next tick; announcing never gives up while the loop runs.
func (l *Link) StartAnnouncing(name string, port int, interval time.Duration) {
	if interval <= 0 {
		interval = time.Second
	}
	key := announceKey(name, port)
	ctx, cancel := context.WithCancel(l.ctx)
	a := &announcer{cancel: cancel, done: make(chan struct{})}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		cancel()
		return
	}
	if old, ok := l.announcers[key]; ok {
		old.cancel()
	}
	l.announcers[key] = a
	l.wg.Add(1)
	l.mu.Unlock()
	go func() {
		defer l.wg.Done()
		defer close(a.done)
		l.announceLoop(ctx, name, port, interval)
	}()
}

// announcer is one running StartAnnouncing loop.
type announcer struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when the loop has exited
}

// StopAnnouncing stops the loop started for name and port, waits for it to
// exit (no announce for it is sent after that), then asks every grape to
// drop the announcement (Unannounce), bounded by RequestTimeout, so clients
// stop finding the service at once instead of after the DHT's max age. A
// grape without the extension (a Node grape) keeps the record until it
// expires; failures are logged, not returned: the loop is stopped either way.
func (l *Link) StopAnnouncing(name string, port int) { l.StopAnnouncingAll(port, name) }

// StopAnnouncingAll is StopAnnouncing for several names of one port: every
// loop stops before the first unannounce is sent, so no announce of one
// name can land after another was withdrawn (a host taking all its names
// off the network at once), and the unannounces go out together.
func (l *Link) StopAnnouncingAll(port int, names ...string) {
	var stopped []string
	for _, name := range names {
		l.mu.Lock()
		a, ok := l.announcers[announceKey(name, port)]
		if ok {
			delete(l.announcers, announceKey(name, port))
		}
		l.mu.Unlock()
		if ok {
			a.cancel()
			<-a.done
			stopped = append(stopped, name)
		}
	}
	ctx, cancel := context.WithTimeout(l.ctx, l.cfg.RequestTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, name := range stopped {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.Unannounce(ctx, name, port); err != nil && l.ctx.Err() == nil {
				l.cfg.Logger.Warn().Err(err).Str("service", name).Int("port", port).Msg("unannounce failed; the record expires on its own")
			}
		}()
	}
	wg.Wait()
}

func announceKey(name string, port int) string { return strconv.Itoa(port) + ":" + name }

func (l *Link) announceLoop(ctx context.Context, name string, port int, interval time.Duration) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if _, err := l.Announce(ctx, name, port); err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
			l.cfg.Logger.Warn().Err(err).Str("service", name).Int("port", port).Msg("announce failed")
		}
		timer.Reset(jitter(interval, rand.Float64()))
	}
}

// jitter scales d by a factor in [0.5, 1.5) given u in [0, 1).
func jitter(d time.Duration, u float64) time.Duration {
	return time.Duration(float64(d) * (0.5 + u))
}
