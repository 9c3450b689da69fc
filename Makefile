# LeadScore — the two commands a newcomer types, and a few more.
#
#   make          install missing Debian packages, build build/leadscore + libleadscore
#                 and the dashboard (web/dist, from web/ with npm ci + vite build)
#   make run      build the server and the dashboard and start them at http://127.0.0.1:8000
#                 with generated demo leads already uploaded and scored (DATA_DIR, HOST, PORT)
#   make test     build and run every test through ctest: unit, CLI and API (normal +
#                 ASan/UBSan), the dashboard's component tests and its browser test
#   make web      build only the dashboard (web/dist)
#   make fuzz     build and run the CSV fuzzer (FUZZ_SECONDS, default 60)
#   make fuzz-http  build and run the HTTP request-layer fuzzer (FUZZ_SECONDS)
#   make bench    release build and benchmarks (bench/RESULTS.md)
#   make format   clang-format every C file
#   make clean    remove build directories

BUILD        ?= build
FUZZ_SECONDS ?= 60
DEMO_ROWS    ?= 5000
DATA_DIR     ?= leadscore-data
HOST         ?= 127.0.0.1
PORT         ?= 8000
CMAKE        ?= cmake
GENERATOR    ?= Ninja

.PHONY: all build deps web run demo test fuzz fuzz-http fuzz-config bench bench-api format clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	@$(CMAKE) -S . -B $(BUILD) -G $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLS_SANITIZE=ON >/dev/null

build: deps $(BUILD)/build.ninja web
	@ninja -C $(BUILD)

# The dashboard: npm ci when the lock file changed (node_modules/.package-lock.json
# is npm's own record of what it installed), vite build when a source changed.
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.js
web/node_modules/.package-lock.json: web/package-lock.json
	@cd web && npm ci --no-audit --no-fund --loglevel=error
web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	@cd web && npm run --silent build >/dev/null
web: deps web/dist/index.html

# Build only what runs (not the sanitizer build, the tests or the benchmarks),
# then serve: --demo uploads and scores generated leads when the store is empty.
run: deps $(BUILD)/build.ninja web
	@ninja -C $(BUILD) leadscore
	$(BUILD)/leadscore serve --demo --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

# The CLI walk-through the README shows: inspect, train, score, explain a generated file.
demo: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) leadscore
	@mkdir -p $(BUILD)/demo
	@test -s $(BUILD)/demo/leads.csv || $(BUILD)/leadscore demo-data --rows $(DEMO_ROWS) -o $(BUILD)/demo/leads.csv
	$(BUILD)/leadscore inspect $(BUILD)/demo/leads.csv
	$(BUILD)/leadscore train $(BUILD)/demo/leads.csv -o $(BUILD)/demo/leads.lsm
	$(BUILD)/leadscore score $(BUILD)/demo/leads.lsm $(BUILD)/demo/leads.csv --explain -o $(BUILD)/demo/scored.csv --report $(BUILD)/demo/report.json
	$(BUILD)/leadscore explain $(BUILD)/demo/leads.lsm $(BUILD)/demo/leads.csv --row 1 --top 8

test: build
	@cd $(BUILD) && ctest --output-on-failure -j2

fuzz-config: deps
	@$(CMAKE) -S . -B build-fuzz -G $(GENERATOR) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DLS_FUZZ=ON -DLS_SANITIZE=OFF -DLS_BENCH=OFF -DBUILD_TESTING=OFF \
	  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" >/dev/null

fuzz: fuzz-config
	@ninja -C build-fuzz fuzz_csv
	@mkdir -p build-fuzz/corpus
	@cp -n tests/fixtures/*.csv build-fuzz/corpus/ 2>/dev/null || true
	build-fuzz/fuzz_csv -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	  -print_final_stats=1 build-fuzz/corpus

# Seeds: requests of every route's shape; the corpus grows in build-fuzz/corpus-http.
fuzz-http: fuzz-config
	@ninja -C build-fuzz fuzz_http
	@mkdir -p build-fuzz/corpus-http
	@cp -n tests/fuzz/http_seeds/* build-fuzz/corpus-http/ 2>/dev/null || true
	build-fuzz/fuzz_http -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	  -print_final_stats=1 build-fuzz/corpus-http

bench: deps
	@$(CMAKE) -S . -B build-release -G $(GENERATOR) -DCMAKE_BUILD_TYPE=Release -DLS_SANITIZE=OFF -DBUILD_TESTING=OFF >/dev/null
	@ninja -C build-release
	@bash bench/run.sh build-release

# The service benchmark: upload -> scored over HTTP beside the Python peer, cached
# answers, peak RSS, a 1,000,000-lead file and wrk on POST /api/score.
bench-api: deps
	@$(CMAKE) -S . -B build-release -G $(GENERATOR) -DCMAKE_BUILD_TYPE=Release -DLS_SANITIZE=OFF -DBUILD_TESTING=OFF >/dev/null
	@ninja -C build-release leadscore
	python3 bench/api.py build-release --rows-1m --wrk

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) build-fuzz build-release web/dist web/node_modules
