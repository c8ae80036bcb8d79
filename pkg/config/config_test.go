package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

type testSettings struct {
	Port    int           `env:"T_PORT" flag:"p,port" required:"true" allowed:"0..65535" usage:"a port"`
	Age     int           `env:"T_AGE" envDefault:"120000" flag:"dpa,age" allowed:"0.." usage:"ms"`
	Limit   int64         `env:"T_LIMIT" envDefault:"8192" flag:"limit" allowed:"1.." usage:"bytes"`
	List    []string      `env:"T_LIST" flag:"bn,list" usage:"list"`
	Format  string        `env:"T_FORMAT" envDefault:"json" flag:"log-format" allowed:"json|console" usage:"format"`
	Timeout time.Duration `env:"T_TIMEOUT" envDefault:"2s" flag:"timeout" usage:"timeout"`
	Verbose bool          `env:"T_VERBOSE" flag:"v" usage:"verbose"`
	EnvOnly string        `env:"T_ENV_ONLY" usage:"no flag"`
	Wait    time.Duration `env:"T_WAIT" envDefault:"0" flag:"wait" allowed:"0..1000" usage:"a wait"`
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func load(t *testing.T, args []string, env map[string]string) (testSettings, error) {
	t.Helper()
	var s testSettings
	err := Load(&s, Source{Name: "t", Args: args, Getenv: envOf(env), DotEnv: "-"})
	return s, err
}

func TestDefaultsAndAliases(t *testing.T) {
	s, err := load(t, []string{"-p", "1", "--bn", "a:1,,b:2", "-v"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Port != 1 || s.Age != 120000 || s.Limit != 8192 || s.Format != "json" || s.Timeout != 2*time.Second || !s.Verbose {
		t.Errorf("defaults: %+v", s)
	}
	if strings.Join(s.List, "|") != "a:1|b:2" {
		t.Errorf("list %q", s.List)
	}
	s, err = load(t, []string{"--port=2", "--list", ""}, nil)
	if err != nil || s.Port != 2 || len(s.List) != 0 {
		t.Errorf("long alias / empty list: %+v %v", s, err)
	}
}

func TestFlagBeatsEnv(t *testing.T) {
	env := map[string]string{"T_PORT": "5", "T_AGE": "1000", "T_LIST": "x:1", "T_TIMEOUT": "250"}
	s, err := load(t, []string{"--dpa", "2000"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if s.Port != 5 || s.Age != 2000 || s.List[0] != "x:1" || s.Timeout != 250*time.Millisecond {
		t.Errorf("got %+v", s)
	}
}

func TestDotEnv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	if err := os.WriteFile(path, []byte("T_PORT=7\nT_AGE=99\nT_ENV_ONLY=dot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var s testSettings
	err := Load(&s, Source{Name: "t", Getenv: envOf(map[string]string{"T_AGE": "11"}), DotEnv: path})
	if err != nil {
		t.Fatal(err)
	}
	if s.Port != 7 || s.Age != 11 || s.EnvOnly != "dot" {
		t.Errorf("env must win over .env, .env over defaults: %+v", s)
	}
	// The default is ./.env; a missing file is fine.
	t.Chdir(dir)
	s = testSettings{}
	if err := Load(&s, Source{Name: "t", Getenv: envOf(nil)}); err != nil || s.Port != 7 {
		t.Errorf("cwd .env not read: %+v %v", s, err)
	}
	t.Chdir(t.TempDir())
	if err := Load(&s, Source{Name: "t", Args: []string{"-p", "1"}, Getenv: envOf(nil)}); err != nil {
		t.Errorf("missing .env must not fail: %v", err)
	}
}

func TestErrorsNameFlagAndEnv(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want []string
	}{
		{[]string{"-p", "abc"}, nil, []string{"-p/--port", "T_PORT", `"abc"`, "0..65535", "flag"}},
		{[]string{"-p", "70000"}, nil, []string{"-p/--port", "T_PORT", "0..65535"}},
		{nil, map[string]string{"T_PORT": "x1"}, []string{"-p/--port", "T_PORT", `"x1"`, "env"}},
		{nil, nil, []string{"missing", "-p/--port", "T_PORT"}},
		{[]string{"-p", "1", "--log-format", "xml"}, nil, []string{"--log-format", "T_FORMAT", "json, console"}},
		{[]string{"-p", "1"}, map[string]string{"T_LIMIT": "0"}, []string{"--limit", "T_LIMIT", ">= 1", "env"}},
		{[]string{"-p", "1"}, map[string]string{"T_TIMEOUT": "soon"}, []string{"--timeout", "T_TIMEOUT", "duration"}},
	}
	for _, c := range cases {
		_, err := load(t, c.args, c.env)
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%v %v: want *Error, got %v", c.args, c.env, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v %v: %q lacks %q", c.args, c.env, err, w)
			}
		}
	}
	if _, err := load(t, []string{"-p", "1", "extra"}, nil); err == nil || !strings.Contains(err.Error(), "extra") {
		t.Errorf("extra argument: %v", err)
	}
	if _, err := load(t, []string{"--nope"}, nil); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown flag: %v", err)
	}
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	var s testSettings
	err := Load(&s, Source{Name: "t", Args: []string{"--help"}, Getenv: envOf(nil), DotEnv: "-", Stdout: &out})
	if !errors.Is(err, ErrHelp) {
		t.Fatalf("want ErrHelp, got %v", err)
	}
	for _, w := range []string{"-p/--port", "T_PORT", "required", "--dpa/--age", `default "120000"`, "one of json, console"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("usage lacks %q:\n%s", w, out.String())
		}
	}
}

