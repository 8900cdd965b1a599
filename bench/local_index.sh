#!/usr/bin/env bash
# Local index benchmark (docs/benchmarks.md, "Local index"): 10,000 entries
# inserted and listed, Redis and SQLite, next to redis-benchmark's pipelined
# HSETs (the same number of 5-field hashes, pipeline depth 100) on the same
# redis-server in the same run.
#   bench/local_index.sh [build-dir]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
run=$(mktemp -d /tmp/atdata-redis-bench.XXXXXX)
trap '"$here/tools/redis/ctest-fixture.sh" stop "$run"; rm -rf "$run"' EXIT
"$here/tools/redis/ctest-fixture.sh" start "$run" >/dev/null
url=$(cat "$run/url")
port=${url##*:}
echo "redis-benchmark (reference): 10,000 HSETs of 5 fields, pipeline 100"
redis-benchmark -p "$port" -n 10000 -P 100 -q --csv \
  HSET "bench:__rand_int__" name "bench-entry" schema_ref "local://schemas/bench.Sample@1.0.0" \
  data_urls "s3://bench-bucket/r0/data--000000.tar" cid "bafyreihq4r3uv4x7msyzynaysmcqglilpfpom5snnr3ej4ln6pwm6udigm" \
  metadata "none"
ATDATA_BENCH_REDIS_URL=$url "$build/bench/bench_local_index" "${@:2}"
