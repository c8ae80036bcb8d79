// Package validate holds what the libraries' Config.Validate methods share:
// the error that names an invalid field and the values it allows, and the
// range check most fields need.
//
// The libraries (client, client/gossip, pkg/link, pkg/transport) read no
// environment: the binaries declare their flags and variables in settings
// structs (pkg/config) whose field tags name the Config field each one
// fills, so a binary turns a *FieldError into an error naming its flag and
// variable (config.Attribute) instead of the libraries knowing either.
package validate

import (
	"cmp"
	"fmt"
	"strings"
)

// FieldError is an invalid field of a library's Config.
type FieldError struct {
	// Config names the struct, e.g. "client.Config".
	Config string
	// Field is the Go field name, e.g. "RequestTimeout". A rule that spans
	// fields (weights that must sum to 1) names them all, joined by "+".
	Field string
	// Value is the rejected value as it prints.
	Value string
	// Allowed says in words which values pass.
	Allowed string
}

// Error names the field, the rejected value and the allowed values.
func (e *FieldError) Error() string {
	return fmt.Sprintf("invalid %s.%s %s; allowed %s", e.Config, e.Field, e.Value, e.Allowed)
}

// Fields splits Field into the fields the rule spans.
func (e *FieldError) Fields() []string { return strings.Split(e.Field, "+") }

// Range returns a *FieldError unless lo <= v <= hi. A NaN is out of every
// range (it compares false with both bounds).
func Range[T cmp.Ordered](config, field string, v, lo, hi T) error {
	if v >= lo && v <= hi {
		return nil
	}
	return &FieldError{Config: config, Field: field, Value: fmt.Sprint(v), Allowed: fmt.Sprintf("%v..%v", lo, hi)}
}

// AtLeast returns a *FieldError unless v >= lo.
func AtLeast[T cmp.Ordered](config, field string, v, lo T) error {
	if v >= lo {
		return nil
	}
	return &FieldError{Config: config, Field: field, Value: fmt.Sprint(v), Allowed: fmt.Sprintf(">= %v", lo)}
}
