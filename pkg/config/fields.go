package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// field is one tagged setting of a settings struct.
type field struct {
	name     string   // Go field name
	env      string   // environment variable
	flags    []string // flag name and aliases, without dashes
	usage    string
	allowed  string
	required bool
	def      string // envDefault, for the usage text
	target   string // the library Config field this setting fills (Apply)
	value    reflect.Value
}

// flagList prints the flag names as users type them: "--dp/--dht_port".
func (f *field) flagList() string {
	if len(f.flags) == 0 {
		return ""
	}
	out := make([]string, len(f.flags))
	for i, n := range f.flags {
		if len(n) == 1 {
			out[i] = "-" + n
		} else {
			out[i] = "--" + n
		}
	}
	return strings.Join(out, "/")
}

// where names the setting for error messages: flag and variable.
func (f *field) where() string {
	switch {
	case len(f.flags) > 0 && f.env != "":
		return f.flagList() + " (env " + f.env + ")"
	case f.env != "":
		return "env " + f.env
	default:
		return f.flagList()
	}
}

var durationType = reflect.TypeOf(time.Duration(0))

// describe collects the tagged fields of the struct cfg points to.
func describe(cfg any) ([]*field, error) {
	rv := reflect.ValueOf(cfg)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("config: need a pointer to a struct, got %T", cfg)
	}
	return describeStruct(rv.Elem())
}

// describeStruct collects the tagged fields of rv, and of the structs it
// embeds, so settings several commands share are declared once. caarlos0/env
// fills an embedded struct only when its type is exported.
func describeStruct(rv reflect.Value) ([]*field, error) {
	rt := rv.Type()
	var out []*field
	for i := 0; i < rt.NumField(); i++ {
		sf := rt.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			if !sf.IsExported() {
				return nil, fmt.Errorf("config: embedded settings %s must be an exported type", sf.Type)
			}
			inner, err := describeStruct(rv.Field(i))
			if err != nil {
				return nil, err
			}
			out = append(out, inner...)
			continue
		}
		envName, _, _ := strings.Cut(sf.Tag.Get("env"), ",")
		flagTag := sf.Tag.Get("flag")
		if envName == "" && flagTag == "" || !sf.IsExported() {
			continue
		}
		f := &field{
			name:     sf.Name,
			env:      envName,
			usage:    sf.Tag.Get("usage"),
			allowed:  sf.Tag.Get("allowed"),
			required: sf.Tag.Get("required") == "true",
			def:      sf.Tag.Get("envDefault"),
			target:   sf.Tag.Get("field"),
			value:    rv.Field(i),
		}
		if flagTag != "" {
			f.flags = strings.Split(flagTag, ",")
		}
		if !supported(sf.Type) {
			return nil, fmt.Errorf("config: field %s has unsupported type %s", sf.Name, sf.Type)
		}
		out = append(out, f)
	}
	return out, nil
}

func supported(t reflect.Type) bool {
	if t == durationType {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Uint, reflect.Float64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}

// DurationSyntax says which duration syntax ParseMillis accepts, for errors
// and help texts.
const DurationSyntax = "milliseconds as an integer, or a Go duration like 1500ms"

// durationWords is DurationSyntax under the name this package uses.
const durationWords = DurationSyntax

// maxMillis is the largest bare millisecond count a time.Duration holds
// (about 292 years); larger counts would wrap around to garbage.
const maxMillis = math.MaxInt64 / int64(time.Millisecond)

// ErrTooLarge is ParseMillis's error for a millisecond count that does not
// fit a time.Duration (about 292 years).
var ErrTooLarge = errors.New("too large")

// ParseMillis accepts a bare integer of milliseconds ("120000"), the unit
// Node's flags use, so Node start scripts keep their meaning, or a Go
// duration ("2m", "1500ms") for people who would rather say the unit. A
// millisecond count too large for a time.Duration is an error ("too
// large"), not a wrapped-around value.
func ParseMillis(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		if ms > maxMillis || ms < -maxMillis {
			return 0, ErrTooLarge
		}
		return time.Duration(ms) * time.Millisecond, nil
	} else if errors.Is(err, strconv.ErrRange) {
		return 0, ErrTooLarge
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("not %s", durationWords)
	}
	return d, nil
}

