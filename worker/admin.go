package worker

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/grenache-go/grenache/internal/version"
)

// maxAdminBody bounds POST /admin/faults bodies; the real document is under 100 bytes.
const maxAdminBody = 4096

// adminRouter serves the admin API of one worker.
func (w *Worker) adminRouter() http.Handler {
	r := chi.NewRouter()
	r.Get("/healthz", func(rw http.ResponseWriter, _ *http.Request) {
		// 503 while draining tells a supervisor to stop routing here before we are gone.
		status, code := "ok", http.StatusOK
		select {
		case <-w.draining:
			status, code = "draining", http.StatusServiceUnavailable
		default:
		}
		writeJSON(rw, code, map[string]any{"status": status, "service": w.cfg.Service, "addr": w.Addr(), "version": version.Get().Version})
	})
	r.Get("/admin/faults", func(rw http.ResponseWriter, _ *http.Request) {
		writeJSON(rw, http.StatusOK, w.Faults().ToJSON())
	})
	r.Post("/admin/faults", w.postFaults)
	r.Handle("/metrics", promhttp.HandlerFor(w.h.m.reg, promhttp.HandlerOpts{}))
	return r
}

func (w *Worker) postFaults(rw http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxAdminBody))
	// Unknown fields are rejected so a typo ("error-rate") is an error, not a silent no-op.
	dec.DisallowUnknownFields()
	var j FaultsJSON
	if err := dec.Decode(&j); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty body")
		}
		writeJSON(rw, http.StatusBadRequest, map[string]string{
			"error": "invalid JSON: " + err.Error() + `; want {"latency_ms":N,"jitter_ms":N,"error_rate":0..1,"timeout_rate":0..1}`,
		})
		return
	}
	// Read-modify-write under the admin lock so concurrent partial updates do not lose fields.
	w.adminMu.Lock()
	f, err := j.Apply(w.Faults())
	if err == nil {
		w.SetFaults(f)
	}
	w.adminMu.Unlock()
	if err != nil {
		writeJSON(rw, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	w.log.Info().Interface("faults", f.ToJSON()).Msg("faults changed via admin API")
	writeJSON(rw, http.StatusOK, f.ToJSON())
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(v)
}
