#!/usr/bin/env bash
# bench/run.sh BUILD_DIR — run the benchmarks of a release build.
# Results are recorded by hand in bench/RESULTS.md with the command used.
set -euo pipefail
build=${1:-build-release}
cd "$build"
echo "== ingest =="
./bench_ingest --mb 100 --runs 5
