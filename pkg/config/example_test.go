package config_test

import (
	"fmt"
	"time"

	"github.com/grenache-go/grenache/pkg/config"
	"github.com/grenache-go/grenache/pkg/validate"
)

// lookupConfig stands for a library's Config: it reads no environment and
// its Validate names its own fields.
type lookupConfig struct {
	Timeout, Retry time.Duration
}

func (c lookupConfig) Validate() error {
	if c.Retry > c.Timeout {
		return &validate.FieldError{Config: "lookupConfig", Field: "Retry", Value: c.Retry.String(),
			Allowed: fmt.Sprintf("at most the timeout (%v)", c.Timeout)}
	}
	return nil
}

// A binary declares each setting once, with the Config field it fills; the
// library's error comes back under the flag and variable the user set.
func ExampleApply() {
	type settings struct {
		Timeout time.Duration `env:"APP_TIMEOUT" envDefault:"2s" flag:"timeout" allowed:"1..60000" field:"Timeout" usage:"deadline"`
		Retry   time.Duration `env:"APP_RETRY" envDefault:"500" field:"Retry" usage:"retry delay"`
	}
	var s settings
	getenv := func(k string) string { return map[string]string{"APP_RETRY": "3000"}[k] }
	if err := config.Load(&s, config.Source{Name: "app", Args: []string{"--timeout", "2500"}, Getenv: getenv, DotEnv: "-"}); err != nil {
		fmt.Println(err)
		return
	}
	var c lookupConfig
	if err := config.Apply(&c, &s); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Timeout, c.Retry)
	fmt.Println(config.Attribute(&s, c.Validate()))
	// Output:
	// 2.5s 3s
	// invalid value "3s" for env APP_RETRY; allowed at most the timeout (2.5s)
}
