package worker

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/grenache-go/grenache/internal/version"
)

// The admin API's /metrics and /healthz say which build answers.
func TestAdminShowsTheBuild(t *testing.T) {
	w, _ := startWorker(t, func(c *Config) { c.AdminAddr = "127.0.0.1:0" })
	base := "http://" + w.AdminAddr()
	build := version.Get()
	st, b := adminDo(t, "GET", base+"/metrics", "")
	want := fmt.Sprintf(`worker_build_info{goversion=%q,revision=%q,version=%q} 1`, build.GoVersion, build.Revision, build.Version)
	if st != 200 || !strings.Contains(b, want) {
		t.Errorf("metrics (%d) lack %s", st, want)
	}
	st, b = adminDo(t, "GET", base+"/healthz", "")
	var h map[string]any
	if st != 200 || json.Unmarshal([]byte(b), &h) != nil || h["version"] != build.Version {
		t.Errorf("healthz %d %s: want version %q", st, b, build.Version)
	}
}
