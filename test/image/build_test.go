package image

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The version and revision the replayed build is given, as --build-arg.
const (
	testVersion  = "v9.9.9-imagetest"
	testRevision = "0123456789abcdef0123456789abcdef01234567"
)

// image is the replayed Dockerfile's result.
type image struct {
	rootfs   string
	uid, gid uint32
	workdir  string
	env      []string // the image's ENV
}

var (
	buildOnce sync.Once
	buildDir  string // removed by TestMain
	built     *image
	buildErr  string
)

// repoRoot is the module root (two levels up from test/image).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// buildImage runs scripts/docker-steps.sh once per test binary.
func buildImage(t *testing.T) *image {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "grenache-image-")
		if err != nil {
			buildErr = err.Error()
			return
		}
		buildDir = dir
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(repoRoot(t), "scripts", "docker-steps.sh"), dir)
		cmd.Env = append(os.Environ(), "VERSION="+testVersion, "REVISION="+testRevision)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		if err := cmd.Run(); err != nil {
			buildErr = "docker-steps.sh: " + err.Error() + "\n" + out.String()
			return
		}
		t.Logf("docker-steps.sh took %.1fs", time.Since(start).Seconds())
		img, err := readImage(dir)
		if err != nil {
			buildErr = err.Error()
			return
		}
		built = img
	})
	if buildErr != "" {
		t.Fatal(buildErr)
	}
	return built
}

// readImage parses image.env: USER must be numeric (a scratch image has no
// /etc/passwd to resolve a name).
func readImage(dir string) (*image, error) {
	f, err := os.Open(filepath.Join(dir, "image.env"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img := &image{rootfs: filepath.Join(dir, "rootfs")}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "USER="):
			u, g, _ := strings.Cut(strings.TrimPrefix(line, "USER="), ":")
			uid, err1 := strconv.ParseUint(u, 10, 32)
			gid, err2 := strconv.ParseUint(g, 10, 32)
			if err1 != nil || err2 != nil {
				return nil, &os.PathError{Op: "USER", Path: line, Err: os.ErrInvalid}
			}
			img.uid, img.gid = uint32(uid), uint32(gid)
		case strings.HasPrefix(line, "WORKDIR="):
			img.workdir = strings.TrimPrefix(line, "WORKDIR=")
		case strings.HasPrefix(line, "ENV "):
			img.env = append(img.env, strings.TrimPrefix(line, "ENV "))
		}
	}
	return img, sc.Err()
}

// asRoot says whether processes can be run the way a container runs them:
// chrooted into the image, as its USER.
func asRoot() bool { return os.Geteuid() == 0 }

// command runs the image's binary name with args as the container would:
// chrooted into the rootfs as the image's USER in its WORKDIR. Without root
// it runs the rootfs's binary directly (and the test says so).
func (img *image) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	if !asRoot() {
		cmd := exec.CommandContext(ctx, filepath.Join(img.rootfs, "usr/local/bin", name), args...)
		cmd.Dir = filepath.Join(img.rootfs, img.workdir)
		cmd.Env = img.env
		return cmd
	}
	cmd := exec.CommandContext(ctx, "/usr/local/bin/"+name, args...)
	cmd.Path = "/usr/local/bin/" + name // inside the chroot; not looked up on this host
	cmd.Dir = img.workdir
	cmd.Env = img.env
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Chroot:     img.rootfs,
		Credential: &syscall.Credential{Uid: img.uid, Gid: img.gid},
	}
	return cmd
}

// The image holds the three static binaries and two owned directories,
// nothing else (no shell, no libc), runs as a non-root user, and each
// binary reports the version the build was given.
func TestImageIsStaticNonRootAndVersioned(t *testing.T) {
	img := buildImage(t)
	if img.uid == 0 || img.gid == 0 {
		t.Errorf("image USER %d:%d: want a non-root numeric uid and gid", img.uid, img.gid)
	}
	var files []string
	err := filepath.Walk(img.rootfs, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(img.rootfs, p)
		if !info.IsDir() {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if want := []string{"usr/local/bin/client", "usr/local/bin/grape", "usr/local/bin/worker"}; strings.Join(files, " ") != strings.Join(want, " ") {
		t.Errorf("image files %v, want only %v", files, want)
	}
	for _, dir := range []string{img.workdir, "/tmp"} {
		st, err := os.Stat(filepath.Join(img.rootfs, dir))
		if err != nil {
			t.Errorf("image lacks %s: %v", dir, err)
			continue
		}
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && asRoot() && (sys.Uid != img.uid || st.Mode().Perm()&0o200 == 0) {
			t.Errorf("%s is owned by %d (mode %v): the image's user %d cannot write it", dir, sys.Uid, st.Mode(), img.uid)
		}
	}
	for _, name := range []string{"grape", "worker", "client"} {
		checkStatic(t, filepath.Join(img.rootfs, "usr/local/bin", name))
		out, err := img.command(context.Background(), name, "--version").CombinedOutput()
		want := name + " " + testVersion + " (rev " + testRevision[:12] + ", go"
		if err != nil || !strings.HasPrefix(string(out), want) {
			t.Errorf("%s --version: %v, %q; want %q...", name, err, out, want)
		}
	}
	if !asRoot() {
		t.Log("not root: the binaries ran outside a chroot as the test's own user")
	}
}

// checkStatic fails unless the ELF file needs no interpreter and no shared
// libraries: such a binary runs on scratch.
func checkStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s has a %v program header: dynamically linked", path, p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs shared libraries %v", path, libs)
	}
}
