package version

import (
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func stamped(mainPath, mainVersion string, settings ...string) *debug.BuildInfo {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: mainPath, Version: mainVersion}}
	for i := 0; i+1 < len(settings); i += 2 {
		bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
	}
	return bi
}

func TestResolveFromBuildInfo(t *testing.T) {
	bi := stamped(ModulePath, "v0.3.0",
		"vcs.revision", "5c8471a1b2c3d4e5f60718293a4b5c6d7e8f9012",
		"vcs.time", "2026-12-04T18:00:00Z", "vcs.modified", "false")
	got := resolve(bi, "", "")
	want := Info{Version: "v0.3.0", Revision: "5c8471a1b2c3d4e5f60718293a4b5c6d7e8f9012",
		Time: "2026-12-04T18:00:00Z", GoVersion: "go1.26.8"}
	if got != want {
		t.Fatalf("resolve = %+v, want %+v", got, want)
	}
	if line := got.Line("grape"); line != "grape v0.3.0 (rev 5c8471a1b2c3, go1.26.8)" {
		t.Fatalf("Line = %q", line)
	}
}

func TestLinkerFlagsWin(t *testing.T) {
	bi := stamped(ModulePath, Devel, "vcs.revision", "aaaa")
	got := resolve(bi, "v0.4.0-2-gabc1234-dirty", "abc1234")
	if got.Version != "v0.4.0-2-gabc1234-dirty" || got.Revision != "abc1234" || !got.Modified {
		t.Fatalf("resolve = %+v", got)
	}
	// -dirty already says it: no ", modified" on top.
	if line := got.Line("worker"); line != "worker v0.4.0-2-gabc1234-dirty (rev abc1234, go1.26.8)" {
		t.Fatalf("Line = %q", line)
	}
}

func TestModifiedTreeIsShown(t *testing.T) {
	got := resolve(stamped(ModulePath, "v0.0.0-20261204180000-5c8471a1b2c3", "vcs.modified", "true"), "", "")
	if line := got.Line("client"); !strings.Contains(line, "(rev unknown, modified, go1.26.8)") {
		t.Fatalf("Line = %q", line)
	}
}

// A program outside the module that links the grape package reports the
// library's version, after a replace if there is one.
func TestLibraryVersionFromDeps(t *testing.T) {
	bi := stamped("example.com/app", "v1.0.0")
	bi.Deps = []*debug.Module{{Path: "golang.org/x/sync", Version: "v0.23.0"}, {Path: ModulePath, Version: "v0.2.0"}}
	if v := resolve(bi, "", "").Version; v != "v0.2.0" {
		t.Fatalf("version = %q, want the dependency's v0.2.0", v)
	}
	bi.Deps[1].Replace = &debug.Module{Path: "example.com/fork", Version: "v0.2.1-fork"}
	if v := resolve(bi, "", "").Version; v != "v0.2.1-fork" {
		t.Fatalf("version = %q, want the replacement's", v)
	}
}

func TestNoBuildInfo(t *testing.T) {
	got := resolve(nil, "", "")
	if got.Version != Devel || got.GoVersion != runtime.Version() || got.ShortRevision() != "unknown" {
		t.Fatalf("resolve(nil) = %+v", got)
	}
}

func TestCollector(t *testing.T) {
	i := Get()
	reg := prometheus.NewRegistry()
	reg.MustRegister(Collector("grape_build_info", "Build of this grape."))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 1 || mfs[0].GetName() != "grape_build_info" || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gathered %v", mfs)
	}
	m := mfs[0].GetMetric()[0]
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	want := map[string]string{"version": i.Version, "revision": i.Revision, "goversion": i.GoVersion}
	if !reflect.DeepEqual(labels, want) || m.GetGauge().GetValue() != 1 {
		t.Fatalf("labels %v value %v, want %v and 1", labels, m.GetGauge().GetValue(), want)
	}
}
