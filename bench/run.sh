#!/usr/bin/env bash
# bench/run.sh BUILD_DIR — run every benchmark of a release build (`make bench`).
#
#   ingest   CSV -> typed, profiled frame (bench_ingest)
#   train    the whole `leadscore train` command (read, bin, leakage scan,
#            forest, out-of-bag metrics, calibration, model file) on generated
#            45,000 and 1,000,000-lead files, 2 threads
#   forest   our forest against scikit-learn, XGBoost and ranger (bench/forest.py;
#            peers that are not installed are skipped: scripts/install-deps.sh --peers)
#   shap     our TreeSHAP against XGBoost pred_contribs (bench/shap.py)
#
# BENCH_DATA (default leads,noleak,gen45k,gen100k,gen1m) and BENCH_PEERS
# (default sklearn,xgboost,ranger) narrow the forest benchmark: with every
# peer it takes about an hour, most of it the peers at 1M rows.
# Results are recorded by hand in bench/RESULTS.md with the command used.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build-release}" && pwd)
py=/usr/bin/python3
data=${BENCH_DATA:-leads,noleak,gen45k,gen100k,gen1m}
peers=${BENCH_PEERS:-sklearn,xgboost,ranger}
cd "$build"
echo "== ingest =="
./bench_ingest --mb 100 --runs 5
echo "== train (whole command, 2 threads) =="
mkdir -p bench-data
for rows in 45000 1000000; do
  f=bench-data/train-$rows.csv
  [ -f "$f" ] || ./leadscore demo-data --rows "$rows" --seed 1 --unknown 0 -o "$f"
  /usr/bin/time -f "train $rows rows: %e s wall, %U s user, %M KB peak" \
    ./leadscore train "$f" -o bench-data/train-$rows.lsm --threads 2 --max-bytes 1G >/dev/null
done
echo "== forest =="
"$py" "$here/forest.py" "$build" --data "$data" --peers "$peers"
echo "== shap =="
if [ -f "$here/../../shared/data/Leads.csv" ]; then
  "$py" "$here/shap.py" "$build" --runs 3
else
  echo "skipped: ../shared/data/Leads.csv not found"
fi
