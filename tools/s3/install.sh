#!/usr/bin/env bash
# Installs the loopback S3 server (tools/s3/node_modules) from the committed
# lockfile. Idempotent: when node_modules was built from the same lockfile,
# nothing happens. Pure JavaScript (no native module), so no compiler is needed.
#   tools/s3/install.sh          install if needed
#   ATDATA_S3_FORCE_INSTALL=1    reinstall even if the stamp matches
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

command -v node >/dev/null || { echo "s3/install: node not found (apt-get install nodejs npm)" >&2; exit 1; }
command -v npm >/dev/null || { echo "s3/install: npm not found (apt-get install npm)" >&2; exit 1; }

stamp_value() { sha256sum package-lock.json package.json | cut -d' ' -f1 | sha256sum | cut -d' ' -f1; }
stamp_file=node_modules/.atdata-lock-hash
want="$(stamp_value)"
if [[ "${ATDATA_S3_FORCE_INSTALL:-0}" != 1 && -f "$stamp_file" && "$(cat "$stamp_file")" == "$want" ]]; then
  echo "s3/install: node_modules up to date"
  exit 0
fi

echo "s3/install: npm ci in $here"
start=$(date +%s)
rm -f "$stamp_file"
# --prefer-offline: a warm npm cache (CI's machine, a developer's) installs
# without asking the registry.
npm ci --no-audit --no-fund --prefer-offline --loglevel=error
node -e 'require("@20minutes/s3rver")'
stamp_value >"$stamp_file"
echo "s3/install: done in $(($(date +%s) - start)) s"
