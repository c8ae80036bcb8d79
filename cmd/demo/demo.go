package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/client/report"
	clientui "github.com/grenache-go/grenache/client/ui"
	"github.com/grenache-go/grenache/internal/lab"
	"github.com/grenache-go/grenache/pkg/link"
)

// options are the demo's few knobs; the defaults finish in about 35 s.
type options struct {
	Duration time.Duration
	Rate     float64
	Out      string
	Workers  int
	Grapes   int
	// UI is where the clients' live views are served ("" = not at all).
	UI string
}

func defaultOptions() options {
	return options{Duration: 30 * time.Second, Rate: 200, Out: filepath.Join("reports", "demo.html"), Workers: 4, Grapes: 3, UI: "127.0.0.1:0"}
}

func (o options) validate() error {
	switch {
	case o.Duration < 3*time.Second || o.Duration > time.Hour:
		return fmt.Errorf("invalid --duration %v: allowed 3s..1h", o.Duration)
	case o.Rate <= 0 || o.Rate > 5000:
		return fmt.Errorf("invalid --rate %g: allowed 0 < rate ≤ 5000", o.Rate)
	case o.Out == "":
		return errors.New("--out must not be empty")
	case o.Workers < 3:
		return errors.New("the demo needs at least 3 workers")
	}
	return nil
}

const service = "demo:job"

// Faults of the demo: worker 1 turns slow at 1/3 of the run, worker 2
// starts failing 40% of its requests at 1/2.
const (
	slowBy    = 60 * time.Millisecond
	failShare = 0.4
)

func run(ctx context.Context, o options, out io.Writer) (err error) {
	fmt.Fprintf(out, "starting %d grapes and %d workers on 127.0.0.1...\n", o.Grapes, o.Workers)
	gs, err := lab.StartGrapes(o.Grapes, 15*time.Second)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, gs.Close()) }()
	urls := gs.URLs()
	ws, err := lab.StartWorkers(urls[:1], service, o.Workers, time.Second)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, ws.Close()) }()
	lc := link.DefaultConfig()
	lc.Grapes = []string{urls[len(urls)-1], urls[0]}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	err = ws.WaitVisible(wctx, lc.Grapes[0])
	cancel()
	if err != nil {
		return err
	}
	lk, err := link.New(lc)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, lk.Close()) }()

	var runners []*lab.Runner
	defer func() {
		for _, r := range runners {
			err = errors.Join(err, r.Close())
		}
	}()
	views := map[string]*clientui.Recorder{}
	for _, s := range []string{client.StrategyAdaptive, client.StrategyRoundRobin} {
		rec := clientui.NewRecorder()
		views[s] = rec
		r, err := lab.NewRunner(s, lk, func(c *client.Config) { c.Hooks = rec.Hooks(c.Hooks) })
		if err != nil {
			return err
		}
		runners = append(runners, r)
	}
	if o.UI != "" {
		stop, err := serveViews(o.UI, runners, views, out)
		if err != nil {
			return err
		}
		defer stop()
	}

	// Workers are named w0..wN in every table; the faults are told apart
	// by phase, so a healthy-phase row does not carry a later fault's name.
	label := func(addr string) string {
		for i, a := range ws.Addrs() {
			if a == addr {
				return fmt.Sprintf("w%d", i)
			}
		}
		return addr
	}
	slowAt, failAt := o.Duration/3, o.Duration/2
	fmt.Fprintf(out, "grapes %s; workers %s\n", strings.Join(urls, " "), strings.Join(ws.Addrs(), " "))
	fmt.Fprintf(out, "%g req/s through adaptive and through round-robin for %v, at the same time, against the same workers.\n", o.Rate, o.Duration)
	fmt.Fprintf(out, "at %v w1 turns %v slower; at %v w2 starts failing %.0f%% of its requests.\n\n", slowAt, slowBy, failAt, 100*failShare)
	plan := lab.Plan{
		Service: service, Rate: o.Rate, Duration: o.Duration,
		Steps: []lab.Step{
			{Phase: "healthy"},
			{At: slowAt, Phase: "w1 slow", Do: func() error {
				fmt.Fprintf(out, "  >>> w1 is now %v slower\n", slowBy)
				return ws.SetFaults(1, lab.Slower(lab.BaseService, slowBy))
			}},
			{At: failAt, Phase: "w1 slow + w2 failing", Do: func() error {
				fmt.Fprintf(out, "  >>> w2 now fails %.0f%% of its requests\n", 100*failShare)
				return ws.SetFaults(2, lab.Failing(lab.BaseService, failShare))
			}},
		},
		Tick: func(d time.Duration) { progress(out, runners, d) },
	}
	res, err := lab.Run(ctx, plan, runners...)
	if err != nil {
		return err
	}
	fmt.Fprintln(out)
	if err := summary(out, res, label); err != nil {
		return err
	}
	if err := writeHTML(o.Out, res, label); err != nil {
		return err
	}
	abs, _ := filepath.Abs(o.Out)
	fmt.Fprintf(out, "\nHTML report: %s (open it in a browser; it needs no network)\n", abs)
	return nil
}

