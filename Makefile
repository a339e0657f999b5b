# The two commands of the README:
#   make test   installs what is missing, builds (ASan+UBSan) and runs every test
#   make run    builds and starts siptlsd with the demo configuration
# Other targets: build, release, fuzz, tsan, valgrind, bench, install, deb,
# clean.

BUILD       ?= build
RELEASE     ?= build-release
PREFIX      ?= /usr/local
JOBS        ?= $(shell nproc)
CMAKE_GEN   := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
WERROR      := $(if $(CI),ON,OFF)
CTEST_ARGS  ?=

.PHONY: all deps build test release run fuzz tsan valgrind bench install deb clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug \
		-DSTLS_SANITIZE=ON -DSTLS_WERROR=$(WERROR)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

$(RELEASE)/CMakeCache.txt:
	cmake -S . -B $(RELEASE) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX) -DSTLS_WERROR=$(WERROR)

release: deps $(RELEASE)/CMakeCache.txt
	cmake --build $(RELEASE) -j $(JOBS)

run: release
	bash scripts/run-demo.sh $(RELEASE)

tsan: deps
	cmake -S . -B build-tsan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DSTLS_TSAN=ON
	cmake --build build-tsan -j $(JOBS)
	cd build-tsan && ctest --output-on-failure -L tsan

# The TLS engine's and the profile module's unit tests under valgrind
# (no sanitizers in this build): leaks and invalid accesses fail it.
VALGRIND_TESTS ?= test_conn test_conn_bio test_wq test_facts test_facts_names \
	test_identity test_lowmem test_conn_get test_profile_build \
	test_profile_set test_profile_match test_profile_verify test_tlsx \
	test_rec13 test_conn_rec13 test_rec12 test_profile_index \
	test_profile_share test_profile_key test_profile_cache test_hmap \
	test_rec13_hs test_rec_alert test_conn_sess test_conn_ctx test_conn_ku \
	test_profile_pem test_tkeys

valgrind: deps
	cmake -S . -B build-valgrind $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug
	cmake --build build-valgrind -j $(JOBS)
	cd build-valgrind && for t in $(VALGRIND_TESTS); do \
		STLS_BUILD_DIR=$$PWD valgrind -q --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
		--trace-children=no ./$$t -n >$$t.valgrind.log 2>&1 \
		&& echo "valgrind ok   $$t" \
		|| { echo "valgrind FAIL $$t (build-valgrind/$$t.valgrind.log)"; exit 1; }; \
	done

fuzz: deps
	CC=clang cmake -S . -B build-fuzz $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug \
		-DSTLS_FUZZ=ON -DSTLS_SANITIZE=ON
	cmake --build build-fuzz -j $(JOBS)
	bash scripts/run-fuzz.sh build-fuzz $${FUZZ_SECONDS:-60}

bench: release
	STLS_BENCH_DEPS=1 bash scripts/install-deps.sh
	bash bench/compare.sh $(RELEASE)
	bash bench/metrics_cost.sh $(RELEASE) 5 8

install: release
	cmake -S . -B $(RELEASE) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --install $(RELEASE) --prefix $(PREFIX)

# Debian packages (siptls, libsiptls-dev) in build-deb/ (docs/deploy.md).
deb: deps
	JOBS=$(JOBS) bash scripts/make-deb.sh build-deb

clean:
	rm -rf $(BUILD) $(RELEASE) build-tsan build-fuzz build-valgrind build-deb
