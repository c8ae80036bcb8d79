package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/grenache-go/grenache/internal/leakcheck"
)

// binDir holds the worker binary built once for the process tests.
var binDir string

func TestMain(m *testing.M) {
	setMemoryLimit = func(int64) {} // the process tests check the real one
	var err error
	if binDir, err = os.MkdirTemp("", "worker-bin-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(binDir)
	os.Exit(leakcheck.Check(code))
}