// progress prints one line per second: each strategy's last second.
func progress(out io.Writer, runners []*lab.Runner, d time.Duration) {
	sec := int(d/time.Second) - 1
	var b strings.Builder
	fmt.Fprintf(&b, "t=%3ds", sec+1)
	for _, r := range runners {
		w := r.Live(sec)
		fmt.Fprintf(&b, "   %-11s p50 %6.1f ms  p99 %6.1f ms  failed %d", r.Strategy, ms(w.P50), ms(w.P99), w.Failed)
	}
	fmt.Fprintln(out, b.String())
}

// summary prints, per phase and strategy, success, attempts and latency,
// and each worker's share of the attempts.
func summary(out io.Writer, res *lab.Result, label func(string) string) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "phase\tstrategy\trequests\tsuccess\tattempts/req\tp50 ms\tp99 ms\tp99.9 ms\tshare of attempts per worker")
	for i, p := range res.Phases {
		for _, r := range res.Runs {
			w := r.Phases(p.Name, i, i+1)
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f%%\t%.3f\t%.1f\t%.1f\t%.1f\t%s\n", p.Name, r.Strategy, w.Requests, 100*w.SuccessRate(),
				w.AttemptsPerRequest(), ms(w.P50), ms(w.P99), ms(w.P999), shareLine(w, label))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	a, rr := res.Run(client.StrategyAdaptive), res.Run(client.StrategyRoundRobin)
	fa, fr := a.Phases("", 1, len(res.Phases)), rr.Phases("", 1, len(res.Phases))
	w1 := addrOf(res, label, "w1")
	fmt.Fprintf(out, "\nonce the faults begin (%v on):\n", res.Phases[1].From)
	fmt.Fprintf(out, "  p99 latency        adaptive %7.1f ms   round-robin %7.1f ms\n", ms(fa.P99), ms(fr.P99))
	fmt.Fprintf(out, "  p99.9 latency      adaptive %7.1f ms   round-robin %7.1f ms\n", ms(fa.P999), ms(fr.P999))
	ha, hr := a.Phases("", 0, 1), rr.Phases("", 0, 1)
	fmt.Fprintf(out, "  p99.9 / healthy    adaptive %7.2f×      round-robin %7.2f×   (healthy p99.9 %.1f ms and %.1f ms; the goal is ≤ 2×)\n",
		ratio(fa.P999, ha.P999), ratio(fr.P999, hr.P999), ms(ha.P999), ms(hr.P999))
	fmt.Fprintf(out, "  slow w1's share    adaptive %7.1f %%    round-robin %7.1f %%\n", 100*fa.Share(w1), 100*fr.Share(w1))
	fmt.Fprintf(out, "  failed requests    adaptive %7d      round-robin %7d\n", fa.Failed, fr.Failed)
	fmt.Fprintf(out, "  attempts/request   adaptive %7.3f      round-robin %7.3f\n", fa.AttemptsPerRequest(), fr.AttemptsPerRequest())
	fmt.Fprintln(out, "(both clients share breakers, retries and the adaptive hedge; only peer selection differs. w2's breaker trips under both.)")
	return nil
}

// addrOf finds the address a label names.
func addrOf(res *lab.Result, label func(string) string, name string) string {
	for _, r := range res.Runs {
		for addr := range r.Total().PeerAttempts {
			if label(addr) == name {
				return addr
			}
		}
	}
	return ""
}

func shareLine(w lab.Window, label func(string) string) string {
	parts := []string{}
	for addr := range w.PeerAttempts {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", label(addr), 100*w.Share(addr)))
	}
	sort.Strings(parts)
	return strings.Join(parts, "  ")
}

// writeHTML writes one self-contained page with the client's report writer
// (a section per strategy: summary, latency and share charts, breaker
// transitions), with the phase-by-phase comparison added at the top.
func writeHTML(path string, res *lab.Result, label func(string) string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var reps []*report.Report
	for _, r := range res.Runs {
		reps = append(reps, res.Report(r, label))
	}
	var page bytes.Buffer
	if err := report.WriteHTML(&page, reps...); err != nil {
		return err
	}
	var cmp strings.Builder
	if err := summary(&cmp, res, label); err != nil {
		return err
	}
	var head strings.Builder
	head.WriteString("\n<h2>Adaptive vs round-robin: same workers, same faults, same moment</h2>\n<p>")
	fmt.Fprintf(&head, "%g req/s through each client for %v. Phases: ", res.Rate, res.Duration)
	for i, p := range res.Phases {
		if i > 0 {
			head.WriteString("; ")
		}
		fmt.Fprintf(&head, "%s from %v", html.EscapeString(p.Name), p.From)
	}
	head.WriteString(".</p>\n<pre>" + html.EscapeString(cmp.String()) + "</pre>\n")
	out := page.String()
	at := strings.Index(out, "</h1>")
	if at < 0 {
		return errors.New("demo: unexpected report page layout")
	}
	at += len("</h1>")
	return os.WriteFile(path, []byte(out[:at]+head.String()+out[at:]), 0o644)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// ratio is a/b, 0 when b is 0 (an empty phase).
func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
