#!/usr/bin/env bash
# Starts/stops redis-server on 127.0.0.1 for the tests/storage suite (the
# Redis client and the local index). Everything lives in <run-dir>; nothing
# is persisted (no RDB, no AOF) and nothing needs root.
#   start <run-dir>  writes <run-dir>/url       redis://127.0.0.1:PORT
#                    and    <run-dir>/auth_url  redis://:secret@127.0.0.1:PORT2
#                    (a second server with requirepass, for the AUTH tests)
#   stop <run-dir>   stops both.
set -euo pipefail

cmd=${1:-}
run=${2:-}
if [[ -z "$cmd" || -z "$run" ]]; then
  echo "usage: $0 start|stop <run-dir>" >&2
  exit 2
fi
REDIS=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
PASSWORD=secret
# shellcheck source=../fixture-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../fixture-lib.sh"

stop() {
  stop_pidfile "$run/redis.pid"
  stop_pidfile "$run/redis-auth.pid"
  rm -f "$run/url" "$run/auth_url"
}

# start_one <name> <port> [extra redis-server args…]: daemonized, waits
# until its port accepts (redis-cli is not required: bash's /dev/tcp). 32
# databases: the local-index tests own 1..15, the client tests use 31.
start_one() {
  local name=$1 port=$2
  shift 2
  rm -f "$run/$name.pid"
  "$REDIS" --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$run" \
    --daemonize yes --pidfile "$run/$name.pid" --logfile "$run/$name.log" \
    --protected-mode no --databases 32 "$@" >>"$run/start.log" 2>&1 || return 1
  for _ in $(seq 100); do
    if [[ -s "$run/$name.pid" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  stop_pidfile "$run/$name.pid"
  return 1
}

case "$cmd" in
  start)
    mkdir -p "$run"
    stop
    : >"$run/start.log"
    ok=""
    for attempt in 1 2 3 4 5; do
      port=$(free_port)
      aport=$(free_port)
      [[ "$port" == "$aport" ]] && continue
      if start_one redis "$port"; then
        if start_one redis-auth "$aport" --requirepass "$PASSWORD"; then
          ok=1
          break
        fi
        stop_pidfile "$run/redis.pid"
      fi
      echo "redis start attempt $attempt failed, retrying" >&2
    done
    if [[ -z "$ok" ]]; then
      cat "$run/start.log" "$run"/redis*.log >&2 2>/dev/null || true
      exit 1
    fi
    echo "redis://127.0.0.1:$port" >"$run/url"
    echo "redis://:$PASSWORD@127.0.0.1:$aport" >"$run/auth_url"
    echo "redis-server on 127.0.0.1:$port (requirepass on $aport), run dir $run"
    ;;
  stop)
    stop
    ;;
  *)
    echo "unknown command $cmd" >&2
    exit 2
    ;;
esac
