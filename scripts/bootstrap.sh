#!/bin/sh
# Sets up everything a fresh clone needs, then runs `pnpm run <script>`.
# Works on a machine that has only Node (any version) and npm: when Node is
# older than 22 it installs node@22 from the npm registry into .tools/, and it
# installs pnpm with npm because corepack's signature check can fail.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS="$ROOT/.tools"
PNPM_VERSION=12.4.2
NODE_MAJOR=22
cd "$ROOT"

export PATH="$TOOLS/node_modules/.bin:$PATH"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

say() { printf '\033[2m[bootstrap]\033[0m %s\n' "$*" >&2; }

major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(major)" -lt "$NODE_MAJOR" ]; then
  say "node $(node -v 2>/dev/null || echo missing) is older than $NODE_MAJOR: installing node@$NODE_MAJOR into .tools/"
  npm install --prefix "$TOOLS" --no-save --no-audit --no-fund --loglevel=error "node@$NODE_MAJOR" >&2
  hash -r 2>/dev/null || true
fi
if [ "$(major)" -lt "$NODE_MAJOR" ]; then
  echo "bootstrap: could not get node >= $NODE_MAJOR (have $(node -v))" >&2
  exit 1
fi

if [ "$(pnpm -v 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  say "installing pnpm@$PNPM_VERSION into .tools/"
  npm install --prefix "$TOOLS" --no-save --no-audit --no-fund --loglevel=error "node@$NODE_MAJOR" "pnpm@$PNPM_VERSION" >&2
  hash -r 2>/dev/null || true
fi

# Install only when the lockfile changed since the last install.
STAMP="node_modules/.agentgate-install-stamp"
if [ ! -f "$STAMP" ] || [ pnpm-lock.yaml -nt "$STAMP" ] || [ package.json -nt "$STAMP" ]; then
  say "pnpm install --frozen-lockfile"
  pnpm install --frozen-lockfile --reporter=append-only >&2
  touch "$STAMP"
fi

if [ "$#" -gt 0 ]; then
  exec pnpm run "$@"
fi
