# rgraph's Makefile: thin conveniences around the go tool.
MOD    := $(shell go list -m)
GO     ?= go
BIN    ?= bin
CLANG  ?= clang-14
export BPF2GO_CC     := $(CLANG)
export BPF2GO_CFLAGS := -O2 -g -Wall -Werror

.PHONY: all build test test-privileged bench fuzz demo generate check-generate lint vet check-deps cross update-golden clean

all: build

## build: rgraph (without Graphviz: -tags nographviz), its Graphviz worker
## rgraph-graphviz, and rgraph-agent, the
## microvm driver's guest agent (static: it runs before the guest mounts
## anything), in ./bin
build:
	$(GO) build -tags nographviz -o $(BIN)/ ./cmd/rgraph
	$(GO) build -o $(BIN)/ ./cmd/rgraph-graphviz
	CGO_ENABLED=0 $(GO) build -o $(BIN)/rgraph-agent ./cmd/rgraph-agent

## test: vet, dependency arrows, then every test (privileged ones skip unless
## root), ending with the skipped tests and why
test: vet check-deps
	$(GO) build -o $(BIN)/testsummary ./internal/testsummary
	GO=$(GO) $(BIN)/testsummary -count=1 -timeout 60m ./...

## test-privileged: only the tests that need root, with skips turned into failures
test-privileged:
	RGRAPH_REQUIRE_PRIVILEGED=1 $(GO) test -count=1 ./collector/... ./sandbox/...

## bench: the benchmarks the issues ask for (fleet scale, collector, minimize)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -timeout 60m ./...

## fuzz: fuzz every input decoder for FUZZTIME executions each (a count, not
## a duration: a duration races Go's fuzz coordinator, golang/go#75804)
FUZZTIME ?= 20000x
FUZZ     := collector:FuzzDecode collector:FuzzParseCatalog ingest:FuzzParseEdges sandbox:FuzzParseScenario graph/gate:FuzzParseBaseline
fuzz:
	@for t in $(FUZZ); do \
		$(GO) test ./$${t%%:*} -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 200x || exit 1; \
	done

## demo: the example fleet end to end on the embedded default store
demo: build
	./scripts/demo.sh

## generate: regenerate the eBPF objects with bpf2go (needs clang)
generate:
	$(GO) generate ./...

## check-generate: fail when committed generated files are stale
check-generate: generate
	git diff --exit-code -- '*.go' '*.o'

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "^ not gofmt'ed"; exit 1; }

## lint: vet, dependency arrows, then golangci-lint (.golangci.yaml) at the
## pinned version, which go run fetches from the module proxy on first use
## (about 10 minutes cold, seconds once built and cached)
GOLANGCI_LINT ?= $(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
lint: vet check-deps
	$(GOLANGCI_LINT) run ./...

# forbid: fail when the packages $(1) depend, even transitively, on $(2).
forbid = ! $(GO) list -deps $(1) | grep -E '$(2)' || { echo "^ $(1) must not depend on these"; exit 1; }
# only: fail when the packages $(1) depend, even transitively, on rgraph
# packages other than $(2).
only = ! $(GO) list -deps $(1) | grep '^$(MOD)/' | grep -vxE '$(MOD)/($(2))' || { echo "^ $(1) may depend only on $(2) of rgraph"; exit 1; }
# forbid-direct: fail when the packages $(1) import $(2) themselves (for
# standard packages that fmt and friends pull in anyway).
forbid-direct = ! $(GO) list -f '{{join .Imports "\n"}}' $(1) | grep -xE '$(2)' || { echo "^ $(1) must not import these"; exit 1; }
HEAVY  := badger|cilium/ebpf|go-graphviz|lipgloss|spf13/cobra|k8s\.io
# FORMATS are file formats and file access: graph proper reads none.
FORMATS := os|io/fs|encoding/json|encoding/csv|encoding/xml|gopkg.in/yaml.v3
# Packages and the packages they import, tests included, one line each.
IMPORTS = $(GO) list -f '{{.ImportPath}}: {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./...

## check-deps: keep the import arrows one way (see STYLE.md)
check-deps:
	@$(GO) list ./... >/dev/null
	@$(call only,./graph ./graph/graphtest,graph|graph/graphtest)
	@$(call forbid,./graph ./graph/graphtest,gopkg.in/yaml|$(HEAVY))
	@$(call forbid-direct,./graph,$(FORMATS))
	@$(call only,./graph/gate,graph|graph/gate|collector/decode|internal/atomicfile)
	@$(call forbid,./graph/gate,$(HEAVY))
	@$(call forbid,-tags nographviz ./cmd/rgraph ./render,go-graphviz)
	@$(call forbid,./render/...,$(MOD)/(cmd|collector|ingest|sandbox|graph/gate)|badger|cilium/ebpf|spf13/cobra|k8s\.io)
	@$(call forbid,./ingest/...,$(MOD)/(cmd|render|sandbox|collector/probe)|cilium/ebpf|go-graphviz|lipgloss|spf13/cobra|k8s\.io)
	@$(call forbid,$(MOD)/collector,$(MOD)/(cmd|graph|ingest|render|sandbox|collector/probe)|$(HEAVY))
	@$(call only,./collector/decode,collector/decode)
	@$(call forbid,./sandbox/...,$(MOD)/(cmd|graph|ingest|render)|badger|go-graphviz|lipgloss|spf13/cobra)
	@$(call forbid,$(MOD)/sandbox $(MOD)/sandbox/minimize,k8s\.io)
	@! $(IMPORTS) | grep -v '^$(MOD)/sandbox/k8sjob: ' | grep -E ' (sigs\.)?k8s\.io/' || { echo "^ only sandbox/k8sjob may import the Kubernetes API"; exit 1; }
	@# The driver-neutral sandbox: no driver, probe or kernel helper (of
	@# internal, collector's atomicfile only, through collector).
	@! $(GO) list -deps $(MOD)/sandbox | grep -vx '$(MOD)/internal/atomicfile' | grep -E '$(MOD)/(sandbox/|collector/probe|internal)|$(HEAVY)|vishvananda|^golang.org/x/sys' || { echo "^ $(MOD)/sandbox must not depend on these"; exit 1; }
	@echo "dependency arrows ok"

## cross: everything, tests included, must compile for a non-Linux target
## and for a big-endian Linux one (the probe's bpfeb objects)
cross:
	GOOS=darwin $(GO) build ./...
	GOOS=darwin $(GO) vet ./...
	GOOS=linux GOARCH=s390x $(GO) build ./...
	GOOS=linux GOARCH=s390x $(GO) vet ./...

update-golden:
	$(GO) test ./... -update

clean:
	rm -rf $(BIN)
