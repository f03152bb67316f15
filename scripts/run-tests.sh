#!/usr/bin/env bash
# The whole test suite against real PostgreSQL, Redis and headless Chromium.
#
# DATABASE_URL and REDIS_URL are used when they answer. Otherwise throwaway servers are started
# from the installed binaries in var/test-services/ and stopped afterwards; missing programs are
# installed with apt-get when running as root (or with sudo), or named so you can install them.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
WORK=var/test-services
mkdir -p "$WORK"

log() { printf '==> %s\n' "$*"; }

ensure_packages() { bash scripts/ensure-packages.sh "$@"; }

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n $d ]] && echo "$d" || dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)"
}

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

database_answers() {
  [[ -n ${DATABASE_URL:-} ]] || return 1
  "$PY" - <<'PY' 2>/dev/null
import os, sys, psycopg
url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
if not url.startswith("postgresql://"):
    sys.exit(1)
psycopg.connect(url, connect_timeout=3).close()
PY
}

redis_answers() {
  [[ -n ${REDIS_URL:-} ]] || return 1
  "$PY" -c 'import os, redis; redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=3).ping()' 2>/dev/null
}

cleanup() {
  local status=$?
  if [[ -f $WORK/redis.pid ]]; then kill "$(cat "$WORK/redis.pid")" 2>/dev/null || true; rm -f "$WORK/redis.pid"; fi
  if [[ -d $WORK/pg/data ]]; then
    run_pg "$(pg_bindir)/pg_ctl" -D "$WORK/pg/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK/pg" "${PG_SOCKET_DIR:-}"
  exit $status
}
trap cleanup EXIT INT TERM

run_pg() {
  # PostgreSQL refuses to run as root; use its own system account then.
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  ensure_packages postgresql:"$(pg_bindir)/initdb"
  local bin port
  bin=$(pg_bindir)
  port=$(free_port)
  rm -rf "$WORK/pg"
  mkdir -p "$WORK/pg"
  # The socket goes in a short path of its own: a Unix socket's path must stay under 108 bytes.
  PG_SOCKET_DIR=$(mktemp -d /tmp/ncii-pg.XXXXXX)
  if [[ $(id -u) == 0 ]]; then chown -R postgres: "$WORK/pg" "$PG_SOCKET_DIR"; chmod o+x var "$WORK"; fi
  run_pg "$bin/initdb" -D "$WORK/pg/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$WORK/pg-init.log" 2>&1 \
    || { cat "$WORK/pg-init.log"; exit 1; }
  # Durability is pointless for a database that lives for one test run; turning it off is faster.
  run_pg "$bin/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/server.log" -w -t 60 start \
    -o "-p $port -k $PG_SOCKET_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null \
    || { cat "$WORK/pg/server.log"; exit 1; }
  export DATABASE_URL="postgresql://postgres@127.0.0.1:$port/postgres"
  log "started a throwaway PostgreSQL on port $port"
}

start_redis() {
  ensure_packages redis-server:redis-server
  local port
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --pidfile "$PWD/$WORK/redis.pid" --logfile "$PWD/$WORK/redis.log" --dir "$PWD/$WORK"
  for _ in $(seq 50); do [[ -f $WORK/redis.pid ]] && break; sleep 0.1; done
  export REDIS_URL="redis://127.0.0.1:$port/0"
  until redis_answers; do sleep 0.1; done
  log "started a throwaway Redis on port $port"
}

if database_answers; then log "using PostgreSQL at DATABASE_URL"; else start_postgres; fi
if redis_answers; then log "using Redis at REDIS_URL"; else start_redis; fi

ensure_packages chromium:chromium
# Fonts for every script the portal ships, so the screenshots tests take show no missing glyphs
# (a phone has them; a bare server does not).
ensure_packages fonts-noto-core:/usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf \
  fonts-noto-cjk:/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
export CHROMIUM_PATH=${CHROMIUM_PATH:-$(command -v chromium)}

# The video tests make clips with ffmpeg and compare with Meta's vpdq, which compiles against
# FFmpeg's libraries (see requirements-video.txt).
ensure_packages ffmpeg:ffmpeg
if ! "$PY" -c 'import vpdq' 2>/dev/null; then
  ensure_packages pkg-config:pkg-config g++:g++ libavcodec-dev: libavformat-dev: libavdevice-dev: \
    libavfilter-dev: libswresample-dev: libswscale-dev: libavutil-dev:
  log "building vpdq against FFmpeg (once)"
fi
"$PY" -m pip install --quiet -r requirements-video.txt

# axe-core for the accessibility checks of the victim pages, pinned in tests/js/package-lock.json.
if [[ ! -f tests/js/node_modules/axe-core/axe.min.js ]]; then
  ensure_packages npm:npm
  (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
fi

log "running the test suite"
"$PY" -m pytest "$@"
