#!/bin/sh
# Runs a command with a throwaway redis-server on 127.0.0.1 (no persistence),
# exporting its address as AGENTGATE_REDIS_URL. Reuses AGENTGATE_REDIS_URL when
# it is already set. Installs Debian's redis-server when it is missing and we
# are root (CI machines); otherwise Redis tests report what is missing.
set -eu
if [ -n "${AGENTGATE_REDIS_URL:-}" ]; then exec "$@"; fi
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[with-redis] installing Debian's redis-server" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null 2>&1 || true
  fi
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "[with-redis] redis-server not found: Redis-backed tests will fail (install redis-server)" >&2
  exec "$@"
fi
PORT=${AGENTGATE_REDIS_PORT:-$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}
DIR=$(mktemp -d)
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --dir "$DIR" --loglevel warning >"$DIR/redis.log" 2>&1 &
RPID=$!
cleanup() { kill "$RPID" 2>/dev/null || true; wait "$RPID" 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM
i=0
until redis-cli -p "$PORT" ping >/dev/null 2>&1; do
  i=$((i+1)); if [ $i -gt 100 ]; then echo "[with-redis] redis-server did not start" >&2; cat "$DIR/redis.log" >&2; exit 1; fi
  sleep 0.1
done
export AGENTGATE_REDIS_URL="redis://127.0.0.1:$PORT"
echo "[with-redis] redis-server on $AGENTGATE_REDIS_URL" >&2
set +e
"$@"
status=$?
exit $status
