// Package settingscheck holds the tests that keep the project's settings
// declared once: every flag and variable in the settings structs of the
// binaries (cmd/grape, cmd/worker, cmd/client, loaded by pkg/config), none
// read by the libraries, and docs/configuration.md listing exactly those
// settings with their defaults. It has no code of its own; the tests read
// the Go sources and the document, so the binaries' package main structs
// need no exported view.
package settingscheck
