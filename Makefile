# Ember: the two commands of the README.
#   make run   builds and runs the main demo (the seed's CUDA programs when a GPU is present)
#   make test  builds and runs the test suite
# Both install the Debian packages they need first (scripts/install-deps.sh).

BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build run test asan bench clean

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

run: build
	@bash scripts/run-demo.sh $(BUILD)

# ctest runs the ABI check and the examples; the runner goes last so its summary line ends the
# output: "N passed, N failed, N skipped".
test: build
	cd $(BUILD) && ctest --output-on-failure -E '^ember_tests$$'
	$(BUILD)/tests/ember_tests

# The CPU suite under AddressSanitizer and UndefinedBehaviorSanitizer.
asan: deps
	cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DEMBER_SANITIZE=ON -DEMBER_CUDA=OFF
	cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ctest --output-on-failure -E '^ember_tests$$'
	$(BUILD)-asan/tests/ember_tests --backend cpu

bench: build
	$(BUILD)/bench/ember_bench

clean:
	rm -rf $(BUILD) $(BUILD)-asan
