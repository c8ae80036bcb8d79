# syntax=docker/dockerfile:1
#
# One small image with the three Grenache in Go binaries (grape, worker,
# client): static (no cgo), on scratch, run as a numeric non-root user.
# The binaries share most of their code, so one image of three is smaller
# to pull than three images of one each, and compose.yaml picks the binary
# by its command.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) \
#     --build-arg REVISION=$(git rev-parse HEAD) -t grenache-go .
#   docker run --rm grenache-go grape --version
#
# scripts/docker-steps.sh replays this file's steps in a shell (for hosts
# without a container engine, such as this project's CI) and test/image
# runs it from `make test`. It understands FROM, ARG, ENV, WORKDIR, COPY
# (with --from and --chown), RUN, USER and the metadata instructions, and
# RUN steps use paths relative to WORKDIR so they mean the same there.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first: this layer is reused until go.mod or go.sum changes.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=
ARG REVISION=
RUN VERSION="$VERSION" REVISION="$REVISION" sh scripts/build-release.sh out
# Scratch has no directories: an owned working directory (for a .env file
# or client reports) and a /tmp.
RUN mkdir -p rootfs/work rootfs/tmp && chmod 1777 rootfs/tmp

FROM scratch
ARG VERSION=
LABEL org.opencontainers.image.title="grenache-go" \
      org.opencontainers.image.description="Grenache in Go: grape, worker and client" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /src/out/ /usr/local/bin/
COPY --from=build --chown=10001:10001 /src/rootfs/ /
ENV PATH=/usr/local/bin
WORKDIR /work
USER 10001:10001
# The grape's default DHT (UDP) and API ports, the worker's RPC port.
EXPOSE 20001/udp 30001/tcp 1337/tcp
CMD ["grape", "--help"]
