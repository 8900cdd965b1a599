#!/usr/bin/env bash
# Installs the official lexicon validator (tools/lexicon-check/node_modules)
# from the committed lockfile. Idempotent: when node_modules was built from the
# same lockfile, nothing happens.
#   tools/lexicon-check/install.sh                  install if needed
#   ATDATA_LEXICON_CHECK_FORCE_INSTALL=1 …          reinstall even if up to date
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

command -v node >/dev/null || { echo "lexicon-check/install: node not found (apt-get install nodejs npm)" >&2; exit 1; }
command -v npm >/dev/null || { echo "lexicon-check/install: npm not found (apt-get install npm)" >&2; exit 1; }

stamp_file=node_modules/.atdata-lock-hash
want="$(sha256sum package-lock.json package.json | sha256sum | cut -d' ' -f1)"
if [[ "${ATDATA_LEXICON_CHECK_FORCE_INSTALL:-0}" != 1 && -f "$stamp_file" && "$(cat "$stamp_file")" == "$want" ]]; then
  echo "lexicon-check/install: node_modules up to date"
  exit 0
fi
# Pure JavaScript: no install scripts are needed, so none run.
npm ci --ignore-scripts --no-audit --no-fund
echo "$want" > "$stamp_file"
echo "lexicon-check/install: installed $(node -p 'require("@atproto/lexicon/package.json").version' 2>/dev/null || echo '?') of @atproto/lexicon"
