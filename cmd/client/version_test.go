package main

import (
	"testing"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/internal/version"
)

// The version answers as a command, as a flag before any command and as
// a flag of a subcommand, without its required arguments.
func TestVersionExits0(t *testing.T) {
	t.Chdir(t.TempDir())
	want := version.Line("client") + "\n"
	for _, args := range [][]string{{"--version"}, {"version"}, {"call", "--version"}, {"run", "--version"}, {"call", "--version", "svc", "{}"}} {
		code, out, errs := runClient(t, map[string]string{"CLIENT_MAX_RETRIES": "abc"}, args...)
		if code != exitOK || out != want || errs != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 0 and %q", args, code, out, errs, want)
		}
	}
}

// `client run --metrics-addr` exports the build next to its other series.
func TestRunMetricsCarryTheBuild(t *testing.T) {
	var cfg client.Config
	m := setupMetrics(&settings{MetricsAddr: "127.0.0.1:0", Service: "svc"}, &cfg)
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	build := version.Get()
	for _, mf := range mfs {
		if mf.GetName() != "grenache_client_build_info" {
			continue
		}
		labels := map[string]string{}
		for _, l := range mf.GetMetric()[0].GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["version"] != build.Version || labels["revision"] != build.Revision || labels["goversion"] != build.GoVersion {
			t.Fatalf("labels %v, want %+v", labels, build)
		}
		return
	}
	t.Fatal("no grenache_client_build_info series")
}
