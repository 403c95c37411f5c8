# Sightline — build, run and test. `make run` and `make test` do everything
# on a fresh Debian machine with Go, Node 20 and root.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
GOTEST_FLAGS ?= -count=1 -timeout 20m

.PHONY: all build run demo test test-go test-agent deps-test e2e-assets agent console bench fuzz clean

all: build

agent: web/agent/node_modules
	cd web/agent && npm run build
	cp web/agent/dist/sightline.js internal/agentjs/dist/

web/agent/node_modules: web/agent/package-lock.json
	cd web/agent && npm ci --no-audit --no-fund
	touch $@

console: web/console/node_modules
	cd web/console && npm run build

web/console/node_modules: web/console/package-lock.json
	cd web/console && npm ci --no-audit --no-fund
	touch $@

build: agent console
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/sightline ./cmd/sightline

run: build
	./bin/sightline serve

# The same, plus a traced demo shop with synthetic users (console shows data
# within a minute).
demo: build
	./bin/sightline demo

# Test prerequisites: Debian's Chromium for the browser tests, and the
# npm packages the browser tests bundle (aws-rum-web, esbuild).
deps-test:
	./scripts/install-test-deps.sh

e2e-assets: test/e2e/rumweb/node_modules
	cd test/e2e/rumweb && npm run build

test/e2e/rumweb/node_modules: test/e2e/rumweb/package-lock.json
	cd test/e2e/rumweb && npm ci --no-audit --no-fund
	touch $@

test: deps-test build e2e-assets test-agent test-go

test-agent: web/agent/node_modules web/console/node_modules
	cd web/agent && npm test
	cd web/console && npm test

test-go:
	SIGHTLINE_BIN=$(CURDIR)/bin/sightline $(GO) test $(GOTEST_FLAGS) ./...

bench: build
	SIGHTLINE_BIN=$(CURDIR)/bin/sightline $(GO) test -run '^$$' -bench . -benchtime 3x ./...

# Short fuzzing pass over every decoder of outside input (FUZZTIME=20s each).
fuzz:
	./scripts/fuzz.sh

clean:
	rm -rf bin web/agent/dist test/e2e/rumweb/dist
	find internal/ui/dist internal/agentjs/dist -type f ! -name .keep ! -name .gitignore -delete
