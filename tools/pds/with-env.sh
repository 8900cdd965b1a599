#!/usr/bin/env bash
# Runs a command as a client of the PDS that ctest-fixture.sh started:
#   with-env.sh <run-dir> [--account NAME] <command> [args…]
# exports ATDATA_PDS_URL, ATDATA_PLC_URL, ATDATA_HANDLE and ATDATA_PASSWORD
# (the account NAME, default the first one in <run-dir>/env.json) — what
# AtmosphereClient::from_env and the examples read — then execs the command.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 <run-dir> [--account NAME] <command> [args…]" >&2; exit 2; }
run_dir=$1
shift
account=""
if [[ "$1" == --account ]]; then
  account=$2
  shift 2
fi
env_json="$run_dir/env.json"
[[ -f "$env_json" ]] || { echo "with-env: no $env_json (is the PDS fixture running?)" >&2; exit 1; }
exports="$(node -e '
  const e = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
  const name = process.argv[2] || Object.keys(e.accounts)[0]
  const a = e.accounts[name]
  if (!a) { console.error(`with-env: no account ${name} in ${process.argv[1]}`); process.exit(1) }
  const q = (s) => "'"'"'" + String(s).replace(/'"'"'/g, "'"'"'\\'"'"''"'"'") + "'"'"'"
  console.log(`export ATDATA_PDS_URL=${q(e.pds_url)} ATDATA_PLC_URL=${q(e.plc_url)} ` +
              `ATDATA_HANDLE=${q(a.handle)} ATDATA_PASSWORD=${q(a.password)}`)
' "$env_json" "$account")"
eval "$exports"
exec "$@"
