# The README's two commands: `make run` and `make test`. Everything else is a helper.
PRESET ?= release
BUILD_DIR := $(if $(filter release,$(PRESET)),build,build-$(subst asan-ubsan,asan,$(PRESET)))
JOBS ?= $(shell nproc)
ARGS ?=

.PHONY: all deps build run test check-config format format-check bench clean

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

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

format-check:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror

bench:
	@deploy/install-deps.sh bench
	@$(MAKE) --no-print-directory build
	@bench/run.sh $(if $(QUICK),--quick,)

clean:
	@rm -rf build build-debug build-asan build-tsan
