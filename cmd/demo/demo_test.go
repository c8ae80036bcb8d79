package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// TestDemoShort runs the whole demo, shortened, and checks that it prints
// the comparison for every phase and writes a self-contained report.
func TestDemoShort(t *testing.T) {
	o := defaultOptions()
	o.Duration = 4 * time.Second
	o.Rate = 50
	o.Out = filepath.Join(t.TempDir(), "sub", "demo.html")
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	if err := run(ctx, o, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"w1 is now", "w2 now fails", "healthy ", "w1 slow + w2 failing", "round-robin", "p99.9 / healthy", "HTML report: ", "live view of the adaptive client: http://127.0.0.1:", "live view of the round-robin client: http://127.0.0.1:"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	page, err := os.ReadFile(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Adaptive vs round-robin", "w1 slow + w2 failing", "(adaptive)", "(round-robin)", "<svg"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Offline: nothing may be fetched from the network.
	for _, bad := range []string{"http://", "https://"} {
		if i := bytes.Index(page, []byte("src="+bad)); i >= 0 {
			t.Errorf("report loads %s", page[i:i+40])
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, mod := range []func(*options){
		func(o *options) { o.Duration = time.Second },
		func(o *options) { o.Rate = 0 },
		func(o *options) { o.Out = "" },
		func(o *options) { o.Workers = 2 },
	} {
		o := defaultOptions()
		mod(&o)
		if o.validate() == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if err := defaultOptions().validate(); err != nil {
		t.Fatal(err)
	}
}
