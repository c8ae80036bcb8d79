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
