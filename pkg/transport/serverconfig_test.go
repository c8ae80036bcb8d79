package transport

import (
	"errors"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/validate"
)

// A zero server or pub/sub config gets the documented defaults, and each
// constructor refuses a negative field with a FieldError naming it.
func TestServerConfigDefaults(t *testing.T) {
	h, err := NewHTTPServer(testHandler, HTTPServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	hd := DefaultHTTPServerConfig()
	if h.maxBody != hd.MaxBodyBytes || h.srv.ReadTimeout != hd.ReadTimeout || h.srv.IdleTimeout != hd.IdleTimeout ||
		h.streamIdle != hd.StreamIdleTimeout || h.budget == nil || h.srv.BaseContext != nil {
		t.Errorf("zero HTTP server config: body %d read %v idle %v stream idle %v budget %v", h.maxBody, h.srv.ReadTimeout, h.srv.IdleTimeout, h.streamIdle, h.budget)
	}
	ws, err := NewWSServer(testHandler, WSServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	wd := DefaultWSServerConfig()
	if ws.hub.maxMsg != wd.MaxMessageBytes || ws.maxInFlight != wd.MaxInFlight || ws.budget == nil {
		t.Errorf("zero WS server config: message %d in flight %d", ws.hub.maxMsg, ws.maxInFlight)
	}
	p, err := NewPublisher(PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	pd := DefaultPublisherConfig()
	if p.queue != pd.QueueSize || p.maxSubs != pd.MaxSubscribers || p.wtimo != pd.WriteTimeout {
		t.Errorf("zero publisher config: queue %d subs %d write %v", p.queue, p.maxSubs, p.wtimo)
	}
	s, err := NewSubscriber(&mutableResolver{}, "c", SubscriberConfig{ReconnectBackoffMin: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sd := DefaultSubscriberConfig()
	if s.lookupEvery != sd.LookupInterval || cap(s.out) != sd.MessageBuffer || s.bufBytes != sd.MessageBufferBytes || s.maxPubs != sd.MaxPublishers {
		t.Errorf("zero subscriber config: lookup %v buffer %d bytes %d publishers %d", s.lookupEvery, cap(s.out), s.bufBytes, s.maxPubs)
	}
	if s.backoffMax != s.backoffMin {
		t.Errorf("backoff max %v below min %v was not raised to it", s.backoffMax, s.backoffMin)
	}
}

func TestServerConfigValidate(t *testing.T) {
	for _, c := range []struct {
		field string
		err   error
	}{
		{"ReadTimeout", func() error { _, err := NewHTTPServer(testHandler, HTTPServerConfig{ReadTimeout: -1}); return err }()},
		{"StreamIdleTimeout", func() error {
			_, err := NewHTTPServer(testHandler, HTTPServerConfig{StreamIdleTimeout: -1})
			return err
		}()},
		{"MaxInFlight", func() error { _, err := NewWSServer(testHandler, WSServerConfig{MaxInFlight: -1}); return err }()},
		{"QueueSize", func() error { _, err := NewPublisher(PublisherConfig{QueueSize: -1}); return err }()},
		{"ReconnectBackoffMax", func() error {
			_, err := NewSubscriber(&mutableResolver{}, "c", SubscriberConfig{ReconnectBackoffMax: -1})
			return err
		}()},
	} {
		var fe *validate.FieldError
		if !errors.As(c.err, &fe) || fe.Field != c.field || fe.Allowed == "" {
			t.Errorf("negative %s: %v", c.field, c.err)
		}
	}
	for _, err := range []error{DefaultHTTPServerConfig().Validate(), DefaultWSServerConfig().Validate(),
		DefaultPublisherConfig().Validate(), DefaultSubscriberConfig().Validate()} {
		if err != nil {
			t.Errorf("defaults refused: %v", err)
		}
	}
}
