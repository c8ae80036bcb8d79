package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/macho"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// runDist runs scripts/dist.sh for one platform into dir.
func runDist(t *testing.T, dir, platform string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(repoRoot(t), "scripts", "dist.sh"), dir)
	cmd.Env = append(os.Environ(), "PLATFORMS="+platform, "VERSION="+testVersion, "REVISION="+testRevision)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dist.sh: %v\n%s", err, out)
	}
	t.Logf("dist.sh %s took %.1fs", platform, time.Since(start).Seconds())
}

// `make dist` for one cross target (the full four take minutes on two
// cores): the archive holds the three binaries for that OS and CPU with
// LICENSE and README.md, SHA256SUMS matches it, and a second run gives the
// same bytes.
func TestDistCrossBuildsWithChecksums(t *testing.T) {
	dir := t.TempDir()
	runDist(t, dir, "darwin/arm64")
	name := "grenache-" + testVersion + "-darwin-arm64"
	archive, err := os.ReadFile(filepath.Join(dir, name+".tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(archive)
	sums, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	if want := hex.EncodeToString(sum[:]) + "  " + name + ".tar.gz\n"; string(sums) != want {
		t.Errorf("SHA256SUMS = %q, want %q", sums, want)
	}

	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var files []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		files = append(files, h.Name)
		if base := filepath.Base(h.Name); base == "grape" || base == "worker" || base == "client" {
			body, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			f, err := macho.NewFile(bytes.NewReader(body))
			if err != nil {
				t.Errorf("%s is not a Mach-O binary: %v", h.Name, err)
				continue
			}
			if f.Cpu != macho.CpuArm64 {
				t.Errorf("%s is for %v, want arm64", h.Name, f.Cpu)
			}
			if !bytes.Contains(body, []byte(testVersion)) {
				t.Errorf("%s does not carry the version %s", h.Name, testVersion)
			}
		}
	}
	sort.Strings(files)
	var want []string
	for _, f := range []string{"LICENSE", "README.md", "client", "grape", "worker"} {
		want = append(want, name+"/"+f)
	}
	if strings.Join(files, " ") != strings.Join(want, " ") {
		t.Errorf("archive holds %v, want %v", files, want)
	}

	again := t.TempDir()
	runDist(t, again, "darwin/arm64")
	if sums2, _ := os.ReadFile(filepath.Join(again, "SHA256SUMS")); !bytes.Equal(sums, sums2) {
		t.Errorf("a second build differs: %q then %q", sums, sums2)
	}
}

// make build stamps the same linker variables as scripts/build-release.sh
// (which test/image checks by running the binaries): -X on a name that is
// not there is silently ignored.
func TestMakefileStampsTheVersionVariables(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join(repoRoot(t), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	sh, err := os.ReadFile(filepath.Join(repoRoot(t), "scripts", "build-release.sh"))
	if err != nil {
		t.Fatal(err)
	}
	pkg := regexp.MustCompile(`(?m)^VERSION_PKG := (\S+)$`).FindSubmatch(mk)
	shPkg := regexp.MustCompile(`(?m)^pkg=(\S+)$`).FindSubmatch(sh)
	if pkg == nil || shPkg == nil || string(pkg[1]) != string(shPkg[1]) {
		t.Fatalf("Makefile VERSION_PKG %q, build-release.sh pkg %q: want the same package", pkg, shPkg)
	}
	for _, v := range []string{"version", "revision"} {
		if !bytes.Contains(mk, []byte(fmt.Sprintf("-X $(VERSION_PKG).%s=", v))) || !bytes.Contains(sh, []byte(fmt.Sprintf("-X $pkg.%s=", v))) {
			t.Errorf("Makefile or build-release.sh does not set %s.%s", pkg[1], v)
		}
	}
}
