package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/grenache-go/grenache/worker"
)

// checkHostSettings checks the service-host settings pkg/config's tags cannot express,
// worded like its errors.
func checkHostSettings(s settings) []error {
	var errs []error
	for _, n := range s.Services {
		if strings.TrimSpace(n) == "" {
			errs = append(errs, fmt.Errorf("invalid value %q for --services (env WORKER_SERVICES); allowed comma-separated non-empty names", strings.Join(s.Services, ",")))
			break
		}
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		errs = append(errs, fmt.Errorf("invalid values %q, %q for --tls-cert, --tls-key (env WORKER_TLS_CERT, WORKER_TLS_KEY); allowed both PEM file paths or neither", s.TLSCert, s.TLSKey))
	}
	if s.TLSCA != "" && s.TLSCert == "" {
		errs = append(errs, fmt.Errorf("invalid value %q for --tls-ca (env WORKER_TLS_CA); allowed only with --tls-cert and --tls-key (mutual TLS needs a server certificate)", s.TLSCA))
	}
	if s.Forward != "" && !httpURL(s.Forward) {
		errs = append(errs, fmt.Errorf("invalid value %q for --forward (env WORKER_FORWARD); allowed an http(s)://host[:port][/path] URL", s.Forward))
	}
	if s.ForwardHealth != "" && !httpURL(s.ForwardHealth) {
		errs = append(errs, fmt.Errorf("invalid value %q for --forward-health (env WORKER_FORWARD_HEALTH); allowed an http(s)://host[:port][/path] URL", s.ForwardHealth))
	}
	if s.Forward == "" && (s.ForwardHealth != "" || s.ForwardActionPath) {
		errs = append(errs, fmt.Errorf("--forward-health and --forward-action-path (env WORKER_FORWARD_HEALTH, WORKER_FORWARD_ACTION_PATH) need --forward (env WORKER_FORWARD); allowed only in sidecar mode"))
	}
	return errs
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// serviceHandler returns the handler the settings ask for: a Forwarder in sidecar mode (its
// health check gating announcing), else nil, the built-in jobs.
func serviceHandler(s settings, cfg *worker.Config) (worker.Handler, func(), error) {
	if s.Forward == "" {
		return nil, func() {}, nil
	}
	fc := worker.DefaultForwardConfig()
	fc.URL = s.Forward
	fc.ActionPath = s.ForwardActionPath
	fc.HealthURL = s.ForwardHealth
	fc.Timeout = s.ForwardTimeout
	f, err := worker.NewForward(fc)
	if err != nil {
		return nil, nil, err
	}
	if s.ForwardHealth != "" {
		cfg.HealthCheck = f.Health
	}
	return f, f.Close, nil
}
