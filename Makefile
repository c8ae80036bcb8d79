# Grenache in Go. `make test` is the one command CI runs (.ci/run); it installs
# everything the tests need: Go modules and the pinned Node reference packages.
GO        ?= go
NODE_DIR  := test/interop/node
TEST_TIMEOUT ?= 20m

.PHONY: all build test test-go deps lint bench bench-micro bench-grape bench-rpc bench-scenarios demo clean

all: build

build:
	$(GO) build -o bin/ ./cmd/...

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

clean:
	rm -rf bin reports
