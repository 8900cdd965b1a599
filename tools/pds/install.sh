#!/usr/bin/env bash
# Installs the loopback PDS harness (tools/pds/node_modules) from the committed
# lockfile. Idempotent: when node_modules was built from the same lockfile with
# the same Node ABI, nothing happens, so CI and repeated test runs pay ~0 s.
#   tools/pds/install.sh          install if needed
#   ATDATA_PDS_FORCE_INSTALL=1    reinstall even if the stamp matches
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

command -v node >/dev/null || { echo "pds/install: node not found (apt-get install nodejs npm)" >&2; exit 1; }
command -v npm >/dev/null || { echo "pds/install: npm not found (apt-get install npm)" >&2; exit 1; }

# The stamp covers the lockfile AND the Node ABI: better-sqlite3 is a native
# module, so a Node upgrade needs a rebuild even with an unchanged lockfile.
stamp_value() {
  { sha256sum package-lock.json package.json | cut -d' ' -f1; node -p 'process.versions.modules + " " + process.arch'; } \
    | sha256sum | cut -d' ' -f1
}
stamp_file=node_modules/.atdata-lock-hash
want="$(stamp_value)"
if [[ "${ATDATA_PDS_FORCE_INSTALL:-0}" != 1 && -f "$stamp_file" && "$(cat "$stamp_file")" == "$want" ]]; then
  echo "pds/install: node_modules up to date"
  exit 0
fi

# better-sqlite3 has no reachable prebuilt binary: compile it. node-gyp needs the
# headers of the running Node; point npm at them instead of letting node-gyp
# try to download them.
export npm_config_build_from_source=true
if [[ -z "${npm_config_nodedir:-}" ]]; then
  prefix="$(node -p 'require("path").resolve(process.execPath, "..", "..")')"
  for cand in "$prefix" /usr /usr/local; do
    if [[ -f "$cand/include/node/node.h" ]]; then
      export npm_config_nodedir="$cand"
      break
    fi
  done
  if [[ -z "${npm_config_nodedir:-}" ]]; then
    echo "pds/install: warning: no Node headers found (include/node/node.h under $prefix);" \
      "node-gyp will try to download them. On Debian: apt-get install libnode-dev" >&2
  fi
fi
for tool in python3 make g++; do
  command -v "$tool" >/dev/null || { echo "pds/install: $tool is required to build better-sqlite3" >&2; exit 1; }
done

echo "pds/install: npm ci in $here (nodedir=${npm_config_nodedir:-<download>}; takes ~2 min)"
start=$(date +%s)
rm -f "$stamp_file"
npm ci --no-audit --no-fund --loglevel=error
# Fail here, not at test time, if the native module did not build.
node -e 'require("better-sqlite3"); require("@atproto/pds"); require("@did-plc/server")'
stamp_value >"$stamp_file"
echo "pds/install: done in $(($(date +%s) - start)) s"
