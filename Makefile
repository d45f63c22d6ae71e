# billclock — make targets. `make test` is what CI runs (.ci/run).

GO ?= go

.PHONY: test build vet fmt-check serve openapi bench load fuzz

## test: vet, format check, and every test with the race detector
test: vet fmt-check
	$(GO) test -race -count=1 ./...

build:
	CGO_ENABLED=0 $(GO) build -o billclock ./cmd/billclock

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

## fuzz: run the form decoder's fuzz target for a while
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseForm -fuzztime 60s ./emulator/stripe/
