package worker

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestConfigValidateNamesEveryProblem(t *testing.T) {
	c := DefaultConfig()
	c.Service = ""
	c.Port = 70000
	c.Grapes = []string{"127.0.0.1:30001"}
	c.AnnounceInterval = time.Millisecond
	c.Faults.ErrorRate = 3
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"service name", "port 70000", `grape URL "127.0.0.1:30001"`, "announce interval", "error rate 3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
}

func TestNewRejectsInvalidConfigAndCloseReleases(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("zero config accepted")
	}
	cfg := DefaultConfig()
	cfg.Bind, cfg.Port, cfg.AdminAddr = "127.0.0.1", 0, "127.0.0.1:0"
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(w.Addr(), "127.0.0.1:") || w.Port() == 0 {
		t.Fatalf("Addr %s Port %d", w.Addr(), w.Port())
	}
	// The port is taken until Close.
	cfg2 := cfg
	cfg2.Port, cfg2.AdminAddr = w.Port(), ""
	if _, err := New(cfg2); err == nil {
		t.Fatal("second worker bound the same port")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Run(context.Background()); err == nil {
		t.Fatal("Run after Close succeeded")
	}
	w2, err := New(cfg2)
	if err != nil {
		t.Fatalf("port not released by Close: %v", err)
	}
	_ = w2.Close()
}
