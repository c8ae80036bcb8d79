#!/usr/bin/env bash
# `make dist`: the release archives. For each platform, the three static
# binaries from scripts/build-release.sh (the Dockerfile's build) with
# LICENSE and README.md in grenache-VERSION-OS-ARCH.tar.gz, and SHA256SUMS
# over the archives. Archives are reproducible: sorted names, fixed times
# and owners, gzip without a timestamp (GNU tar).
#
#   bash scripts/dist.sh [OUTDIR]   # default dist/
#   PLATFORMS="linux/arm64" VERSION=v0.3.0 bash scripts/dist.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
: "${PLATFORMS:=linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}"
: "${VERSION:=$(git describe --tags --always --dirty 2>/dev/null || echo devel)}"
: "${REVISION:=$(git rev-parse HEAD 2>/dev/null || true)}"
export VERSION REVISION
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
archives=()
for platform in $PLATFORMS; do
	os=${platform%/*} arch=${platform#*/}
	name=grenache-$VERSION-$os-$arch
	mkdir -p "$work/$name"
	echo "dist: $name" >&2
	GOOS=$os GOARCH=$arch sh scripts/build-release.sh "$work/$name"
	cp LICENSE README.md "$work/$name/"
	tar -C "$work" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - "$name" | gzip -n -9 >"$out/$name.tar.gz"
	archives+=("$name.tar.gz")
done
(cd "$out" && sha256sum "${archives[@]}" >SHA256SUMS)
echo "dist: $(wc -l <"$out/SHA256SUMS") archives and SHA256SUMS in $out" >&2
