# MCP Broker developer tasks. `make` alone lists them; every target carries a
# one-line `## description` that `make help` prints.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules --no-builtin-variables

GO ?= go
# Two builds of cmd/mcp-broker, installed side by side (cmd/mcp-broker/tray.go):
# the command line and bridge without cgo, which starts in milliseconds and
# needs no display, and the tray (Fyne: cgo, GL, X11). `mcp-broker` with no
# arguments starts `mcp-broker-tray`.
BIN := bin/mcp-broker
TRAY_BIN := bin/mcp-broker-tray
# Linker flags of both builds: without the symbol table and DWARF (a third of the file;
# panics still name functions and lines, from the runtime's own tables). Only the link step
# sees them, so the build cache stays shared with `go test`.
LDFLAGS ?= -s -w
# What `make run` passes to bin/mcp-broker: nothing starts the tray.
RUN_ARGS ?=
# Package groups scripts/install-deps.sh installs for `make test`.
DEPS_GROUPS ?= test gui
# fyne.io/tools, for `make package`.
FYNE_TOOLS ?= fyne.io/tools/cmd/fyne@v1.7.4
# How long each fuzz target runs in `make test`.
FUZZTIME ?= 10s
# Extra `go test` flags for `make test`, e.g. TESTFLAGS=-count=1.
TESTFLAGS ?=
# Extra flags for the `make bench` program, e.g. BENCHFLAGS=-quick (see
# `go run ./bench -h`).
BENCHFLAGS ?=

export GO FUZZTIME TESTFLAGS DEPS_GROUPS

.PHONY: help build cli tray run test bench package install-deps fmt lint clean

help: ## list the targets
	@echo "usage: make TARGET"
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_-]+:.*## / { printf "  %-13s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

build: cli tray ## build bin/mcp-broker (command line and bridge) and bin/mcp-broker-tray

cli: ## build bin/mcp-broker only: no cgo, cross-compiles (GOOS=darwin make cli)
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/mcp-broker

tray: ## build bin/mcp-broker-tray only (installs Fyne's build headers first; a cold build takes minutes)
	scripts/install-deps.sh gui
	CGO_ENABLED=1 $(GO) build -tags tray -ldflags '$(LDFLAGS)' -o $(TRAY_BIN) ./cmd/mcp-broker

run: build ## build, then start the tray app (RUN_ARGS=... runs a command instead)
	./$(BIN) $(RUN_ARGS)

test: ## install test deps, npm peers and real authorization servers, then vet, gofmt, go test (private D-Bus, keyring, Xvfb), the peer and sign-in tests, fuzz
	scripts/test.sh

# The bench runs on a private display (Xvfb, never the user's screen): one column measures the
# bridge while the app's Timeline window shows its traffic.
bench: cli tray ## bridge vs a direct client vs mcp-remote on 127.0.0.1, plus Go microbenchmarks: results in bench/
	scripts/install-deps.sh test
	scripts/install-peers.sh || echo "make bench: the npm peers did not install: mcp-remote is left out" >&2
	mkdir -p bench
	$(GO) test -run '^$$' -bench . -benchmem ./bridge/jsonrpc ./bridge/sse | tee bench/micro.txt
	env -u DISPLAY -u WAYLAND_DISPLAY scripts/with-desktop.sh \
		$(GO) run ./bench -bin $(BIN) -tray $(TRAY_BIN) -peers "$$(scripts/install-peers.sh --print-dir)" \
		-micro bench/micro.txt -out bench $(BENCHFLAGS)

# fyne package rewrites the FyneApp.toml it reads (it bumps Build), and wants Go
# code beside it even with --exe: it packages a copy, from dist/pkg.
# Its .desktop template has no Desktop Actions, so the launcher's "Traffic timeline" action
# (mcp-broker-tray --show timeline) is appended after it.
package: build ## make dist/mcp-broker-linux-amd64.tar.xz: both programs, the .desktop file, the icon, an install Makefile
	rm -rf dist/pkg && mkdir -p dist/pkg/src/assets
	cp FyneApp.toml cmd/mcp-broker/main.go dist/pkg/src/
	cp assets/icon.png dist/pkg/src/assets/
	cd dist/pkg && $(GO) run $(FYNE_TOOLS) package -os linux --src "$$PWD/src" --exe "$(CURDIR)/$(TRAY_BIN)" --release
	cd dist/pkg && tar -xJf "MCP Broker.tar.xz" && \
		bindir=$$(dirname "$$(find mcp-broker-tray/usr -path '*/bin/mcp-broker-tray')") && \
		install -m 0755 "$(CURDIR)/$(BIN)" "$$bindir/mcp-broker" && \
		sed -i -e '/^\t\(install\|-rm\) .*bin\/$$(Exec)/{p;s/\$$(Exec)/mcp-broker/g}' mcp-broker-tray/Makefile && \
		printf '%s\n' 'Actions=timeline;' '' '[Desktop Action timeline]' 'Name=Traffic timeline' 'Exec=mcp-broker-tray --show timeline' \
			>> "$$(find mcp-broker-tray/usr -name '*.desktop')" && \
		tar -cJf ../mcp-broker-linux-amd64.tar.xz mcp-broker-tray
	rm -rf dist/pkg
	@echo "dist/mcp-broker-linux-amd64.tar.xz: unpack it and run 'sudo make install' in it"

install-deps: ## install the missing Debian packages of DEPS_GROUPS (default: test gui)
	scripts/install-deps.sh $(DEPS_GROUPS)

fmt: ## gofmt every Go file in place
	scripts/test.sh fmt

lint: ## go vet and the gofmt check
	scripts/test.sh vet gofmt

clean: ## remove build outputs and coverage files
	rm -rf bin dist
	rm -f coverage.out coverage.html *.coverprofile
