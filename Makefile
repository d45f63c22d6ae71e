# billclock — make targets. `make test` is what CI runs (.ci/run).

GO ?= go

.PHONY: test build vet fmt-check serve openapi bench load advancebench eventbench searchbench fuzz container-test

## test: vet, format check, every test with the race detector (the browser
## tests need Chromium, installed from Debian when missing), then the
## container smoke test (podman, installed from Debian when missing)
test: vet fmt-check
	bash scripts/ensure-chromium.sh
	$(GO) test -race -count=1 ./...
	bash scripts/container-smoke.sh

## build: a static ./billclock; -buildvcs=auto records the commit for
## --version even where GOFLAGS turns it off
build:
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -o billclock ./cmd/billclock

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

serve:
	$(GO) run ./cmd/billclock serve

## openapi: regenerate testdata/openapi/stripe-subset.json from the shared spec
openapi:
	$(GO) run ./scripts/openapi-extract

## bench: Go benchmarks of the API and the advance round trip
bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./emulator/

## load: requests/second over loopback with 32 keep-alive clients
load:
	$(GO) run ./scripts/load

## advancebench: advance N customers' subscriptions by two months
advancebench:
	$(GO) run ./scripts/advancebench -n 1000,10000

## eventbench: filtered event lists over 200,000 events (median and p90 latency)
eventbench:
	$(GO) test -run '^$$' -bench BenchmarkEventListFilters -benchtime 50x ./emulator/stripe/

## searchbench: customer searches over 10,000 customers (median and p90 latency)
searchbench:
	$(GO) test -run '^$$' -bench BenchmarkCustomerSearch -benchtime 50x ./emulator/stripe/

## fuzz: run every fuzz target for FUZZTIME each (scripts/fuzz-all.sh finds them)
FUZZTIME ?= 30s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) bash scripts/fuzz-all.sh

## container-test: the container smoke test alone: build the image (Dockerfile, FROM scratch)
## and check its HEALTHCHECK, health, an advance, and data kept on a volume across containers;
## podman (installed if missing), or CONTAINER_ENGINE=docker
container-test:
	bash scripts/container-smoke.sh
