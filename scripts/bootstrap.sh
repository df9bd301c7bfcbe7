#!/bin/sh
# Sets up everything a fresh clone needs, then runs `pnpm run <script>`.
# Works on a machine that has only Node (any version) and npm: when Node is
# older than 22.18 (the first 22 that runs .ts files as is, which the examples
# do) it installs node@22 from the npm registry into .tools/, and it
# installs pnpm with npm because corepack's signature check can fail.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS="$ROOT/.tools"
PNPM_VERSION=12.4.2
NODE_MAJOR=22
NODE_MINOR=18
cd "$ROOT"

export PATH="$TOOLS/node_modules/.bin:$PATH"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

say() { printf '\033[2m[bootstrap]\033[0m %s\n' "$*" >&2; }

# 1 when the node on PATH is at least $NODE_MAJOR.$NODE_MINOR.
node_ok() { node -p "const [a, b] = process.versions.node.split('.').map(Number); a > $NODE_MAJOR || (a === $NODE_MAJOR && b >= $NODE_MINOR) ? 1 : 0" 2>/dev/null || echo 0; }

# One npm install for both tools when either is missing (each npm run costs minutes on a cold cache).
need_node=0; need_pnpm=0
[ "$(node_ok)" = 1 ] || need_node=1
[ "$(pnpm -v 2>/dev/null || true)" != "$PNPM_VERSION" ] && need_pnpm=1
if [ $need_node = 1 ] || [ $need_pnpm = 1 ]; then
  pkgs="pnpm@$PNPM_VERSION"
  if [ $need_node = 1 ] || [ -x "$TOOLS/node_modules/.bin/node" ]; then pkgs="node@$NODE_MAJOR $pkgs"; fi
  say "node $(node -v 2>/dev/null || echo missing), pnpm $(pnpm -v 2>/dev/null || echo missing): installing $pkgs into .tools/ with npm"
  mkdir -p "$TOOLS"
  [ -f "$TOOLS/package.json" ] || echo '{"private":true}' > "$TOOLS/package.json"
  npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error $pkgs >&2
  hash -r 2>/dev/null || true
fi
if [ "$(node_ok)" != 1 ]; then
  echo "bootstrap: could not get node >= $NODE_MAJOR.$NODE_MINOR (have $(node -v 2>/dev/null || echo none))" >&2
  exit 1
fi
if [ "$(pnpm -v 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "bootstrap: could not get pnpm $PNPM_VERSION" >&2
  exit 1
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
