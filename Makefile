# Grenache in Go. `make test` is the one command CI runs (.ci/run); it installs
# everything the tests need: Go modules and the pinned Node reference packages.
GO        ?= go
NODE_DIR  := test/interop/node
TEST_TIMEOUT ?= 20m

.PHONY: all build test test-nodesuite deps browser-deps lint tidy-check dist image bench bench-micro bench-grape bench-rpc bench-rpc-transports bench-announce bench-scale bench-scenarios cluster demo clean

all: build

# The version every binary reports (--version, /status, *_build_info):
# the nearest tag, commits since and -dirty, stamped by the linker because
# GOFLAGS=-buildvcs=false or a tree without .git leaves the build info
# without it (see internal/version).
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)
VERSION_PKG := github.com/grenache-go/grenache/internal/version
LDFLAGS  := -X $(VERSION_PKG).version=$(VERSION) -X $(VERSION_PKG).revision=$(REVISION)

# Static binaries (no cgo): they run on any Linux, in scratch or alpine
# containers, and map 1.6 MB less than a glibc-linked grape.
build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o bin/ ./cmd/...

# Release archives for linux and darwin, amd64 and arm64, with SHA256SUMS
# (scripts/dist.sh; the Dockerfile's build command).
dist:
	VERSION="$(VERSION)" REVISION="$(REVISION)" bash scripts/dist.sh dist

# The container image (needs a container engine; scripts/docker-steps.sh
# replays the same steps without one, and test/image runs it).
image:
	docker build --build-arg VERSION="$(VERSION)" --build-arg REVISION="$(REVISION)" -t grenache-go:$(VERSION) -t grenache-go:local .

deps: $(NODE_DIR)/node_modules/.installed browser-deps
	$(GO) mod download

# Headless Chromium for the live-view browser test (test/ui): the Debian
# package, installed only when missing and we are root with apt-get; else
# the test skips and says why.
CHROMIUM := /usr/bin/chromium
browser-deps:
	@if [ ! -x $(CHROMIUM) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
		echo "browser-deps: could not install chromium; test/ui will skip"; \
	elif [ ! -x $(CHROMIUM) ]; then echo "browser-deps: $(CHROMIUM) missing and not root with apt-get; test/ui will skip"; fi

# npm ci only when the lock file changed since the last install.
$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund
	touch $@

# lint (gofmt, vet, go mod tidy) first: it takes seconds, and CI runs only this.
test: deps lint
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

lint: tidy-check
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

# go.mod and go.sum must be what `go mod tidy` makes of them.
tidy-check:
	@$(GO) mod tidy -diff || (echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1)

bench: bench-micro

bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/... ./client/...

# The Node-suite tier alone (also part of make test): the Node packages' own
# mocha suites with Node grapes and with Go grapes, compared per test.
test-nodesuite: deps
	$(GO) test -count=1 -v -run TestNodeSuitesAgainstGoGrapes ./test/nodesuite/

# Grape /lookup throughput vs Node grapes and a bare net/http ceiling (pinned with taskset).
bench-grape: deps
	bash scripts/bench-grape.sh

# Go client -> Go worker vs Node client -> Node server and the bare Go pair (pinned with taskset).
bench-rpc: deps
	bash scripts/bench-rpc.sh

# The Go client engine -> Go worker beside a bare Go pair over HTTP, WebSocket and mutual TLS.
bench-rpc-transports:
	bash scripts/bench-rpc-transports.sh

# Announce storm: highest sustained announce rate of 3 Go vs 3 Node grapes
# under a fixed lookup load (pinned with taskset).
bench-announce: deps
	bash scripts/bench-announce.sh

# 8/64/256 Go grape processes (Node at 8/64): lookups, KRPC messages per
# lookup, RSS, join time, churn.
bench-scale: deps
	bash scripts/bench-scale.sh

# Full-length fault scenarios: adaptive vs round-robin vs random in one run.
bench-scenarios:
	SCENARIOS_FULL=1 $(GO) test -count=1 -timeout 60m -run 'TestScenario' -v ./test/scenarios/

# A local three-grape cluster to announce into and look up from.
cluster:
	bash scripts/cluster.sh

# One process: 3 grapes, 4 workers, faults, adaptive vs round-robin, HTML report.
demo:
	$(GO) run ./cmd/demo

clean:
	rm -rf bin reports dist
