package report

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// WriteHTML writes a self-contained page: the summary, a chart of latency
// percentiles over time and one of each peer's share over time, with breaker
// transitions drawn as vertical lines. The charts are SVG rendered here and
// inlined, so the page needs no network.
func (r *Report) WriteHTML(w io.Writer) error {
	return WriteHTML(w, r)
}

// WriteHTML writes one self-contained page with a section per report, e.g.
// adaptive and round-robin runs against the same faults side by side.
func WriteHTML(w io.Writer, reps ...*Report) (err error) {
	// gonum/plot panics on some degenerate inputs; a report must not crash the run.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("report: rendering charts: %v", p)
		}
	}()
	var secs []map[string]any
	title := "client run"
	for _, r := range reps {
		lat, err := r.latencySVG()
		if err != nil {
			return err
		}
		share, err := r.shareSVG()
		if err != nil {
			return err
		}
		var summary bytes.Buffer
		if err := r.WriteText(&summary); err != nil {
			return err
		}
		secs = append(secs, map[string]any{
			"R": r, "Summary": summary.String(),
			"Latency": template.HTML(lat), "Share": template.HTML(share),
		})
		title += " · " + r.Service + " (" + r.Strategy + ")"
	}
	return page.Execute(w, map[string]any{"Title": title, "Sections": secs})
}

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:70em}pre{background:#f4f4f4;padding:1em}
.legend span{margin-right:1.5em}section{border-top:2px solid #ccc;margin-top:2em}</style></head><body>
<h1>{{.Title}}</h1>
<p class="legend">Dashed vertical lines are breaker transitions: <span style="color:#d62728">to OPEN</span>
<span style="color:#ff7f0e">to HALF_OPEN</span><span style="color:#2ca02c">to CLOSED</span></p>
{{range .Sections}}<section>
<h2>{{.R.Service}} — {{.R.Strategy}}</h2>
<pre>{{.Summary}}</pre>
<h3>Latency over time</h3>
{{.Latency}}
<h3>Share of attempts per peer over time</h3>
{{.Share}}
{{if .R.BreakerEvents}}<h3>Breaker transitions</h3><table><tr><th>t (s)</th><th>peer</th><th>from</th><th>to</th></tr>
{{range .R.BreakerEvents}}<tr><td>{{printf "%.2f" .T}}</td><td>{{.Addr}}</td><td>{{.From}}</td><td>{{.To}}</td></tr>
{{end}}</table>{{end}}
</section>
{{end}}</body></html>
`))

func (r *Report) latencySVG() (string, error) {
	p, err := r.latencyPlot()
	if err != nil {
		return "", err
	}
	return render(p)
}

func (r *Report) latencyPlot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "request latency per second"
	p.X.Label.Text = "time (s)"
	p.Y.Label.Text = "latency (ms)"
	series := []struct {
		name string
		get  func(Second) float64
	}{
		{"p50", func(s Second) float64 { return s.P50MS }},
		{"p90", func(s Second) float64 { return s.P90MS }},
		{"p99", func(s Second) float64 { return s.P99MS }},
	}
	ymax := 0.0
	for i, s := range series {
		xy := make(plotter.XYs, len(r.Timeline))
		for j, sec := range r.Timeline {
			xy[j] = plotter.XY{X: float64(sec.T), Y: s.get(sec)}
			ymax = max(ymax, xy[j].Y)
		}
		if err := addLine(p, s.name, xy, i); err != nil {
			return nil, err
		}
	}
	r.addBreakerLines(p, ymax)
	return p, nil
}

func (r *Report) shareSVG() (string, error) {
	p, err := r.sharePlot()
	if err != nil {
		return "", err
	}
	return render(p)
}

func (r *Report) sharePlot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "share of attempts per peer"
	p.X.Label.Text = "time (s)"
	p.Y.Label.Text = "share"
	p.Y.Min, p.Y.Max = 0, 1
	addrs := make([]string, 0, len(r.Peers))
	for _, pe := range r.Peers {
		addrs = append(addrs, pe.Addr)
	}
	sort.Strings(addrs)
	for i, a := range addrs {
		xy := make(plotter.XYs, len(r.Timeline))
		for j, sec := range r.Timeline {
			var total int64
			for _, n := range sec.Peers {
				total += n
			}
			y := 0.0
			if total > 0 {
				y = float64(sec.Peers[a]) / float64(total)
			}
			xy[j] = plotter.XY{X: float64(sec.T), Y: y}
		}
		if err := addLine(p, a, xy, i); err != nil {
			return nil, err
		}
	}
	r.addBreakerLines(p, 1)
	return p, nil
}

func addLine(p *plot.Plot, name string, xy plotter.XYs, i int) error {
	if len(xy) == 0 {
		return nil
	}
	l, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.5)
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

func (r *Report) addBreakerLines(p *plot.Plot, ymax float64) {
	if ymax <= 0 {
		ymax = 1
	}
	for _, e := range r.BreakerEvents {
		l, err := plotter.NewLine(plotter.XYs{{X: e.T, Y: 0}, {X: e.T, Y: ymax}})
		if err != nil {
			continue
		}
		switch e.To {
		case "OPEN":
			l.Color = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
		case "HALF_OPEN":
			l.Color = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
		default:
			l.Color = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
		}
		l.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		p.Add(l)
	}
}

// render draws the plot as SVG without the XML prolog, ready to inline.
func render(p *plot.Plot) (string, error) {
	p.Legend.Top = true
	c := vgsvg.New(9*vg.Inch, 3.5*vg.Inch)
	p.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return "", err
	}
	s := b.String()
	if i := strings.Index(s, "<svg"); i > 0 {
		s = s[i:]
	}
	return s, nil
}
