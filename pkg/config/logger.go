package config

import (
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// NewLogger builds the zerolog logger every binary uses. format is "json",
// "console" or "auto" (console when w is a terminal, JSON lines otherwise, so
// log shippers get JSON and people get readable lines). level is a zerolog
// level name; the settings loader has already validated it, so an unknown
// name can only come from a programmatic caller and falls back to info.
func NewLogger(format, level string, w io.Writer) zerolog.Logger {
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			format = "console"
		}
	}
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339}
	}
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}
