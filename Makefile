# Thin wrapper over CMake. `make run` and `make test` install what is missing first.
SHELL := /bin/bash

PACKAGES := build-essential cmake ninja-build pkg-config ca-certificates openssl \
	libuv1-dev node-llhttp libmbedtls-dev libtomlplusplus-dev libcli11-dev \
	libsqlite3-dev catch2 rapidjson-dev mandoc wrk curl systemd
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
JOBS ?= $(shell nproc)
CMAKE_GEN := -G Ninja

.PHONY: all deps build release run test test-build test-asan sdk-deps fuzz clean

all: build

# Installs the Debian packages that are not installed yet (and nothing when all are).
deps:
	@missing=$$(for p in $(PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	cmake -S . -B build $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build -j $(JOBS)

release: deps
	cmake -S . -B build-release $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
	cmake --build build-release -j $(JOBS)

# Starts gbd in the foreground on the development config, state under ./var.
run: release
	mkdir -p var
	./build-release/gbd -c etc/gbd.dev.toml

# The openai npm package that tests/sdk drives gbd with, from its lock file; again when the
# lock is newer than node_modules. Uses the node and npm on PATH: the SDK needs Node.js 20
# or later, and Debian 12's nodejs is 18.
sdk-deps:
	@command -v node >/dev/null && command -v npm >/dev/null || \
		{ echo "tests/sdk needs node (20 or later) and npm on PATH" >&2; exit 1; }
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || \
		{ echo "tests/sdk needs Node.js 20 or later, not $$(node --version)" >&2; exit 1; }
	@if [ ! -d tests/sdk/node_modules ] || [ tests/sdk/package-lock.json -nt tests/sdk/node_modules ]; then \
		echo "cd tests/sdk && npm ci --no-audit --no-fund"; \
		cd tests/sdk && npm ci --no-audit --no-fund; \
	fi

# Every test through CTest, then again under AddressSanitizer and UBSan.
test: build sdk-deps
	cd build && ctest --output-on-failure -j $(JOBS)
	$(MAKE) test-asan

test-asan: deps sdk-deps
	cmake -S . -B build-asan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DGB_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)

# libFuzzer targets under clang with ASan and UBSan (tests/fuzz/README.md): each one runs
# $(FUZZ_SECONDS) s on a scratch copy of its seeds; fails if any crashed.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := fuzz_sse fuzz_json_array fuzz_config fuzz_verdict fuzz_http_server \
	fuzz_http_client fuzz_usage fuzz_ctl fuzz_openai_request fuzz_openai_stream
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B build-fuzz $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DGB_FUZZ=ON -DBUILD_TESTING=OFF
	cmake --build build-fuzz -j $(JOBS) --target $(FUZZ_TARGETS)
	tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf build build-release build-asan build-fuzz
