// Package report holds the load generator's result and renders it as text,
// JSON and a self-contained HTML page with SVG charts.
package report

import (
	"encoding/json"
	"io"
)

// Report is the result of one `client run`. The JSON field names are a
// contract with scripts: fields may be added, never renamed.
type Report struct {
	Strategy           string           `json:"strategy"`
	Service            string           `json:"service"`
	Mode               string           `json:"mode"` // "rate" (open loop) or "concurrency" (closed loop)
	Rate               float64          `json:"rate,omitempty"`
	Concurrency        int              `json:"concurrency,omitempty"`
	DurationS          float64          `json:"duration_s"`
	Requests           int64            `json:"requests"` // logical requests (retries are attempts)
	Succeeded          int64            `json:"succeeded"`
	Failed             int64            `json:"failed"`
	SuccessRate        float64          `json:"success_rate"`
	Attempts           int64            `json:"attempts"`
	AttemptsPerRequest float64          `json:"attempts_per_request"`
	LatencyMS          Percentiles      `json:"latency_ms"`
	Peers              []Peer           `json:"peers"`
	Timeline           []Second         `json:"timeline"`
	BreakerEvents      []BreakerEvent   `json:"breaker_events"`
	Errors             map[string]int64 `json:"errors,omitempty"` // final error messages by count (bounded)
	Gossip             *Gossip          `json:"gossip,omitempty"` // set by `client run --gossip`
}

// Gossip counts the health-hint messages of a run with gossip on.
type Gossip struct {
	Published uint64 `json:"published"`
	Received  uint64 `json:"received"`
	Applied   uint64 `json:"applied"`
	Rejected  uint64 `json:"rejected"`
}

// Percentiles of request latency in milliseconds.
type Percentiles struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// Peer is one peer's row: Requests counts attempts sent to it.
type Peer struct {
	Addr         string  `json:"addr"`
	Requests     int64   `json:"requests"`
	Share        float64 `json:"share"`
	Errors       int64   `json:"errors"`
	Timeouts     int64   `json:"timeouts"`
	BreakerOpens int64   `json:"breaker_opens"`
	Score        float64 `json:"score"`
	State        string  `json:"state,omitempty"`
	LatencyMS    float64 `json:"latency_ms"` // the client's latency estimate at the end
}

// Second is one timeline entry: T is the second (1 = the first), Requests the
// logical requests whose intended send time fell in it, Peers the attempts
// each peer received in it.
type Second struct {
	T        int              `json:"t"`
	Requests int64            `json:"requests"`
	Failed   int64            `json:"failed"`
	P50MS    float64          `json:"p50_ms"`
	P90MS    float64          `json:"p90_ms"`
	P99MS    float64          `json:"p99_ms"`
	Peers    map[string]int64 `json:"peers"`
}

// BreakerEvent is a breaker transition, T in seconds since the start.
type BreakerEvent struct {
	T    float64 `json:"t"`
	Addr string  `json:"addr"`
	From string  `json:"from"`
	To   string  `json:"to"`
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
