package link

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Unannounce asks every configured grape to drop name -> port: POST
// /unannounce with the body of /announce, a Go grape extension (see
// docs/protocol.md). Each grape removes what it stored and asks the DHT
// nodes holding its announcements to drop them, so every grape is asked,
// not one: an announcement made through grape A is held under A's address
// and only A may take it back. It returns the sum of the grapes' counts: a
// Go grape answers how many DHT nodes acknowledged its unannounce_peer
// query plus the records it removed from its own store (a node acks
// whether or not it held the record, so this is not a count of records).
//
// A grape without the extension (a Node grape) cannot take the record back;
// it expires after the grapes' max age as before. Unannounce fails only when
// no grape accepted the request; the error then joins every grape's answer.
func (l *Link) Unannounce(ctx context.Context, name string, port int) (int, error) {
	if l.ctx.Err() != nil {
		return 0, ErrClosed
	}
	grapes := l.Grapes()
	var (
		mu      sync.Mutex
		removed int
		ok      bool
		errs    []error
		wg      sync.WaitGroup
	)
	for _, g := range grapes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := l.unannounceAt(ctx, g, name, port)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", g, err))
				return
			}
			ok = true
			removed += n
		}()
	}
	wg.Wait()
	if !ok {
		return 0, errors.Join(errs...)
	}
	return removed, nil
}

// unannounceAt sends one /unannounce to grape and decodes its count.
func (l *Link) unannounceAt(ctx context.Context, grape, name string, port int) (int, error) {
	body, err := encodeEnvelope([]any{name, port})
	if err != nil {
		return 0, err
	}
	status, reply, err := l.attempt(ctx, grape+"/unannounce", body)
	if err != nil {
		return 0, err
	}
	if status < 200 || status > 299 {
		return 0, &StatusError{Grape: grape, Status: status, Body: string(reply)}
	}
	var n int
	if err := decodeTyped(reply, &n); err != nil {
		return 0, err
	}
	return n, nil
}