// Settings without a flag get their own help section instead of an entry
// whose flag line is blank.
func TestHelpListsEnvOnlySettingsApart(t *testing.T) {
	var out bytes.Buffer
	var s testSettings
	if err := Load(&s, Source{Name: "t", Args: []string{"-h"}, Getenv: envOf(nil), DotEnv: "-", Stdout: &out}); !errors.Is(err, ErrHelp) {
		t.Fatalf("want ErrHelp, got %v", err)
	}
	help := out.String()
	for i, line := range strings.Split(help, "\n") {
		if line != "" && strings.TrimSpace(line) == "" {
			t.Errorf("line %d is blank but indented (an entry without a flag):\n%s", i+1, help)
		}
	}
	flags, envOnly, ok := strings.Cut(help, "Environment only")
	if !ok {
		t.Fatalf("no environment-only section:\n%s", help)
	}
	if want := `  T_ENV_ONLY (default "") no flag; allowed a string`; !strings.Contains(envOnly, want) {
		t.Errorf("environment-only section lacks %q:\n%s", want, envOnly)
	}
	if strings.Contains(flags, "T_ENV_ONLY") {
		t.Errorf("T_ENV_ONLY listed among the flags:\n%s", flags)
	}
	for _, w := range []string{"-p/--port", "--dpa/--age", "--wait", "env T_WAIT; default \"0\"", "-h/--help"} {
		if !strings.Contains(flags, w) {
			t.Errorf("flag section lacks %q:\n%s", w, flags)
		}
	}
}

// A duration takes a bare integer of milliseconds or a Go duration; the
// range is in whole milliseconds, so what passed before still passes.
func TestDurationSyntaxAndRange(t *testing.T) {
	ok := map[string]time.Duration{
		"1000": time.Second, "1s": time.Second, " 250 ": 250 * time.Millisecond, "1500us": 1500 * time.Microsecond,
		"1000999us": 1000999 * time.Microsecond, "0": 0, "+7": 7 * time.Millisecond,
	}
	for in, want := range ok {
		s, err := load(t, []string{"-p", "1", "--wait", in}, nil)
		if err != nil || s.Wait != want {
			t.Errorf("--wait %q: got %v %v, want %v", in, s.Wait, err, want)
		}
		s, err = load(t, []string{"-p", "1"}, map[string]string{"T_WAIT": in})
		if err != nil || s.Wait != want {
			t.Errorf("T_WAIT=%q: got %v %v, want %v", in, s.Wait, err, want)
		}
	}
	bad := map[string]string{
		"1001":   "above maximum",
		"-1":     "below minimum",
		"-500us": "below minimum", // truncating toward zero used to read it as 0
		"1.5":    "not milliseconds as an integer, or a Go duration like 1500ms",
		"soon":   "not milliseconds as an integer, or a Go duration like 1500ms",
		// 2^64 ns / 1 ms, rounded up: used to wrap around to 0.45 ms.
		"18446744073710":       "too large",
		"99999999999999999999": "too large",
	}
	for in, why := range bad {
		for _, src := range []struct {
			args []string
			env  map[string]string
		}{{[]string{"-p", "1", "--wait", in}, nil}, {[]string{"-p", "1"}, map[string]string{"T_WAIT": in}}} {
			_, err := load(t, src.args, src.env)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("%q: want *Error, got %v", in, err)
				continue
			}
			msg := err.Error()
			for _, w := range []string{"--wait", "T_WAIT", why, "allowed milliseconds as an integer, or a Go duration like 1500ms, in 0..1000 ms"} {
				if !strings.Contains(msg, w) {
					t.Errorf("%q: %q lacks %q", in, msg, w)
				}
			}
		}
	}
}

// --version answers before anything is validated: a missing required
// setting or an unparsable variable does not stop it.
func TestVersion(t *testing.T) {
	bad := envOf(map[string]string{"T_PORT": "not-a-number"})
	for _, args := range [][]string{{"--version"}, {"-version"}, {"--log", "x", "--version=true"}} {
		var out bytes.Buffer
		var s testSettings
		err := Load(&s, Source{Name: "t", Args: args, Getenv: bad, DotEnv: "-", Stdout: &out, Version: "t v1.2.3 (rev abc, go1.26)"})
		if !errors.Is(err, ErrVersion) || out.String() != "t v1.2.3 (rev abc, go1.26)\n" {
			t.Errorf("%q: err %v, out %q; want ErrVersion and the line", args, err, out.String())
		}
	}
	for _, args := range [][]string{{"--version=false"}, {"--", "--version"}, {"--versions"}} {
		var s testSettings
		err := Load(&s, Source{Name: "t", Args: args, Getenv: envOf(nil), DotEnv: "-", Version: "t v1"})
		if errors.Is(err, ErrVersion) {
			t.Errorf("%q: asked for the version", args)
		}
		if args[0] == "--version=false" && (err == nil || strings.Contains(err.Error(), "version")) {
			t.Errorf("--version=false: want only the missing --port, got %v", err)
		}
	}
	// A program without a version line has no such flag.
	var s testSettings
	if err := Load(&s, Source{Name: "t", Args: []string{"--version"}, Getenv: envOf(nil), DotEnv: "-"}); err == nil || errors.Is(err, ErrVersion) {
		t.Errorf("no Version: want an unknown-flag error, got %v", err)
	}
}

func TestHelpListsVersion(t *testing.T) {
	for _, version := range []string{"", "t v1"} {
		var out bytes.Buffer
		var s testSettings
		_ = Load(&s, Source{Name: "t", Args: []string{"-h"}, Getenv: envOf(nil), DotEnv: "-", Stdout: &out, Version: version})
		if got := strings.Contains(out.String(), "--version"); got != (version != "") {
			t.Errorf("Version %q: help lists --version = %v:\n%s", version, got, out.String())
		}
	}
}
