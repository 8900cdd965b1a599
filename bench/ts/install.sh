#!/usr/bin/env bash
# Installs bench/ts/node_modules (@atproto/api, the reference client, and the
# @atproto firehose packages used by firehose-*.js) from the committed
# lockfile; a no-op when the lockfile has not changed.
set -euo pipefail
cd "$(dirname "$0")"
want="$(sha256sum package-lock.json package.json | sha256sum | cut -d' ' -f1)"
stamp=node_modules/.atdata-lock-hash
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then exit 0; fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
