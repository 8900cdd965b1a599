#!/usr/bin/env bash
# Runs a throw-away ATProto PDS (+ in-memory PLC directory) on loopback for the
# demo and for manual experiments, with one account ready to log in:
#   tools/pds/start-dev.sh            PDS on http://127.0.0.1:2583, PLC on :2582
#   PDS_PORT=0 PLC_PORT=0 tools/pds/start-dev.sh   free ports
#   ATDATA_DEV_ACCOUNTS="alice bob carol" tools/pds/start-dev.sh
# Ctrl-C stops it; all data is deleted (the PLC lives in memory).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/install.sh"
run_dir="$(mktemp -d "${TMPDIR:-/tmp}/atdata-pds-dev-XXXXXX")"
cleanup() {
  [[ -n "${pid:-}" ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$run_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

(
  cd "$here"
  export TMPDIR="$run_dir" BIND_HOST=127.0.0.1 PDS_PORT="${PDS_PORT:-2583}" PLC_PORT="${PLC_PORT:-2582}" \
    READY_FILE="$run_dir/ready.json"
  exec node pds-start.js >"$run_dir/pds.log" 2>&1 </dev/null
) &
pid=$!
for _ in $(seq 1 1200); do
  [[ -f "$run_dir/ready.json" ]] && break
  kill -0 "$pid" 2>/dev/null || { cat "$run_dir/pds.log" >&2; exit 1; }
  sleep 0.1
done
[[ -f "$run_dir/ready.json" ]] || { echo "start-dev: PDS did not become ready" >&2; exit 1; }
# shellcheck disable=SC2086
node "$here/create-accounts.js" "$run_dir/ready.json" "$run_dir/env.json" ${ATDATA_DEV_ACCOUNTS:-alice}
node -e '
  const e = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
  console.log(`PDS:  ${e.pds_url}   (DID documents name it ${e.public_url})`)
  console.log(`PLC:  ${e.plc_url}`)
  for (const a of Object.values(e.accounts)) console.log(`user: ${a.handle}  password ${a.password}  ${a.did}`)
  const a = Object.values(e.accounts)[0]
  console.log(`\nexport ATDATA_PDS_URL=${e.pds_url} ATDATA_HANDLE=${a.handle} ATDATA_PASSWORD=${a.password} ATDATA_PLC_URL=${e.plc_url}`)
' "$run_dir/env.json"
echo "env file: $run_dir/env.json   log: $run_dir/pds.log   (Ctrl-C to stop)"
wait "$pid"
