# codexhost Makefile. Every tool the project needs is installed by these
# targets from the Go module proxy and the npm registry; a fresh machine needs
# only Go and Node/npm.

GO            ?= go
NPM           ?= npm
GOTEST_FLAGS  ?= -race -count=1 -timeout=15m

# Pinned tools.
CODEX_VERSION := 0.169.0
go_jsonschema := github.com/atombender/go-jsonschema@v0.24.1
# The linters of make lint, installed from the Go module proxy into
# .cache/tools/NAME@VERSION (staticcheck v0.8 is the first with Go 1.26).
STATICCHECK_VERSION := v0.8.2
DEADCODE_VERSION    := v0.52.0
TOOLS_BIN   := .cache/tools
STATICCHECK := $(TOOLS_BIN)/staticcheck@$(STATICCHECK_VERSION)/staticcheck
DEADCODE    := $(TOOLS_BIN)/deadcode@$(DEADCODE_VERSION)/deadcode

# The range of codex versions codexhost supports and tests: the minimum is the
# pinned one above (host.MinCodexVersion), the newest is
# host.NewestTestedCodexVersion. Each has a committed lock file: tools/codex
# for the minimum, tools/codex-VERSION for the others. `make codex
# CODEX_VERSION=0.171.0` installs that one into its own node_modules, and
# `make protocol CODEX_VERSION=...` regenerates the wire types from it.
MIN_CODEX_VERSION    := 0.169.0
NEWEST_CODEX_VERSION := 0.171.0
codex_dir = $(if $(filter $(MIN_CODEX_VERSION),$(1)),tools/codex,tools/codex-$(1))

TOOLS_DIR     := $(call codex_dir,$(CODEX_VERSION))
CODEX_STAMP   := $(TOOLS_DIR)/node_modules/.package-lock.json
CODEX_JS      := $(TOOLS_DIR)/node_modules/.bin/codex

.PHONY: all build install test warm bench demo codex protocol check lint format vet clean help plugins test-codex-newest test-codex-newest-run cosign otelcol test-otel local-registry local-registry-stop

all: build plugins

help:
	@echo "make demo      the offline demo on the real codex with the fake model and example plugins"
	@echo "make test      install the pinned codex, then run every test with -race; then make test-codex-newest"
	@echo "make bench     run the benchmarks and print the performance table (docs/performance.md)"
	@echo "make codex     install @openai/codex@$(CODEX_VERSION) into $(TOOLS_DIR) (CODEX_VERSION=$(NEWEST_CODEX_VERSION) for the newest tested)"
	@echo "make test-codex-newest  run the real-codex tests against codex $(NEWEST_CODEX_VERSION)"
	@echo "make protocol  regenerate the wire types (host/protocol) from the pinned codex's schema"
	@echo "make install   go install ./cmd/codexhost, make plugins and make codex"
	@echo "make plugins   build the shipped Wasm plugins into bin/"
	@echo "make lint      gofmt -l, go vet, staticcheck, deadcode (make test runs it)"
	@echo "make check     make lint, then go mod tidy; fails on a dirty tree"
	@echo "make registry  install docker-registry (Debian) for the plugin distribution tests"
	@echo "make local-registry       start docker-registry on $(LOCAL_REGISTRY_ADDR) in the background, for the docs' examples"
	@echo "make local-registry-stop  stop it"
	@echo "make cosign    build the pinned cosign CLI (tools/cosign) into $(COSIGN) for the signature interop tests"
	@echo "make otelcol   build the test OpenTelemetry Collector (tools/otelcol: OTLP receiver, file exporter) into $(OTELCOL)"
	@echo "make test-otel build the collector and run the test of traces and decision logs against it"
	@echo "make strace    install strace (Debian) for the rule engine's differential tests against bash"
	@echo "make prometheus  install prometheus (Debian) for the test that scrapes a real-codex run"
	@echo "make fuzz-rules  fuzz the rule engine against real bash for FUZZTIME (default 10m)"

build:
	$(GO) build ./...

