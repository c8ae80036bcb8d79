package validate

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestRangeNamesFieldValueAndBounds(t *testing.T) {
	if err := Range("x.Config", "Timeout", time.Second, time.Millisecond, time.Hour); err != nil {
		t.Fatalf("in range: %v", err)
	}
	err := Range("x.Config", "Timeout", 0*time.Second, time.Millisecond, time.Hour)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "Timeout" || fe.Value != "0s" || fe.Allowed != "1ms..1h0m0s" {
		t.Fatalf("got %#v", err)
	}
	if want := "invalid x.Config.Timeout 0s; allowed 1ms..1h0m0s"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if Range("x.Config", "Rate", math.NaN(), 0, 1) == nil {
		t.Error("NaN passed a range")
	}
	if AtLeast("x.Config", "N", -1, 0) == nil || AtLeast("x.Config", "N", 0, 0) != nil {
		t.Error("AtLeast")
	}
	if f := (&FieldError{Field: "A+B"}).Fields(); len(f) != 2 || f[1] != "B" {
		t.Errorf("Fields %q", f)
	}
}
