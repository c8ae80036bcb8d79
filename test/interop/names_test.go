package interop

import (
	"testing"
	"unicode/utf8"
)

func TestServiceNameHasExactByteLength(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, tag := range []byte{'a', 'q'} {
		for _, size := range []int{1, 8, 20, 200} {
			n := serviceName(tag, size)
			if len(n) != size || !utf8.ValidString(n) || n[0] != tag || seen[n] {
				t.Fatalf("serviceName(%c,%d) = %q (%d bytes)", tag, size, n, len(n))
			}
			if size >= 20 && utf8.RuneCountInString(n) == size {
				t.Fatalf("serviceName(%c,%d) has no multi-byte rune", tag, size)
			}
			seen[n] = true
		}
	}
}
