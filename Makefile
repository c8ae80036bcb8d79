# Grenache in Go. `make test` is the one command CI runs (.ci/run); it installs
# everything the tests need: Go modules and the pinned Node reference packages.
GO        ?= go
NODE_DIR  := test/interop/node
TEST_TIMEOUT ?= 20m

.PHONY: all build test deps lint bench bench-micro bench-grape bench-rpc bench-scenarios cluster demo clean

all: build

# Static binaries (no cgo): they run on any Linux, in scratch or alpine
# containers, and map 1.6 MB less than a glibc-linked grape.
build:
	CGO_ENABLED=0 $(GO) build -o bin/ ./cmd/...

deps: $(NODE_DIR)/node_modules/.installed
	$(GO) mod download

# npm ci only when the lock file changed since the last install.
$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund
	touch $@

test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

bench: bench-micro

bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/... ./client/...

# Grape /lookup throughput vs Node grapes and a bare net/http ceiling (pinned with taskset).
bench-grape: deps
	bash scripts/bench-grape.sh

# Go client -> Go worker vs Node client -> Node server and the bare Go pair (pinned with taskset).
bench-rpc: deps
	bash scripts/bench-rpc.sh

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
	rm -rf bin reports
