// Package config loads a binary's settings the same way for every Grenache
// command: defaults and environment variables (also read from a .env file)
// through caarlos0/env, then command-line flags on top, then one validation
// pass whose errors name both the flag and the variable and say what values
// are allowed.
//
// A settings struct describes everything in tags:
//
//	type Settings struct {
//		DHTPort int    `env:"GRAPE_DHT_PORT" flag:"dp,dht_port" required:"true" allowed:"0..65535" usage:"UDP port of the DHT"`
//		Format  string `env:"GRAPE_LOG_FORMAT" envDefault:"json" flag:"log-format" allowed:"json|console" usage:"log format"`
//	}
//
// `flag` lists the flag name and its aliases (each usable as -x or --x),
// `allowed` is "min..max", "min.." or "a|b|c", `required` means the setting
// must come from the environment or a flag. Supported field types: string,
// bool, int, int64, uint, float64, time.Duration (a bare integer of
// milliseconds, Node's unit, or a Go duration like "1500ms") and []string
// (comma separated, empty items dropped). Fields without a flag are listed
// in the help's "Environment only" section. An embedded struct of an
// exported type contributes its settings, so settings that several
// commands share are declared once.
//
// `field` names the field of a library Config the setting fills: Apply
// copies the settings into the Config, and Attribute turns the Config's
// Validate error (a *validate.FieldError naming that field) into an *Error
// naming the flag and the variable. The libraries themselves read no
// environment; these tags are the only place a variable is declared.
package config
