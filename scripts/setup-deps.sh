#!/usr/bin/env bash
# Installs the Debian 12 packages atdata-cpp builds and tests with. Idempotent:
# packages already present are skipped, so a warm machine pays nothing.
# Never add libboost-all-dev or libmsgpack-cxx-dev: they pull Boost 1.74, which
# cannot be installed beside 1.81.
set -euo pipefail

pkgs=(
  build-essential cmake ninja-build ccache pkg-config git python3
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libzstd-dev libarchive-dev libxsimd-dev libssl-dev zlib1g-dev libsecp256k1-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format clang-tidy clang libclang-rt-14-dev
)
if [[ "${ATDATA_WITH_PYTHON:-1}" == 1 ]]; then
  # The Python package atdata_cpp (python/): pybind11 and the interpreter's
  # headers to build it; numpy, torch, pytest and msgpack to test and
  # benchmark it; venv, pip, setuptools and wheel for `pip install .`.
  pkgs+=(python3-dev pybind11-dev python3-numpy python3-torch python3-pytest python3-msgpack
         python3-venv python3-pip python3-setuptools python3-wheel)
fi
if [[ "${ATDATA_WITH_SERVERS:-1}" == 1 ]]; then
  # nginx is the HTTP origin for shard streaming tests; redis-server backs the
  # local index tests; node/npm run the PDS and the S3 server.
  pkgs+=(nginx-light redis-server nodejs npm python3 make g++ curl)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# node/npm may come from outside Debian (e.g. a preinstalled Node 20); accept that.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
# Debian's Node ships its headers separately; the PDS harness compiles
# better-sqlite3 against them (tools/pds/install.sh). Only with Debian's nodejs:
# other Node builds (nodesource, tarballs) carry their own include/node.
for p in "${missing[@]+"${missing[@]}"}"; do
  if [[ "$p" == nodejs ]]; then missing+=(libnode-dev); break; fi
done

if ((${#missing[@]})); then
  echo "setup-deps: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup-deps: all packages present"
fi
