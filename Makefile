# Top-level driver: CMake does the real work; these targets are the ones the README names.
# On a machine without make, ./signet.sh TARGET installs the packages (make included) first.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test run sanitize test-sanitize bench fuzz clean

all: build

# Installs the Debian packages when any is missing (needs root or sudo); a no-op otherwise.
deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# One command runs every test (unit, known-answer vectors, end-to-end); none may be skipped.
# The test tools (tests/tools: npm ci of the pinned verifiers) are installed here, not by build.
test: build
	cmake --build $(BUILD) --target signet_test_tools
	cd $(BUILD) && ctest --output-on-failure --no-tests=error -j $(JOBS)

# One command starts the service on embedded defaults (./signet-data, http://127.0.0.1:8080).
run: build
	$(BUILD)/bin/signetd --data-dir ./signet-data

# The whole suite under ASan + UBSan, aborting on the first report.
sanitize: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSIGNET_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)

test-sanitize: sanitize
	cmake --build $(ASAN_BUILD) --target signet_test_tools
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)

bench: build
	$(BUILD)/bin/bench_mldsa

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