# codexhost into $(go env GOBIN) or $(go env GOPATH)/bin, the shipped plugins
# into bin/, and the pinned codex it drives.
install: codex plugins
	$(GO) install ./cmd/codexhost
	@bin=`$(GO) env GOBIN`; [ -n "$$bin" ] || bin=`$(GO) env GOPATH`/bin; \
	case ":$$PATH:" in *":$$bin:"*) ;; *) echo "codexhost is in $$bin, which is not on your PATH: export PATH=\"\$$PATH:$$bin\"";; esac

# The shipped plugins, prebuilt as sandboxed Wasm modules.
SHIPPED_PLUGINS := bin/rules-policy.wasm bin/execrender.wasm
plugins: $(SHIPPED_PLUGINS)
bin/rules-policy.wasm: $(wildcard plugins/rules/*.go plugins/rules/cmd/rules-policy/*.go sdk-guest/*.go abi/*.go) go.mod go.sum
	@mkdir -p bin
	GOOS=wasip1 GOARCH=wasm $(GO) build -trimpath -buildmode=c-shared -o $@ ./plugins/rules/cmd/rules-policy
bin/execrender.wasm: $(wildcard plugins/render/*.go examples/execrender/*.go sdk-guest/*.go abi/*.go) go.mod go.sum
	@mkdir -p bin
	GOOS=wasip1 GOARCH=wasm $(GO) build -trimpath -buildmode=c-shared -o $@ ./examples/execrender

# The pinned Codex CLI, from the committed package.json + lock file. In a
# fresh clone the lock file is newer than any install; if the pinned version
# is already there (node_modules linked from another checkout, say), it is
# kept: npm ci would first delete it, and with it the other checkout's.
codex: $(CODEX_STAMP)
$(CODEX_STAMP): $(TOOLS_DIR)/package.json $(TOOLS_DIR)/package-lock.json
	@if [ -x $(CODEX_JS) ] && [ "`$(CODEX_JS) --version 2>/dev/null`" = "codex-cli $(CODEX_VERSION)" ]; then \
		echo "codex-cli $(CODEX_VERSION) is installed in $(TOOLS_DIR)/node_modules"; \
	else \
		cd $(TOOLS_DIR) && $(NPM) ci --no-audit --no-fund --loglevel=error; \
	fi
	@$(CODEX_JS) --version

# The real-codex tests against the newest tested codex: every package whose
# tests start the real app-server, with CODEX_BIN (host.EnvCodexBin) pointing
# at that install's native binary. It needs warm as make test does: without
# the compiled guests, their first compile on a busy machine outruns the
# plugin load deadline. cmd/codexhost comes first: its tests take as long as
# all the others together, and go test starts the packages in this order.
REAL_CODEX_PKGS := ./cmd/codexhost ./host ./host/hosttest/... ./plugins/chain/... ./examples/... \
	./plugins/rules/cmd/rules-policy ./plugins/render
# Tests of those packages that are not run again on the newest codex, each
# slow and with a result that cannot depend on the codex version:
# - none of these starts codex: TestPluginNew scaffolds a fresh module and
#   builds and tests it with the Go toolchain; the others build, test,
#   sign, push, pull or inspect plugins, complete in bash, or refuse bad
#   configuration or a bad signature before codex would start;
# - these three start codex only as the vehicle of a run whose subject is
#   the provenance of its plugin (pulled from a registry, verified, kept
#   across a reload); the same runs without a registry stay in this pass
#   (TestRunPolicyAccepts, TestRunSIGHUPAndMetrics):
#   TestRunSignedPluginFromRegistry, TestRunCosignSignedPlugin,
#   TestReloadFromRegistryKeepsTrust;
# - the tests of bad input refused before codex starts, of keys, trust
#   policies, audit logs and exporters, and of the chain's render pipeline
#   with plugins of its own, added by the reviews of the fifth round:
#   TestKeygenRefusesAnEmptyName … TestRenderQueueIsBoundedInBytes;
# - those of the sixth round that start a fake app-server or none, or
#   measure what the host allocates: TestTapRecordsLinesInLinearTime …
#   TestCloseAbandonsAStalledOutput.
NEWEST_SKIP := ^(TestPluginNew|TestCompletionInBash|TestPluginTestSleeperTimesOut|TestConfigBadInput|TestPluginBuild|TestPluginPushPullSignVerify|TestPluginTestTranscript|TestPluginInspect|TestProcessPluginFromRegistry|TestLocalPluginSignature|TestKeygenCosignPassword|TestRefuseManifestMismatch|TestDistBadInput|TestPluginTestCases|TestRunSignedPluginFromRegistry|TestRunCosignSignedPlugin|TestReloadFromRegistryKeepsTrust|TestKeygenRefusesAnEmptyName|TestKeygenRefusalWritesNothing|TestAuditVerifyBadPrev|TestSignWrongPasswordSaysSo|TestTrustRefreshBadMirror|TestAgentServeKeepsACodexConfig|TestRunConfigFileErrorsNameLineAndKey|TestRunConfigFileValuesNameTheKey|TestDefaultTrustPolicyThatCannotBeReadFailsClosed|TestVerifyLocalFileIsReadOnce|TestRunRefusesAnEmptyPolicy|TestRunRefusesAnEmptyAudit|TestRunRefusesAnEmptyScript|TestProcessPluginBareNameIsTheFile|TestRunExporterErrorsAreEscaped|TestRenderTimeoutsSpendTheCrashBudget|TestRenderTimeoutsSpendTheCrashBudgetWasm|TestRenderPanicFailsOpen|TestRenderOutputIsWrittenWhole|TestRenderQueueIsBoundedInBytes|TestTapRecordsLinesInLinearTime|TestDeeplyNestedAnswerCostsItsSize|TestMeetOfLongGrants|TestSIGHUPBeforeTheReloaderStarts|TestPromptReadEndsWithTheRun|TestCloseWhenADescendantHoldsStderr|TestStartTurnAfterCloseFails|TestCloseAbandonsAStalledOutput)$$
# Without -race: this run checks the protocol against the newest codex; the
# race detector already ran on the same tests in make test's first pass, and
# under it this pass took twice as long (CI's cold run must stay < 15 min).
NEWEST_GOTEST_FLAGS ?= -count=1 -timeout=15m
NEWEST_CODEX_DIR := $(call codex_dir,$(NEWEST_CODEX_VERSION))
test-codex-newest: testdata warm
	$(MAKE) test-codex-newest-run

# test-codex-newest without its prerequisites, for make test (which has
# made them already).
test-codex-newest-run:
	$(MAKE) codex CODEX_VERSION=$(NEWEST_CODEX_VERSION)
	@bin=`ls $(CURDIR)/$(NEWEST_CODEX_DIR)/node_modules/@openai/codex-*/vendor/*/bin/codex 2>/dev/null | head -n1`; \
	if [ -z "$$bin" ]; then bin=$(CURDIR)/$(NEWEST_CODEX_DIR)/node_modules/.bin/codex; fi; \
	echo "CODEX_BIN=$$bin"; \
	CODEX_BIN=$$bin CODEXHOST_WANT_CODEX_VERSION=$(NEWEST_CODEX_VERSION) $(GO) test $(NEWEST_GOTEST_FLAGS) -skip '$(NEWEST_SKIP)' $(REAL_CODEX_PKGS)

# Every test on the pinned (minimum) codex, then the real-codex packages
# again on the newest tested one: both ends of the supported range.
test: codex testdata registry strace prometheus cosign warm lint
	$(GO) test $(GOTEST_FLAGS) ./...
	$(MAKE) test-codex-newest-run
	@# One short run of every benchmark, so that they do not rot.
	CODEXHOST_BENCH_SMOKE=1 $(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./host/internal/benchmarks

# Build the Go plugin guests the tests load and compile them into the
# shared wazero compilation cache without the race detector, under which
# wazero compiles each ~8x slower: on a fresh clone this is most of the
# test time. See internal/warmcache.
warm:
	CODEXHOST_WARM=1 $(GO) test -count=1 -run '^TestWarmGuests$$' ./internal/warmcache

# The performance figures of docs/performance.md (host/internal/benchmarks):
# one table on stdout; the raw, benchstat-format results in .cache/bench.
bench: codex testdata
	$(GO) run ./host/internal/benchmarks/benchtab

# The offline demo: the real codex with the fake model and the shipped
# example plugins (streaming, an accepted and a declined command, a tool
# call, thread list/read/archive, a question answered by a plugin, an
# interrupted turn, a compacted thread, a named thread, the loaded threads,
# skills, apps and a review). --strict: a failed step fails the target.
demo: codex
	$(GO) run ./cmd/codexhost demo --mode full --strict

# Regenerate the codex wire types into the public host/protocol, and the
# aliases that host/internal/protocol (what host imports) keeps of them.
# Provenance is recorded in host/protocol/provenance.go.
PROTO_DIR := host/protocol
PROTO_GEN := ./host/internal/protocol/gen
protocol: codex
	@rm -rf .cache/schema && mkdir -p .cache/schema
	$(CODEX_JS) app-server generate-json-schema --experimental --out .cache/schema
	$(GO) run $(PROTO_GEN) -schema .cache/schema -out $(PROTO_DIR) -codex-version $(CODEX_VERSION)
	cd $(PROTO_DIR) && GOFLAGS=-mod=mod $(GO) run $(go_jsonschema) -p protocol --only-models --tags json \
		--struct-name-from-title -e \
		--capitalization ID --capitalization URL --capitalization JSON --capitalization MCP \
		--capitalization API --capitalization HTTP \
		-o types.go schema.json
	@# A defined type over json.RawMessage loses its MarshalJSON; make those aliases.
	sed -i -E 's/^type ([A-Za-z0-9_]+) json\.RawMessage$$/type \1 = json.RawMessage/' $(PROTO_DIR)/types.go
	gofmt -w $(PROTO_DIR)
	$(GO) run $(PROTO_GEN) -out $(PROTO_DIR) -import github.com/codexhost/codexhost/$(PROTO_DIR) \
		-aliases host/internal/protocol/aliases.go

format:
	gofmt -w $$(git ls-files '*.go')

# vet also type-checks for macOS, where the library and the CLI must build
# too (what only Linux has sits in _linux files).
vet:
	$(GO) vet ./...
	GOOS=darwin $(GO) vet ./...

# The checks that do not need a clean tree; make test runs them first.
# deadcode -test counts what tests reach as used; the functions of
# tools/lint/deadcode-known.txt are tolerated (each line says why).
lint: vet $(STATICCHECK) $(DEADCODE)
	@unformatted="`gofmt -l $$(git ls-files '*.go')`"; if [ -n "$$unformatted" ]; then \
		echo "gofmt: these files need gofmt -w (make format):"; echo "$$unformatted"; exit 1; fi
	$(STATICCHECK) ./...
	@dead="`$(DEADCODE) -test ./... | grep -Ev -f tools/lint/deadcode-known.txt`"; if [ -n "$$dead" ]; then \
		echo "deadcode: unreachable functions (delete them, or use them in a test):"; echo "$$dead"; exit 1; fi

$(STATICCHECK):
	GOBIN=$(abspath $(dir $@)) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
$(DEADCODE):
	GOBIN=$(abspath $(dir $@)) $(GO) install golang.org/x/tools/cmd/deadcode@$(DEADCODE_VERSION)

# lint, plus a tidy go.mod and a clean tree.
check: lint
	$(GO) mod tidy
	@if [ -n "`git status --porcelain`" ]; then \
		echo "The following differences will fail CI until committed:"; \
		git status --porcelain; exit 1; fi

clean:
	rm -rf .cache bin

# The hand-written WebAssembly guests of plugins/ (*.wat), built with
# Debian's wabt. The .wasm files are build outputs; they are not committed.
WAT_SRCS := $(wildcard plugins/plugintest/testdata/wat/*.wat plugins/wasm/testdata/*.wat plugins/internal/hostile/testdata/wat/*.wat)
WAT_BINS := $(WAT_SRCS:.wat=.wasm)

.PHONY: testdata wabt registry strace prometheus fuzz-rules

testdata: $(WAT_BINS)

# wabt from Debian's packages, unless wat2wasm is already installed.
wabt:
	@command -v wat2wasm >/dev/null 2>&1 || { \
		if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
		$$sudo apt-get update && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wabt; }

%.wasm: %.wat | wabt
	wat2wasm -o $@ $<

# The OCI registry the plugin distribution tests push to and pull from:
# Debian's docker-registry (the CNCF distribution server), unless installed.
# Tests start their own instance on 127.0.0.1 (plugins/dist/disttest).
REGISTRY_BIN := /usr/bin/docker-registry
registry:
	@test -x $(REGISTRY_BIN) || { \
		if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
		$$sudo apt-get update && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker-registry; }

# A local OCI registry for the docs' examples (README, tutorial,
# distribution): Debian's docker-registry on LOCAL_REGISTRY_ADDR, in the
# background, its storage and log in LOCAL_REGISTRY_DIR; nothing is started
# if a registry already answers there. make local-registry-stop stops it.
# The tests start their own (plugins/dist/disttest); docs/registry_test.go
# runs these two targets.
LOCAL_REGISTRY_ADDR ?= 127.0.0.1:5000
LOCAL_REGISTRY_DIR  ?= .cache/registry
local-registry: registry
	@bash tools/local-registry.sh start $(LOCAL_REGISTRY_ADDR) $(LOCAL_REGISTRY_DIR)
local-registry-stop:
	@bash tools/local-registry.sh stop $(LOCAL_REGISTRY_DIR)

# The real cosign CLI, for the tests that prove signatures interoperate
# (plugins/dist, cmd/codexhost): built from the Go module proxy at the
# version tools/cosign/go.mod pins (a module of its own, so that cosign's
# large dependency tree stays out of codexhost's go.mod). Tests find it at
# $(COSIGN) (plugins/dist/disttest.Cosign); under CI=true they fail
# without it. A cold build takes minutes; after that it is a cache hit.
COSIGN := .cache/bin/cosign
cosign: $(COSIGN)
$(COSIGN): tools/cosign/go.mod tools/cosign/go.sum
	@mkdir -p $(dir $@)
	cd tools/cosign && $(GO) build -o $(abspath $@) github.com/sigstore/cosign/v3/cmd/cosign
	@$@ version 2>/dev/null | grep -E '^GitVersion' || true

# The OpenTelemetry Collector the OTLP test of cmd/codexhost
# (TestOTLPCollectorReceivesRun) starts on 127.0.0.1 to receive a
# real-codex run's traces and decision logs: the smallest build there is,
# the OTLP receiver and the file exporter only (tools/otelcol/main.go, a
# module of its own at the versions its go.mod pins, so that the
# collector's dependencies stay out of codexhost's go.mod). A cold build
# costs about 4 CPU-minutes (docs/performance.md): too much for make
# test's cold CI budget, so the test has its own target, test-otel, which
# builds the collector and runs the test (it fails there without it, and
# skips elsewhere when the collector is missing).
OTELCOL := .cache/bin/otelcol
otelcol: $(OTELCOL)
$(OTELCOL): tools/otelcol/go.mod tools/otelcol/go.sum tools/otelcol/main.go
	@mkdir -p $(dir $@)
	cd tools/otelcol && $(GO) build -o $(abspath $@) .
test-otel: codex testdata otelcol
	CODEXHOST_REQUIRE_OTELCOL=1 $(GO) test -race -count=1 -run '^TestOTLPCollectorReceivesRun$$' ./cmd/codexhost

# strace from Debian's packages, unless installed: the rule engine's
# differential tests (plugins/rules) run every accepted line under real bash
# traced by it. Under CI=true those tests fail without it.
STRACE_BIN := /usr/bin/strace
strace:
	@test -x $(STRACE_BIN) || { \
		if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
		$$sudo apt-get update && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends strace; }

# The Prometheus server from Debian's packages, unless installed: a test of
# cmd/codexhost (TestPrometheusScrapesRealRun) starts its own instance on
# 127.0.0.1, scraping a real-codex run, and reads the counts back through
# its query API. Under CI=true that test fails without it.
PROMETHEUS_BIN := /usr/bin/prometheus
prometheus:
	@test -x $(PROMETHEUS_BIN) || { \
		if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
		$$sudo apt-get update && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus; }

# The long differential run: the grammar-aware fuzzer of plugins/rules
# mutates accepted lines, and every mutant the engine accepts runs under
# bash and strace. FUZZTIME=30m make fuzz-rules for a longer run.
FUZZTIME ?= 10m
fuzz-rules: strace
	$(GO) test -run '^$$' -fuzz FuzzDifferential -fuzztime $(FUZZTIME) ./plugins/rules
