package transport

import (
	"errors"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/validate"
)

// The client configs' defaults are what a zero config gets, and Validate
// names a negative field.
func TestClientConfigDefaultsAndValidate(t *testing.T) {
	hd := DefaultHTTPClientConfig()
	if err := hd.Validate(); err != nil || (HTTPClientConfig{}).Validate() != nil {
		t.Fatalf("defaults or zero config refused: %v", err)
	}
	if got := NewHTTPClient(HTTPClientConfig{}); got.cfg != hd {
		t.Errorf("zero HTTP config became %+v, want %+v", got.cfg, hd)
	}
	wd := DefaultWSClientConfig()
	if err := wd.Validate(); err != nil || (WSClientConfig{}).Validate() != nil {
		t.Fatalf("defaults or zero config refused: %v", err)
	}
	ws := NewWSClient(WSClientConfig{})
	defer ws.Close()
	if ws.cfg != wd {
		t.Errorf("zero WS config became %+v, want %+v", ws.cfg, wd)
	}
	var fe *validate.FieldError
	if err := (HTTPClientConfig{IdleConnTimeout: -time.Second}).Validate(); !errors.As(err, &fe) || fe.Field != "IdleConnTimeout" || fe.Allowed != ">= 0s" {
		t.Errorf("negative IdleConnTimeout: %v", err)
	}
	if err := (WSClientConfig{MaxMessageBytes: -1}).Validate(); !errors.As(err, &fe) || fe.Field != "MaxMessageBytes" {
		t.Errorf("negative MaxMessageBytes: %v", err)
	}
}
