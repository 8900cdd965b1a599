#!/usr/bin/env bash
# Starts/stops the S3-compatible server (server.js: @20minutes/s3rver, see
# README.md for why that one) on 127.0.0.1 for the tests/storage suite.
#   start <run-dir>  starts it in the background on a free port, storing
#                    objects under <run-dir>/data, with bucket atdata-test and
#                    a fresh random key pair; waits until it answers; writes
#                    <run-dir>/url, access_key, secret_key, bucket, s3.pid and
#                    logs to <run-dir>/s3.log. When python3 and
#                    tools/faultproxy exist, the fault-injecting proxy is
#                    started in front of it too: <run-dir>/faultproxy/url.
#   stop <run-dir>   stops both.
set -euo pipefail

cmd=${1:-}
run=${2:-}
if [[ -z "$cmd" || -z "$run" ]]; then
  echo "usage: $0 start|stop <run-dir>" >&2
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
proxy_fixture="$here/../faultproxy/ctest-fixture.sh"
NODE=${NODE:-$(command -v node || echo /usr/bin/node)}
# shellcheck source=../fixture-lib.sh
source "$here/../fixture-lib.sh"

stop() {
  if [[ -x "$proxy_fixture" && -d "$run/faultproxy" ]]; then "$proxy_fixture" stop "$run/faultproxy" || true; fi
  stop_pidfile "$run/s3.pid"
  rm -f "$run/url"
}

case "$cmd" in
  start)
    if [[ ! -d "$here/node_modules/@20minutes/s3rver" ]]; then
      bash "$here/install.sh"
    fi
    mkdir -p "$run"
    stop
    # Every run starts empty: objects of an earlier run must not satisfy a test.
    rm -rf "$run/data"
    # setsid + closed stdio: the server must not hold ctest's output pipe open.
    # --openssl-legacy-provider: s3rver's ListObjectsV2 continuation tokens
    # are DES-encrypted, which OpenSSL 3 only offers through that provider
    # (without it every truncated listing is a 500).
    setsid "$NODE" --openssl-legacy-provider "$here/server.js" "$run" atdata-test </dev/null >>"$run/s3.log" 2>&1 &
    echo $! >"$run/s3.pid"
    for _ in $(seq 150); do
      if [[ -s "$run/url" ]] && "$NODE" -e '
          require("http").get(process.argv[1] + "/", r => process.exit(r.statusCode < 500 ? 0 : 1))
            .on("error", () => process.exit(1));' "$(cat "$run/url")"; then
        echo "s3rver on $(cat "$run/url"), bucket $(cat "$run/bucket"), run dir $run"
        if [[ -x "$proxy_fixture" ]] && command -v python3 >/dev/null; then
          "$proxy_fixture" start "$run/faultproxy" "$run/url"
        fi
        exit 0
      fi
      if ! kill -0 "$(cat "$run/s3.pid")" 2>/dev/null; then break; fi
      sleep 0.1
    done
    echo "s3rver did not start" >&2
    cat "$run/s3.log" >&2 || true
    stop
    exit 1
    ;;
  stop)
    stop
    ;;
  *)
    echo "unknown command $cmd" >&2
    exit 2
    ;;
esac
