package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/caarlos0/env/v11"
	"github.com/joho/godotenv"
)

// ErrHelp is returned by Load when the arguments asked for help; the usage
// text has been written to Source.Stdout.
var ErrHelp = flag.ErrHelp

// ErrVersion is returned by Load when the arguments asked for the version
// (--version) and Source.Version is set; the line has been written to
// Source.Stdout.
var ErrVersion = errors.New("version requested")

// Source says where Load reads settings from.
type Source struct {
	// Name is the program name used in messages and usage.
	Name string
	// Args are the command-line arguments without the program name.
	Args []string
	// Getenv reads one environment variable; nil means os.Getenv.
	Getenv func(string) string
	// DotEnv is the .env file to read; "" means ".env" in the working
	// directory, "-" means none. A missing file is not an error. Real
	// environment variables win over the file.
	DotEnv string
	// Stdout receives the usage text for --help and the line for
	// --version; nil discards them.
	Stdout io.Writer
	// Version, when set, is the line --version prints (see
	// internal/version); "" means the program has no --version flag.
	Version string
}

// Error is an invalid or missing setting. Its message names the flag and
// the environment variable and says which values are allowed.
type Error struct {
	Flag    string // e.g. "--dp/--dht_port"
	Env     string // e.g. "GRAPE_DHT_PORT"
	Value   string // the rejected value ("" when missing)
	From    string // "flag", "env", "default", or "" when not known (Attribute)
	Allowed string // in words
	Missing bool
	Err     error // the parse or range problem
}

// Error names the flag and the variable, the value and the allowed values.
func (e *Error) Error() string {
	where := e.Flag
	switch {
	case e.Flag != "" && e.Env != "":
		where = e.Flag + " (env " + e.Env + ")"
	case e.Flag == "":
		where = "env " + e.Env
	}
	if e.Missing {
		return fmt.Sprintf("missing required setting %s: allowed %s", where, e.Allowed)
	}
	from, why := "", ""
	if e.From != "" {
		from = " from " + e.From
	}
	if e.Err != nil {
		why = ": " + e.Err.Error()
	}
	return fmt.Sprintf("invalid value %q for %s%s%s; allowed %s", e.Value, where, from, why, e.Allowed)
}

// Unwrap returns the parse or range problem, if any.
func (e *Error) Unwrap() error { return e.Err }

func newError(f *field, value, from string, err error) *Error {
	return &Error{Flag: f.flagList(), Env: f.env, Value: value, From: from, Allowed: f.allowedText(), Err: err}
}

// flagValue adapts a field to flag.Value and remembers what was set.
type flagValue struct {
	f   *field
	set bool
	err *Error
}

func (v *flagValue) String() string {
	if v == nil || v.f == nil {
		return ""
	}
	return v.f.String()
}

func (v *flagValue) Set(s string) error {
	v.set = true
	if err := v.f.set(s); err != nil {
		v.err = newError(v.f, s, "flag", err)
		return v.err
	}
	return nil
}

func (v *flagValue) IsBoolFlag() bool { return v.f.value.Kind() == reflect.Bool }

