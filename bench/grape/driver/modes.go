package main

import (
	"fmt"
	"os"
)

// runMode runs the benchmarks other than the /lookup matrix (-mode
// announce, -mode scale), prints the markdown report, writes it to -out
// and returns the exit code.
func (c *config) runMode(mode string) int {
	var (
		md  string
		err error
	)
	switch mode {
	case "announce":
		md, err = c.runAnnounce()
	case "scale":
		md, err = c.runScale()
	default:
		fmt.Fprintf(os.Stderr, "driver: unknown -mode %q (want lookup, announce or scale)\n", mode)
		return 2
	}
	stopAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "driver:", err)
		return 1
	}
	fmt.Print(md)
	if c.out != "" {
		if err := os.MkdirAll(dirOf(c.out), 0o755); err == nil {
			err = os.WriteFile(c.out, []byte(md), 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "driver: write report:", err)
			return 1
		}
	}
	return 0
}
