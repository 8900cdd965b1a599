#!/usr/bin/env bash
# CTest fixture for the real-PDS suites (tests/pds):
#   ctest-fixture.sh start <run-dir>   install if needed, boot the PDS + PLC on free
#                                      loopback ports, create the test accounts and
#                                      write <run-dir>/env.json for the tests
#   ctest-fixture.sh stop <run-dir>    SIGTERM the PDS (it deletes its data dir)
# Files in <run-dir>: pds.log (server output), ready.json (pds-start.js info),
# env.json (pds_url, plc_url, accounts{alice,bob}{handle,did,password}, ...), pid.
# Environment: ATDATA_PDS_ACCOUNTS (default "alice bob"), ATDATA_PDS_MAX_LIFETIME
# (seconds, default 7200: the server exits by itself if stop never runs),
# ATDATA_PDS_PLC_FROM (another run-dir: use that PDS's PLC directory instead of
# a new one, so two PDSes share one DID directory as on the real network).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

usage() { echo "usage: $0 start|stop <run-dir>" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
cmd=$1
run_dir=$2

alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

stop_server() {
  local pid=""
  [[ -f "$run_dir/pid" ]] && pid="$(cat "$run_dir/pid")"
  if alive "$pid"; then
    # Only signal the process if it is really our node server (pids are reused).
    if grep -q "pds-start.js" "/proc/$pid/cmdline" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
      if alive "$pid"; then
        echo "pds-fixture: pid $pid ignored SIGTERM for 10 s, killing" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  fi
  rm -f "$run_dir/pid"
}

boot_once() {
  rm -f "$run_dir/ready.json" "$run_dir/env.json"
  # The data directory is a fresh mkdtemp under TMPDIR (the PLC is in memory,
  # so old accounts would not resolve). Redirect every fd: ctest waits for the
  # fixture's pipes to close, so the server must not inherit them.
  (
    cd "$here"
    if [[ -n "${ATDATA_PDS_PLC_FROM:-}" ]]; then
      PDS_DID_PLC_URL="$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).plc_url' \
        "$ATDATA_PDS_PLC_FROM/env.json")"
      export PDS_DID_PLC_URL
    fi
    export TMPDIR="$run_dir/tmp" BIND_HOST=127.0.0.1 PDS_PORT=0 PLC_PORT=0 \
      READY_FILE="$run_dir/ready.json" MAX_LIFETIME_SECONDS="${ATDATA_PDS_MAX_LIFETIME:-7200}"
    exec setsid node pds-start.js >"$run_dir/pds.log" 2>&1 </dev/null
  ) &
  local launcher=$!
  local deadline=$((SECONDS + 120))
  while [[ ! -f "$run_dir/ready.json" ]]; do
    if [[ -n "$launcher" ]] && ! alive "$launcher"; then
      local rc=0
      wait "$launcher" || rc=$?
      ((rc == 0)) || return "$rc"
      launcher="" # setsid forked: the server lives on under another pid
    fi
    if ((SECONDS > deadline)); then
      echo "pds-fixture: no PDS_READY within 120 s" >&2
      [[ -n "$launcher" ]] && kill -TERM "$launcher" 2>/dev/null
      return 1
    fi
    sleep 0.1
  done
  node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).pid' "$run_dir/ready.json" >"$run_dir/pid"
}

case "$cmd" in
  start)
    mkdir -p "$run_dir"
    run_dir="$(cd "$run_dir" && pwd)"
    stop_server # a server left over from an interrupted run
    rm -rf "$run_dir/tmp"
    mkdir -p "$run_dir/tmp"
    bash "$here/install.sh"
    ok=0
    for attempt in 1 2 3; do
      rc=0
      boot_once || rc=$?
      if ((rc == 0)); then ok=1; break; fi
      echo "pds-fixture: boot attempt $attempt failed (exit $rc); log:" >&2
      tail -n 30 "$run_dir/pds.log" >&2 || true
      ((rc == 98)) || break # only a lost port race is worth retrying
    done
    ((ok)) || exit 1
    # shellcheck disable=SC2086
    if ! node "$here/create-accounts.js" "$run_dir/ready.json" "$run_dir/env.json" ${ATDATA_PDS_ACCOUNTS:-alice bob}; then
      tail -n 30 "$run_dir/pds.log" >&2 || true
      stop_server
      exit 1
    fi
    node -e '
      const e = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
      console.log(`pds-fixture: PDS ${e.pds_url} (public ${e.public_url}), PLC ${e.plc_url}, pid ${e.pid}`)
      for (const [n, a] of Object.entries(e.accounts)) console.log(`pds-fixture:   ${a.handle} ${a.did}`)
    ' "$run_dir/env.json"
    ;;
  stop)
    [[ -d "$run_dir" ]] || exit 0
    stop_server
    rm -rf "$run_dir/tmp"
    ;;
  *) usage ;;
esac
