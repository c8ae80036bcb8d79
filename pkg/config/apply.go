package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/grenache-go/grenache/pkg/validate"
)

// Apply copies every setting of the struct settings points to whose `field`
// tag names a field of the struct dst points to into that field, so a
// binary maps its settings onto a library Config in the tags that declare
// them, and Attribute can name the setting behind a Config field. The two
// fields must have the same type; a mismatch or an unknown field is an
// error (a programming error, which the binaries' tests catch).
func Apply(dst, settings any) error {
	fields, err := describe(settings)
	if err != nil {
		return err
	}
	dv := reflect.ValueOf(dst)
	if dv.Kind() != reflect.Pointer || dv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config: Apply needs a pointer to a struct, got %T", dst)
	}
	dv = dv.Elem()
	for _, f := range fields {
		if f.target == "" {
			continue
		}
		to := dv.FieldByName(f.target)
		switch {
		case !to.IsValid() || !to.CanSet():
			return fmt.Errorf("config: setting %s names field %s, which %s has not", f.name, f.target, dv.Type())
		case to.Type() != f.value.Type():
			return fmt.Errorf("config: setting %s is a %s, field %s.%s a %s", f.name, f.value.Type(), dv.Type(), f.target, to.Type())
		}
		to.Set(f.value)
	}
	return nil
}

// Attribute turns a library's *validate.FieldError into an *Error naming
// the flags and variables of the settings whose `field` tags name the
// invalid fields, so a user reads the names they set. Other errors, and
// fields no setting fills, come back unchanged.
func Attribute(settings any, err error) error {
	var fe *validate.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	fields, derr := describe(settings)
	if derr != nil {
		return err
	}
	var flags, envs []string
	for _, name := range fe.Fields() {
		for _, f := range fields {
			if f.target != name {
				continue
			}
			if fl := f.flagList(); fl != "" {
				flags = append(flags, fl)
			}
			if f.env != "" {
				envs = append(envs, f.env)
			}
			break
		}
	}
	if len(flags) == 0 && len(envs) == 0 {
		return err
	}
	return &Error{Flag: strings.Join(flags, " + "), Env: strings.Join(envs, " + "), Value: fe.Value, Allowed: fe.Allowed}
}
