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

export GO FUZZTIME TESTFLAGS DEPS_GROUPS

.PHONY: help build run test install-deps fmt lint clean

help: ## list the targets
	@echo "usage: make TARGET"
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_-]+:.*## / { printf "  %-13s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

build: ## build bin/mcp-broker (cgo off until the tray needs it: see CGO)
	CGO_ENABLED=$(CGO) $(GO) build -o $(BIN) ./cmd/mcp-broker

run: build ## build, then run bin/mcp-broker (with --help for now: see RUN_ARGS)
	./$(BIN) $(RUN_ARGS)

test: ## install test deps, then vet, gofmt, go test (in a private desktop session), fuzz
	scripts/test.sh

install-deps: ## install the missing Debian packages of DEPS_GROUPS (default: test)
	scripts/install-deps.sh $(DEPS_GROUPS)

fmt: ## gofmt every Go file in place
	scripts/test.sh fmt

lint: ## go vet and the gofmt check
	scripts/test.sh vet gofmt

clean: ## remove build outputs and coverage files
	rm -rf bin dist
	rm -f coverage.out coverage.html *.coverprofile
