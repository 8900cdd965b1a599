#!/usr/bin/env bash
# S3 streaming benchmark (docs/benchmarks.md, "S3 reads"): the loopback S3
# server (tools/s3) holds one object; curl downloads it, signing with its own
# SigV4 (--aws-sigv4), as the reference; then bench_s3_read streams the same
# object through open_s3_source, in the same run.
#   bench/s3_read.sh [build-dir] [size-MiB]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
size_mb=${2:-256}
run=$(mktemp -d /tmp/atdata-s3-bench.XXXXXX)
trap '"$here/tools/s3/ctest-fixture.sh" stop "$run"; rm -rf "$run"' EXIT
"$here/tools/s3/ctest-fixture.sh" start "$run" >/dev/null
url=$(cat "$run/url")
bucket=$(cat "$run/bucket")
user="$(cat "$run/access_key"):$(cat "$run/secret_key")"
head -c $((size_mb * 1024 * 1024)) /dev/urandom >"$run/big.bin"
curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$user" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$run/big.bin" "$url/$bucket/big.bin"
for i in 1 2 3; do
  curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$user" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -o /dev/null \
    -w "curl (reference): %{size_download} bytes in %{time_total} s = %{speed_download} B/s\n" "$url/$bucket/big.bin"
done
ATDATA_BENCH_S3_RUN_DIR=$run ATDATA_BENCH_S3_KEY=big.bin "$build/bench/bench_s3_read" "${@:3}"
