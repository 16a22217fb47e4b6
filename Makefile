# Top-level driver: CMake does the real work; these targets are the ones the README names.
# On a machine without make, ./signet.sh TARGET installs the packages (make included) first.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test run sanitize test-sanitize bench fuzz clean install deb

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
# It builds only the two programs and configures CMake only for a new build
# directory (the build itself re-runs CMake when a CMakeLists.txt changed).
# ARGS goes to signetd: make run ARGS="--listen 127.0.0.1:9090"; SIGNET_LISTEN
# and SIGNET_DATA_DIR in the environment work too.
ARGS ?=
run: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS) --target signetd signet
	$(BUILD)/bin/signetd $(ARGS)

# The whole suite under ASan + UBSan, aborting on the first report.
sanitize: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSIGNET_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The Debian package test (label "package") builds its own Release binaries, so it
# would test nothing more under the sanitizers; `make test` runs it.
test-sanitize: sanitize
	cmake --build $(ASAN_BUILD) --target signet_test_tools
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -LE package

# Install signetd, signet, the systemd unit, the default config and the man
# pages under PREFIX (default /usr/local; /usr puts the config in /etc/signet),
# staged under DESTDIR when given.  Builds only what it installs.
PREFIX ?= /usr/local
DESTDIR ?=
install:
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS) --target signetd signet
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

# The Debian package, from this tree (packaging/build-deb.sh): a Release build
# with Debian's hardening flags in $(DEB_BUILD)/build, then dpkg-deb; lintian
# checks it when installed.  The package lands in $(DEB_BUILD)/.
DEB_BUILD ?= build-deb
deb:
	JOBS=$(JOBS) bash packaging/build-deb.sh $(DEB_BUILD)
	@if command -v lintian >/dev/null 2>&1; then lintian --fail-on error,warning $(DEB_BUILD)/signet_*.deb; \
	  else echo "lintian is not installed; the package is not linted"; fi

bench: build
	$(BUILD)/bin/bench_mldsa

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
