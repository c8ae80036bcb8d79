// Package image checks the container image and the compose file without a
// container engine: scripts/docker-steps.sh replays the Dockerfile into a
// directory, and the tests run that file system's binaries as the image
// would (chroot, the image's USER) in the topology of compose.yaml on
// loopback.
package image

import (
	"os"
	"testing"

	"github.com/grenache-go/grenache/internal/leakcheck"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(leakcheck.Check(code))
}
