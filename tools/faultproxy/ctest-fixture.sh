#!/usr/bin/env bash
# Starts/stops the fault-injecting proxy (faultproxy.py) on 127.0.0.1 in front
# of an origin, for the tests/nginx suite.
#   start <run-dir> <upstream-url-file>  reads the origin's base URL from
#         <upstream-url-file> (e.g. the nginx fixture's <run-dir>/url), starts
#         the proxy in the background and waits until it answers; writes
#         <run-dir>/url (the proxy's base URL), <run-dir>/faultproxy.pid and
#         logs to <run-dir>/faultproxy.log.
#   stop <run-dir>                       stops it.
set -euo pipefail

cmd=${1:-}
run=${2:-}
if [[ -z "$cmd" || -z "$run" ]]; then
  echo "usage: $0 start <run-dir> <upstream-url-file> | stop <run-dir>" >&2
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=${PYTHON:-$(command -v python3 || echo /usr/bin/python3)}
# shellcheck source=../fixture-lib.sh
source "$here/../fixture-lib.sh"

stop() {
  stop_pidfile "$run/faultproxy.pid"
  rm -f "$run/url"
}

case "$cmd" in
  start)
    upstream_file=${3:-}
    if [[ -z "$upstream_file" || ! -s "$upstream_file" ]]; then
      echo "start needs the origin's URL file (missing or empty: '${upstream_file}')" >&2
      exit 2
    fi
    upstream=$(head -n1 "$upstream_file")
    mkdir -p "$run"
    stop
    # setsid + closed stdio: the proxy must not hold ctest's output pipe open.
    setsid "$PYTHON" "$here/faultproxy.py" --upstream "$upstream" --url-file "$run/url" \
      </dev/null >>"$run/faultproxy.log" 2>&1 &
    echo $! >"$run/faultproxy.pid"
    for _ in $(seq 100); do
      if [[ -s "$run/url" ]] && "$PYTHON" - "$(cat "$run/url")" <<'PY' 2>/dev/null; then
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/_health", timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
        echo "faultproxy on $(cat "$run/url") -> $upstream, run dir $run"
        exit 0
      fi
      if ! kill -0 "$(cat "$run/faultproxy.pid")" 2>/dev/null; then break; fi
      sleep 0.1
    done
    echo "faultproxy did not start" >&2
    cat "$run/faultproxy.log" >&2 || true
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
