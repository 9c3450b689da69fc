#!/usr/bin/env bash
# install-deps.sh — install every Debian package LeadScore's build and tests need.
#
# Idempotent and quick: when every package is already installed it prints
# nothing and exits 0 in well under a second. As root it installs what is
# missing with apt-get; as another user it prints the exact apt line to run
# and exits 1.
#
#   scripts/install-deps.sh           build + test packages
#   scripts/install-deps.sh --peers   also the benchmark peers (scikit-learn,
#                                     pandas, XGBoost, ranger) for bench/
#   scripts/install-deps.sh --check   only report; exit 1 when something is missing
set -euo pipefail

packages=(
  build-essential pkg-config cmake ninja-build clang libclang-rt-14-dev
  libcsv-dev libjansson-dev libcmocka-dev
  libmicrohttpd-dev libsqlite3-dev sqlite3 libssl-dev libcurl4-openssl-dev
  python3 python3-jsonschema
  chromium fonts-liberation
)
peers=(python3 python3-sklearn python3-pandas python3-xgboost r-cran-ranger wrk)

check_only=0
for arg in "$@"; do
  case "$arg" in
    --peers) packages+=("${peers[@]}") ;;
    --check) check_only=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

# The dashboard is built with Node.js >= 20 and npm (Vite 8). Debian 12's own
# nodejs is 18: it is installed only when no node is present at all, and a node
# older than 20 is reported, since no registry here offers a newer one.
node_major=$(node --version 2>/dev/null | sed -n 's/^v\([0-9]*\).*/\1/p')
if [ -z "$node_major" ]; then
  packages+=(nodejs npm)
elif [ "$node_major" -lt 20 ]; then
  echo "install-deps: node $(node --version) is too old for the dashboard (Vite 8 needs Node.js 20 or newer)" >&2
  exit 1
elif ! command -v npm >/dev/null; then
  packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

line="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends ${missing[*]}"
if [ "$check_only" = 1 ]; then
  echo "missing packages: ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "LeadScore needs these Debian packages: ${missing[*]}" >&2
  echo "Run as root:" >&2
  echo "  sudo sh -c '$line'" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}"
