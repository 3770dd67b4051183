# The two commands of the README: `make run` and `make test`. Each sets up the
# machine for what it needs (scripts/setup.sh TARGET, quiet when all is there)
# and builds what it runs. Nothing here reads a path outside the repository.
JOBS ?= $(shell nproc)
BUILD ?= build
SAN_BUILD ?= build-san
HOME_DIR ?= $(CURDIR)/.demo-home
VOCAB ?= $(CURDIR)/.cache/fixtures/tokenizer/ggml-vocab-llama-spm.gguf

.PHONY: all setup build build-all build-san run test tsan fixtures bench-ledger bench-infer bench-market bench-work bench-train bench-serve bench-chain fuzz clean

all: build

setup:
	@./scripts/setup.sh run

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target gotong

build-all: setup
	@./scripts/setup.sh test
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The main job: a fresh embedded network with agents doing real work, on a
# random-weight model made around llama.cpp's vocabulary (fetched by setup).
run: build
	@$(BUILD)/gotong demo --home $(HOME_DIR) --fresh --vocab $(VOCAB)
	@echo "dashboard: $(BUILD)/gotong node --home $(HOME_DIR), then open http://127.0.0.1:8645/"

# Every test, under AddressSanitizer + UndefinedBehaviorSanitizer, warnings as
# errors. ctest's first test ("fixtures") writes the test models and
# llama.cpp's references for them into .cache/fixtures.
test:
	@./scripts/setup.sh test
	@cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DGT_SANITIZE=ON -DGT_WERROR=ON >/dev/null
	@cmake --build $(SAN_BUILD) -j $(JOBS)
	@cd $(SAN_BUILD) && ctest --output-on-failure -j $(JOBS)

# The tests that run threads, under ThreadSanitizer, in a build of their own
# (TSan excludes ASan, so this is not part of `make test`): the thread pool,
# the kernels and the parallel model load, the same bytes at 1 and 3 threads,
# the K-quant prefetch's tuner, the ledger's writer (its nonce reservations
# too), syncer and checkpointer, the node's HTTP server, uploads and x402,
# serving with continuous batching and its OpenAI clients, the agents and
# the market scenarios.
TSAN_BUILD ?= build-tsan
TSAN_TESTS ?= fixtures|test_base|test_kernels|test_pf_tune|test_model_load|infer_same_bytes|test_ledger|test_ledger_reserve|test_ledger_ckpt|test_ledger_crash|test_ledger_faults|test_api|test_api_limits|test_api_x402_ledger|test_serve_x402|test_api_uploads|test_serve|test_serve_node|test_serve_batch|test_serve_stream|test_serve_agent|test_serve_openai|test_agent|test_market|test_scenarios|test_work_scenarios
tsan:
	@./scripts/setup.sh test
	@cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGT_TSAN=ON >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS)
	@cd $(TSAN_BUILD) && ctest --output-on-failure -j $(JOBS) -R '^($(TSAN_TESTS))$$'

# The test models and references alone (what ctest's "fixtures" test does).
fixtures: build
	@./scripts/setup.sh test
	@./scripts/fixtures.sh $(BUILD)/gotong

bench-ledger: build-all
	@$(BUILD)/bench_ledger

bench-infer: build-all
	@./scripts/setup.sh bench
	@./bench/infer.sh $(BUILD)

# Data pipeline throughput vs raw generation of the same model; ends "pipeline/raw: X.XX".
bench-work: fixtures
	@cmake --build $(BUILD) -j $(JOBS) --target bench_work
	@$(BUILD)/bench_work

bench-market: build-all
	@./scripts/setup.sh bench
	@./bench/market.sh $(BUILD)

# Serving: 1, 4, 16 concurrent chat clients; gotong's continuous batching
# against its sequential serving and llama.cpp's llama-server (setup.sh bench
# builds it from the pinned source once, into .cache/llama-server).
bench-serve: build
	@./scripts/setup.sh bench
	@./bench/serve.sh $(BUILD)

# Job lifecycles on anvil through the C chain client, and gas per lifecycle
# (anvil and solc come with setup.sh test; without them it says so).
bench-chain: build-all
	@$(BUILD)/bench_chain

bench-train: build-all
	@./scripts/setup.sh bench
	@./bench/train.sh $(BUILD)

# libFuzzer builds of every fuzz target (clang); run one with e.g.
#   build-fuzz/fuzz_action -max_total_time=60 -artifact_prefix=/tmp/ /tmp/corpus tests/fuzz/corpus/action
# (the first corpus directory is where libFuzzer writes what it finds)
fuzz:
	@./scripts/setup.sh fuzz
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DGT_FUZZ=ON -DGT_SANITIZE=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

clean:
	rm -rf $(BUILD) $(SAN_BUILD) build-fuzz $(HOME_DIR)