// Load fills the struct cfg points to: envDefault tags, then the .env
// file, then the environment, then flags; then it validates every setting.
// It returns ErrHelp for -h/--help, an *Error for a bad or missing setting,
// and another error for unusable arguments.
func Load(cfg any, src Source) error {
	fields, err := describe(cfg)
	if err != nil {
		return err
	}
	// Before the environment and the flags: --version answers even when a
	// required setting is missing or a variable is invalid.
	if src.Version != "" && versionRequested(src.Args) {
		if src.Stdout != nil {
			_, _ = io.WriteString(src.Stdout, src.Version+"\n")
		}
		return ErrVersion
	}
	getenv := src.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	dot := map[string]string{}
	if src.DotEnv != "-" {
		path := src.DotEnv
		if path == "" {
			path = ".env"
		}
		if m, rerr := godotenv.Read(path); rerr == nil {
			dot = m
		} else if !errors.Is(rerr, os.ErrNotExist) {
			return fmt.Errorf("%s: reading %s: %w", src.Name, path, rerr)
		}
	}
	environ := map[string]string{}
	from := map[string]string{}
	for _, f := range fields {
		if f.env == "" {
			continue
		}
		if v := getenv(f.env); v != "" {
			environ[f.env], from[f.env] = v, "env"
		} else if v := dot[f.env]; v != "" {
			environ[f.env], from[f.env] = v, "env (.env file)"
		}
	}
	if err := parseEnv(cfg, fields, environ, from); err != nil {
		return err
	}

	fs := flag.NewFlagSet(src.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	values := make([]*flagValue, len(fields))
	for i, f := range fields {
		values[i] = &flagValue{f: f}
		for _, n := range f.flags {
			fs.Var(values[i], n, f.usage)
		}
	}
	if src.Version != "" {
		fs.Bool("version", false, "print the version and exit") // --version=false is accepted and does nothing
	}
	if err := fs.Parse(src.Args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			if src.Stdout != nil {
				_, _ = io.WriteString(src.Stdout, usage(src.Name, fields, src.Version != ""))
			}
			return ErrHelp
		}
		for _, v := range values {
			if v.err != nil {
				return v.err
			}
		}
		return fmt.Errorf("%s: %w (see --help)", src.Name, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q (see --help)", src.Name, fs.Arg(0))
	}
	for i, f := range fields {
		origin := "default"
		if values[i].set {
			origin = "flag"
		} else if o, ok := from[f.env]; ok {
			origin = o
		}
		if f.required && origin == "default" {
			e := newError(f, "", "", nil)
			e.Missing = true
			return e
		}
		if err := f.check(); err != nil {
			return newError(f, f.String(), origin, err)
		}
	}
	return nil
}

// parseEnv runs caarlos0/env over the collected variables and turns its
// errors into *Error naming the flag too.
func parseEnv(cfg any, fields []*field, environ, from map[string]string) error {
	byName := map[string]*field{}
	for _, f := range fields {
		byName[f.name] = f
	}
	opts := env.Options{
		Environment: environ,
		FuncMap: map[reflect.Type]env.ParserFunc{
			durationType: func(s string) (any, error) { return ParseMillis(s) },
		},
	}
	err := env.ParseWithOptions(cfg, opts)
	if err == nil {
		// caarlos0/env keeps empty items of lists; Node's --bn drops them.
		for _, f := range fields {
			if f.value.Kind() == reflect.Slice {
				f.value.Set(reflect.ValueOf(splitList(strings.Join(f.value.Interface().([]string), ","))))
			}
		}
		return nil
	}
	var agg env.AggregateError
	if errors.As(err, &agg) {
		for _, e := range agg.Errors {
			var pe env.ParseError
			if errors.As(e, &pe) {
				if f := byName[pe.Name]; f != nil {
					origin := from[f.env]
					if origin == "" {
						origin = "default"
					}
					perr := pe.Err
					if ferr := f.set(environ[f.env]); ferr != nil {
						perr = ferr // our wording, the same as for flags
					}
					return newError(f, environ[f.env], origin, perr)
				}
			}
		}
	}
	return err
}

// usage renders the help text: every flag with its aliases, variable,
// default and allowed values, then the settings that have no flag in their
// own section, so no entry starts with an empty flag name.
func usage(name string, fields []*field, hasVersion bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s [flags]\n\nA flag with a variable can also be set from it (or from a .env file);\nflags win over the environment.\n\n", name)
	var envOnly []*field
	for _, f := range fields {
		if len(f.flags) == 0 {
			envOnly = append(envOnly, f)
			continue
		}
		fmt.Fprintf(&b, "  %s\n", f.flagList())
		fmt.Fprintf(&b, "        %s\n", f.usage)
		line := "        "
		if f.env != "" {
			line += "env " + f.env + "; "
		}
		if f.required {
			line += "required; "
		} else {
			line += fmt.Sprintf("default %q; ", f.def)
		}
		line += "allowed " + f.allowedText()
		b.WriteString(line + "\n")
	}
	b.WriteString("  -h/--help\n        show this help\n")
	if hasVersion {
		b.WriteString("  --version\n        print the version and exit\n")
	}
	if len(envOnly) > 0 {
		b.WriteString(envSection("Environment only (no flag; also read from a .env file):", envOnly))
	}
	return b.String()
}

// envSection renders settings without a flag: one line each with the
// variable, its default, its usage and the allowed values.
func envSection(heading string, fields []*field) string {
	var b strings.Builder
	b.WriteString("\n" + heading + "\n")
	for _, f := range fields {
		def := fmt.Sprintf("default %q", f.def)
		if f.required {
			def = "required"
		}
		fmt.Fprintf(&b, "  %s (%s) %s; allowed %s\n", f.env, def, f.usage, f.allowedText())
	}
	return b.String()
}

// EnvUsageOf renders the variables of a settings struct that has no flags
// (one a command reads apart, such as client run's GOSSIP_*), under
// heading, in the help's "Environment only" form.
func EnvUsageOf(heading string, cfg any) (string, error) {
	fields, err := describe(cfg)
	if err != nil {
		return "", err
	}
	return envSection(heading, fields), nil
}

// UsageOf renders the help text for a settings struct.
func UsageOf(name string, cfg any) (string, error) {
	fields, err := describe(cfg)
	if err != nil {
		return "", err
	}
	return usage(name, fields, false), nil
}

// versionRequested says whether args ask for --version (or -version,
// --version=true) before a "--" that ends the flags. It scans every
// argument, so "client call svc --version" answers too.
func versionRequested(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "version" {
			continue
		}
		if !hasValue {
			return true
		}
		if on, err := strconv.ParseBool(value); err == nil && on {
			return true
		}
	}
	return false
}
