# MCP Broker developer tasks. `make` alone lists them; every target carries a
# one-line `## description` that `make help` prints.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules --no-builtin-variables

GO ?= go
BIN := bin/mcp-broker
# The CLI needs no cgo, so it builds anywhere and cross-compiles. The tray
# (Fyne's GL driver) will need it: set CGO to 1 when the tray lands.
CGO ?= 0
# What `make run` passes to the binary (no arguments will mean the tray).
RUN_ARGS ?= --help
# Package groups scripts/install-deps.sh installs for `make test`.
DEPS_GROUPS ?= test
# How long each fuzz target runs in `make test`.
FUZZTIME ?= 10s
# Extra `go test` flags for `make test`, e.g. TESTFLAGS=-count=1.
TESTFLAGS ?=
# Extra flags for the `make bench` program, e.g. BENCHFLAGS=-quick (see
# `go run ./bridge/internal/bench -h`).
BENCHFLAGS ?=

export GO FUZZTIME TESTFLAGS DEPS_GROUPS

.PHONY: help build run test bench install-deps fmt lint clean

help: ## list the targets
	@echo "usage: make TARGET"
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_-]+:.*## / { printf "  %-13s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

build: ## build bin/mcp-broker (cgo off until the tray needs it: see CGO)
	CGO_ENABLED=$(CGO) $(GO) build -o $(BIN) ./cmd/mcp-broker

run: build ## build, then run bin/mcp-broker (with --help for now: see RUN_ARGS)
	./$(BIN) $(RUN_ARGS)

test: ## install test deps, then vet, gofmt, go test (in a private desktop session), fuzz
	scripts/test.sh

bench: build ## bridge vs a direct client vs mcp-remote on 127.0.0.1, plus Go microbenchmarks: results in bench/
	scripts/install-peers.sh || echo "make bench: the npm peers did not install: mcp-remote is left out" >&2
	mkdir -p bench
	$(GO) test -run '^$$' -bench . -benchmem ./bridge/jsonrpc ./bridge/sse | tee bench/micro.txt
	$(GO) run ./bridge/internal/bench -bin $(BIN) -peers "$$(scripts/install-peers.sh --print-dir)" \
		-micro bench/micro.txt -out bench $(BENCHFLAGS)

install-deps: ## install the missing Debian packages of DEPS_GROUPS (default: test)
	scripts/install-deps.sh $(DEPS_GROUPS)

fmt: ## gofmt every Go file in place
	scripts/test.sh fmt

lint: ## go vet and the gofmt check
	scripts/test.sh vet gofmt

clean: ## remove build outputs and coverage files
	rm -rf bin dist
	rm -f coverage.out coverage.html *.coverprofile
