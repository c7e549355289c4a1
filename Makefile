# The README's two commands: `make run` and `make test`. Everything else is a helper.
PRESET ?= release
BUILD_DIR := $(if $(filter release,$(PRESET)),build,build-$(subst asan-ubsan,asan,$(PRESET)))
JOBS ?= $(shell nproc)
ARGS ?=

.PHONY: all deps build run test test-asan tsan check-config format format-check bench soak image-check fuzz compat clean

all: build

deps:
	@deploy/install-deps.sh test

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Runs airlock on its embedded default config (or ARGS="--config FILE").
run: build
	@$(BUILD_DIR)/bin/airlock $(ARGS)

test: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# The same suites built with ASan+UBSan (CI runs this after make test): unit, integration and
# the fuzz corpora, with the real airlock binary instrumented. Formatting and the deploy
# checks are not repeated. A leak, a bad access or undefined behaviour fails the run.
SANITIZER_SKIP := ^(clang_format|deploy_check_)
test-asan:
	@$(MAKE) --no-print-directory build PRESET=asan-ubsan
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir build-asan --output-on-failure -j $(JOBS) -E '$(SANITIZER_SKIP)'

# ThreadSanitizer over the same suites (multi_worker_test runs two workers against the
# shared store, leaf cache and metrics); the first race report ends the process.
tsan:
	@$(MAKE) --no-print-directory build PRESET=tsan
	@TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 setarch $$(uname -m) -R \
	  ctest --test-dir build-tsan --output-on-failure -j $(JOBS) -E '$(SANITIZER_SKIP)|^fuzz_corpus_'

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

format-check:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror

bench:
	@deploy/install-deps.sh bench
	@$(MAKE) --no-print-directory build
	@bench/run.sh $(if $(QUICK),--quick,) $(if $(ONLY),--only $(ONLY),)

# Mixed load through one airlock for SOAK_SECONDS (default 10 minutes), sampled every 30 s:
# RSS, descriptors and error drift; writes build/soak/report.md, exits 1 on drift or errors.
SOAK_SECONDS ?= 600
soak:
	@deploy/install-deps.sh bench
	@$(MAKE) --no-print-directory build
	@tests/soak/soak.sh $(SOAK_SECONDS)

# The real agent CLIs and SDKs, pinned in tests/compat/package-lock.json and fetched from the
# npm registry (about 1.2 GB, kept in build/compat/npm), run through airlock with only
# `. airlock.env` and a placeholder key, in a loopback-only network namespace against a
# stand-in for the vendors; writes build/compat/report.md. Not part of make test.
compat:
	@deploy/install-deps.sh compat
	@$(MAKE) --no-print-directory build
	@tests/compat/run.sh

# Builds deploy/Dockerfile with Debian's podman (a debootstrap base, no registry) and runs
# the image, the egress-init image and the compose file hardened (about 10-20 minutes).
image-check:
	@deploy/install-deps.sh image
	@deploy/image-check.sh

# libFuzzer (clang, ASan + UBSan) over each target in tests/fuzz for FUZZ_SECONDS; new
# inputs go to build-fuzz/corpus, crashes to build-fuzz/crash-* (add them to the corpus).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := request_head host_policy header_template config_load scrub_stream ws_stream
fuzz:
	@deploy/install-deps.sh fuzz
	@cmake -S tests/fuzz -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t && \
	  build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix=build-fuzz/crash-$$t- build-fuzz/corpus/$$t tests/fuzz/corpus/$$t \
	    || exit 1; \
	done

clean:
	@rm -rf build build-debug build-asan build-tsan build-fuzz
