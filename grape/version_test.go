package grape

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/grenache-go/grenache/internal/version"
)

// /status and /metrics say which build answers, as --version does.
func TestStatusAndMetricsCarryTheBuild(t *testing.T) {
	g, _ := startFake(t, nil)
	build := version.Get()
	code, body, _ := get(t, g.APIURL()+"/status")
	var st Status
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil {
		t.Fatalf("status %d %q %v", code, body, err)
	}
	if st.Version != build.Version || st.Revision != build.Revision || st.GoVersion != build.GoVersion || st.Version == "" {
		t.Errorf("status build %q %q %q, want %+v", st.Version, st.Revision, st.GoVersion, build)
	}
	_, body, _ = get(t, g.APIURL()+"/metrics")
	want := fmt.Sprintf(`grape_build_info{goversion=%q,revision=%q,version=%q} 1`, build.GoVersion, build.Revision, build.Version)
	if !strings.Contains(body, want) {
		t.Errorf("metrics lack %s", want)
	}
}
