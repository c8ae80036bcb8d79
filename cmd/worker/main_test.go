package main

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
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
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
