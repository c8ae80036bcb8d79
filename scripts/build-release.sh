#!/bin/sh
# The one release build of the three binaries, shared by the Dockerfile,
# `make dist` and scripts/docker-steps.sh so they cannot drift apart:
# static (no cgo), reproducible paths (-trimpath), stripped (-s -w), with
# the version stamped by the linker (internal/version).
#
#   VERSION=v0.3.0 REVISION=$(git rev-parse HEAD) GOOS=linux GOARCH=arm64 sh scripts/build-release.sh OUTDIR
#
# Run from the module root. VERSION and REVISION may be empty: the binaries
# then report what the Go build info knows ("(devel)" at least).
set -eu
out=${1:?usage: build-release.sh OUTDIR}
pkg=github.com/grenache-go/grenache/internal/version
mkdir -p "$out"
CGO_ENABLED=0 ${GO:-go} build -trimpath \
	-ldflags "-s -w -X $pkg.version=${VERSION:-} -X $pkg.revision=${REVISION:-}" \
	-o "$out/" ./cmd/grape ./cmd/worker ./cmd/client
