package transport

import (
	"time"
)

// orDefault sets *v to def when it is zero or negative: the client configs
// take zero as "the default", and a constructor that cannot fail treats a
// negative value the same way (Validate is where it is refused).
func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// firstError returns the first non-nil error of a Validate's checks (every
// Config of this package validates through it).
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
