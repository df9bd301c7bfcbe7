#!/bin/sh
# `npm run example:<name>` (through bootstrap.sh, so Node 22 and pnpm are on PATH):
# builds the packages the example imports, then starts it from its own folder.
set -eu
cd "$(dirname "$0")/.."
name=${1:-}
if [ -z "$name" ] || [ ! -f "examples/$name/package.json" ]; then
  echo "run-example: unknown example '$name' (have: $(cd examples && ls -d */ | tr -d / | tr '\n' ' '))" >&2
  exit 2
fi
pkg=$(node -p "require('./examples/$name/package.json').name")
turbo run build --filter="$pkg..." --output-logs=errors-only >&2
exec pnpm --filter "$pkg" --silent start
