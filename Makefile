# The two commands the README promises:
#   make run   runs plumbago on its embedded default (pebble, data under ./data)
#   make test  installs the test oracles (Debian's Graphite, etsy statsd), runs every test,
#              then fuzzes a rotating subset of the fuzz targets (scripts/fuzz-ci.sh)
.PHONY: run test build lint staticcheck fuzz bench

run:
	go run ./cmd/plumbago serve

build:
	./scripts/build-plumbago.sh plumbago

# deploy/check is a Go module of its own (its hcl, go-cty and yaml.v3 stay
# out of the product's go.mod); its tests run here too.
test:
	./scripts/test-deps.sh
	go vet ./...
	go test -count=1 -timeout 30m ./...
	cd deploy/check && go vet ./... && go test -count=1 -timeout 30m ./...
	./scripts/fuzz-ci.sh

# staticcheck comes from the Go module proxy, pinned; its checks are in
# staticcheck.conf, the import rules in internal/layering/rules.txt.
STATICCHECK_VERSION := 2026.2.2
STATICCHECK_MODULE := v0.8.2
STATICCHECK := $(shell go env GOPATH)/bin/staticcheck

lint: staticcheck
	gofmt -l . | (! grep .)
	go vet ./...
	$(STATICCHECK) ./...
	go test -count=1 ./internal/layering/
	cd deploy/check && gofmt -l . | (! grep .) && go vet ./... && $(STATICCHECK) ./...

bench:
	go test -run '^$$' -bench . -benchmem -benchtime 1s ./...

# Installs the pinned staticcheck unless it is there already.
staticcheck:
	@$(STATICCHECK) -version 2>/dev/null | grep -q '^staticcheck $(STATICCHECK_VERSION) ' || go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_MODULE)

# Every fuzz target for FUZZ_TIME (default 20s) each.
fuzz:
	FUZZ_COUNT=all ./scripts/fuzz-ci.sh
