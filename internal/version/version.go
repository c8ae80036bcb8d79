// Package version says which build of Grenache in Go is running: the
// version, VCS revision and Go release that `--version`, the grape's
// /status and the *_build_info metrics report.
//
// The facts come from the module's build info (runtime/debug), which
// `go build` and `go install module@version` fill in. `make build`, the
// Dockerfile and `make dist` override them with linker flags, because a
// build from a source tree without .git (a container build context) or
// with GOFLAGS=-buildvcs=false has no VCS stamp:
//
//	go build -ldflags "-X github.com/grenache-go/grenache/internal/version.version=v0.3.0 \
//	  -X github.com/grenache-go/grenache/internal/version.revision=$(git rev-parse HEAD)" ./cmd/...
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set by the linker (-ldflags -X); empty in a plain `go build`.
var (
	version  string
	revision string
)

// ModulePath is this module's path: its version is looked up among the
// dependencies when a program outside the module links the grape or worker
// packages, so that /status reports the library's version, not the program's.
const ModulePath = "github.com/grenache-go/grenache"

// Devel is the version of a build that carries none: a `go build` or
// `go run` in a working tree without VCS stamping or linker flags.
const Devel = "(devel)"

// Info is what is known about the running build.
type Info struct {
	Version   string // "v0.3.0", "v0.3.0-2-gabc1234-dirty", a pseudo-version, or Devel
	Revision  string // VCS commit hash; "" when unknown
	Time      string // commit time (RFC 3339); "" when unknown
	Modified  bool   // the working tree had uncommitted changes
	GoVersion string // e.g. "go1.26.8"
}

// Get returns the running build's Info.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return resolve(bi, version, revision)
}

// resolve merges the build info (nil when the binary has none) with the
// linker-set values, which win.
func resolve(bi *debug.BuildInfo, ldVersion, ldRevision string) Info {
	info := Info{GoVersion: runtime.Version()}
	if bi != nil {
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		info.Version = moduleVersion(bi)
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.time":
				info.Time = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if ldVersion != "" {
		info.Version = ldVersion
		// git describe --dirty says so in the version itself.
		info.Modified = info.Modified || strings.HasSuffix(ldVersion, "-dirty")
	}
	if ldRevision != "" {
		info.Revision = ldRevision
	}
	if info.Version == "" {
		info.Version = Devel
	}
	return info
}

// moduleVersion is this module's version in bi: the main module's when
// the binary is one of ours, else the dependency's (after a replace).
func moduleVersion(bi *debug.BuildInfo) string {
	if bi.Main.Path == ModulePath {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path != ModulePath {
			continue
		}
		if d.Replace != nil && d.Replace.Version != "" {
			return d.Replace.Version
		}
		return d.Version
	}
	return ""
}

// ShortRevision is the first 12 hex digits of the revision, "unknown"
// when there is none.
func (i Info) ShortRevision() string {
	switch {
	case i.Revision == "":
		return "unknown"
	case len(i.Revision) > 12:
		return i.Revision[:12]
	default:
		return i.Revision
	}
}

// Line is the one line `--version` prints, e.g.
// "grape v0.3.0 (rev 5c8471a1b2c3, go1.26.8)"; a build from a modified
// tree whose version does not say so gets ", modified".
func (i Info) Line(program string) string {
	mod := ""
	if i.Modified && !strings.HasSuffix(i.Version, "-dirty") && !strings.HasSuffix(i.Version, "+dirty") {
		mod = ", modified"
	}
	return fmt.Sprintf("%s %s (rev %s%s, %s)", program, i.Version, i.ShortRevision(), mod, i.GoVersion)
}

// Line is Get().Line(program).
func Line(program string) string { return Get().Line(program) }
