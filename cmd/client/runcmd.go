package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/grenache-go/grenache/client/loadgen"
	clientui "github.com/grenache-go/grenache/client/ui"
)

func runCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	s, cfg, code := load("client run", args, getenv, stdout, stderr)
	if code >= 0 {
		return code
	}
	switch {
	case s.Service == "":
		fmt.Fprintln(stderr, "client run: missing required setting --service: allowed a service name")
		return exitSettings
	case s.Rate > 0 && s.Concurrency > 0:
		fmt.Fprintln(stderr, "client run: --rate and --concurrency exclude each other: allowed one of them")
		return exitSettings
	case !json.Valid([]byte(s.Payload)):
		fmt.Fprintf(stderr, "client run: invalid value %q for --payload: allowed a JSON value\n", s.Payload)
		return exitSettings
	}
	if s.Rate == 0 && s.Concurrency == 0 {
		s.Concurrency = 16
	}
	rec := loadgen.NewRecorder()
	cfg.Hooks = rec.Hooks()
	m := setupMetrics(s, &cfg)   // nil without --metrics-addr
	var uiRec *clientui.Recorder // only with --ui: it costs a lock per attempt
	if s.UIAddr != "" {
		uiRec = clientui.NewRecorder()
		cfg.Hooks = uiRec.Hooks(cfg.Hooks)
	}
	l, code := newLink("client run", s, cfg, stderr)
	if code >= 0 {
		return code
	}
	defer l.Close()
	c, gr, code := newRunClient(s, l, cfg, getenv, stderr) // gr is nil without --gossip
	if code >= 0 {
		return code
	}
	defer c.Close()
	defer gr.close()
	if code := m.start(s.MetricsAddr, c, gr, stderr); code >= 0 {
		return code
	}
	defer m.close()
	if s.UIAddr != "" {
		stop, code := serveUI(s.UIAddr, c, uiRec, gr, stderr)
		if code >= 0 {
			return code
		}
		defer stop()
	}
	// Look the service up first so a typo fails at once, not after the duration.
	if err := c.Refresh(ctx, s.Service); err != nil {
		fmt.Fprintf(stderr, "client run: %v\n", err)
		return exitFailure
	}
	opts := loadgen.Options{
		Service: s.Service, Duration: s.Duration, Rate: s.Rate, Concurrency: s.Concurrency,
		Payload: json.RawMessage(s.Payload),
		Progress: func(p loadgen.Progress) {
			m.progress(p)
			fmt.Fprintf(stderr, "\r%5.1fs  requests %d  failed %d  last second %d req, p99 %.2f ms   ",
				p.Elapsed.Seconds(), p.Requests, p.Failed, p.LastSecond, p.LastP99MS)
		},
	}
	rep, err := loadgen.Run(ctx, c, rec, opts)
	fmt.Fprintln(stderr)
	if rep == nil {
		fmt.Fprintf(stderr, "client run: %v\n", err)
		return exitFailure
	}
	if err != nil {
		fmt.Fprintf(stderr, "client run: %v (partial report follows)\n", err)
	}
	// Stop gossiping before counting, so the report and /metrics (which
	// serves until the end) show the same final gossip counts.
	gr.close()
	rep.Gossip = gr.report()
	m.final(rep)
	_ = rep.WriteText(stdout)
	if s.JSONOut != "" {
		if werr := writeFile(s.JSONOut, rep.WriteJSON); werr != nil {
			fmt.Fprintf(stderr, "client run: %v\n", werr)
			return exitFailure
		}
	}
	if s.HTMLOut != "" {
		if werr := writeFile(s.HTMLOut, rep.WriteHTML); werr != nil {
			fmt.Fprintf(stderr, "client run: %v\n", werr)
			return exitFailure
		}
	}
	if err != nil || rep.Requests == 0 {
		return exitFailure
	}
	return exitOK
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