// splitList splits a comma list, dropping empty items: "" is no items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// set parses s into the field, with the same rules for flags and env.
func (f *field) set(s string) error {
	v := f.value
	if v.Type() == durationType {
		d, err := ParseMillis(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("not a boolean")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer")
		}
		v.SetInt(n)
	case reflect.Uint:
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("not a non-negative integer")
		}
		v.SetUint(n)
	case reflect.Float64:
		n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("not a number")
		}
		v.SetFloat(n)
	case reflect.Slice:
		v.Set(reflect.ValueOf(splitList(s)))
	}
	return nil
}

// String prints the current value the way it would be typed.
func (f *field) String() string {
	v := f.value
	if v.Type() == durationType {
		return time.Duration(v.Int()).String()
	}
	if v.Kind() == reflect.Slice {
		return strings.Join(v.Interface().([]string), ",")
	}
	return fmt.Sprint(v.Interface())
}

// check validates the value against the allowed tag.
func (f *field) check() error {
	a := f.allowed
	if a == "" {
		return nil
	}
	if strings.Contains(a, "..") {
		lo, hi, _ := strings.Cut(a, "..")
		var x float64
		switch {
		case f.value.Type() == durationType:
			// Whole milliseconds rounded down: a bare integer compares as
			// itself, anything short of the next millisecond passes an upper
			// bound as before, and -0.5ms is below a minimum of 0 (truncating
			// toward zero would have let it through).
			x = math.Floor(float64(f.value.Int()) / float64(time.Millisecond))
		case f.value.CanInt():
			x = float64(f.value.Int())
		case f.value.CanUint():
			x = float64(f.value.Uint())
		case f.value.CanFloat():
			x = f.value.Float()
		default:
			return nil
		}
		if lo != "" {
			if l, err := strconv.ParseFloat(lo, 64); err == nil && x < l {
				return fmt.Errorf("below minimum")
			}
		}
		if hi != "" {
			if h, err := strconv.ParseFloat(hi, 64); err == nil && x > h {
				return fmt.Errorf("above maximum")
			}
		}
		return nil
	}
	if f.value.Kind() == reflect.String {
		for _, opt := range strings.Split(a, "|") {
			if f.value.String() == opt {
				return nil
			}
		}
		return fmt.Errorf("not one of the allowed values")
	}
	return nil
}

// allowedText says in words what values are accepted.
func (f *field) allowedText() string {
	t := f.value.Type()
	kind := "a string"
	switch {
	case t == durationType:
		kind = durationWords
	case t.Kind() == reflect.Bool:
		kind = "true or false"
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64 || t.Kind() == reflect.Uint:
		kind = "an integer"
	case t.Kind() == reflect.Float64:
		kind = "a number"
	case t.Kind() == reflect.Slice:
		kind = "a comma-separated list"
	}
	a := f.allowed
	switch {
	case a == "":
		return kind
	case strings.Contains(a, ".."):
		lo, hi, _ := strings.Cut(a, "..")
		sep, unit := " ", ""
		if t == durationType {
			sep, unit = ", ", " ms" // the range is in ms whatever syntax was used
		}
		switch {
		case hi == "":
			return fmt.Sprintf("%s%s>= %s%s", kind, sep, lo, unit)
		case lo == "":
			return fmt.Sprintf("%s%s<= %s%s", kind, sep, hi, unit)
		}
		return fmt.Sprintf("%s%sin %s..%s%s", kind, sep, lo, hi, unit)
	default:
		return "one of " + strings.ReplaceAll(a, "|", ", ")
	}
}
