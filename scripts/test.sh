#!/usr/bin/env bash
# Sets up a Debian 12 machine and runs every test (unit, nginx and real-PDS suites).
#   scripts/test.sh              release-ish build in build/
#   ATDATA_SANITIZE=1 scripts/test.sh   ASan+UBSan build in build-asan/
#   ATDATA_SANITIZE=thread …             ThreadSanitizer build in build-tsan/
#   ATDATA_CXX=clang++ …                 the same with clang 14 (build dirs get a -clang suffix)
#   ATDATA_TARGETS="a b" …               build only these targets (then pass ctest
#                                        arguments that select their tests, e.g. -L docs)
# Arguments are passed to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
if [[ -x tools/pds/install.sh ]]; then bash tools/pds/install.sh; fi
if [[ -x tools/s3/install.sh ]]; then bash tools/s3/install.sh; fi
if [[ -x tools/lexicon-check/install.sh ]]; then bash tools/lexicon-check/install.sh; fi

jobs=${ATDATA_JOBS:-$(nproc)}
# Line tables only (-g1): enough for sanitizer reports and backtraces with
# file:line, and a quarter less compile time than full debug info on the
# Beast/Asio-heavy translation units.
g1=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_DEBUG="-g1")
if [[ "${ATDATA_SANITIZE:-0}" == thread ]]; then
  dir=${ATDATA_BUILD_DIR:-build-tsan}
  extra=(-DATDATA_TSAN=ON -DATDATA_BUILD_BENCH=OFF -DATDATA_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$(pwd)/tests/tsan.supp}
elif [[ "${ATDATA_SANITIZE:-0}" == 1 ]]; then
  dir=${ATDATA_BUILD_DIR:-build-asan}
  extra=(-DATDATA_SANITIZE=ON -DATDATA_BUILD_BENCH=OFF -DATDATA_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=Debug)
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
else
  dir=${ATDATA_BUILD_DIR:-build}
  extra=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi
if [[ -n "${ATDATA_CXX:-}" ]]; then
  extra+=(-DCMAKE_CXX_COMPILER="$ATDATA_CXX")
  [[ "$ATDATA_CXX" == clang* ]] && dir="$dir-clang"
fi
cmake -S . -B "$dir" -G Ninja "${extra[@]}" "${g1[@]}"
targets=()
for t in ${ATDATA_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$dir" -j "$jobs" "${targets[@]+"${targets[@]}"}"
ctest --test-dir "$dir" --output-on-failure -j "$jobs" "$@"
