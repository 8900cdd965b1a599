#!/usr/bin/env bash
# HTTP streaming benchmark: nginx on loopback serves a large file from the
# page cache; bench_http_stream reads it through HttpClient (see
# docs/benchmarks.md, "HTTP streaming"). curl is measured as the reference.
#   bench/http_stream.sh [build-dir] [size-MiB]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
size_mb=${2:-512}
run=$(mktemp -d /tmp/atdata-http-bench.XXXXXX)
trap '"$here/tools/nginx/ctest-fixture.sh" stop "$run"; rm -rf "$run"' EXIT
"$here/tools/nginx/ctest-fixture.sh" start "$run" >/dev/null
head -c $((size_mb * 1024 * 1024)) /dev/urandom >"$run/www/big.bin"
cat "$run/www/big.bin" >/dev/null  # warm the page cache
url=$(cat "$run/url")
for i in 1 2 3; do
  curl -s -o /dev/null -w "curl (reference): %{size_download} bytes in %{time_total} s = %{speed_download} B/s\n" "$url/big.bin"
done
ATDATA_BENCH_HTTP_URL=$url ATDATA_BENCH_HTTPS_URL=$(cat "$run/https_url") ATDATA_BENCH_CA=$run/ca.pem \
  "$build/bench/bench_http_stream" --benchmark_min_time=2 "${@:3}"
