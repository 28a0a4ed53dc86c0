# caserisk — see README.md. `make demo` runs the main job; `make test` runs the tests.
GO      ?= go
BIN     := bin/caserisk
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build test bench demo lint fmt clean faults

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/caserisk

test: build
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

# The fault suite (also part of `make test`), verbose: what it tried and found.
faults:
	$(GO) test -count=1 -v -run 'Fault|PromoteUnderLoad|Claim|PendingRun|ScoreRunRules|ScoreRunAPIAnswers|ScoreRunBrokenFile|ReplicasBehindHAProxy|ReadyWhileDatabaseUnreachable|DrainDelay' ./cmd/caserisk ./serve/api ./serve/web ./serve/store ./serve/batch

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./...

demo: build
	$(BIN) demo

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin
