#!/usr/bin/env bash
# Makes sure PostgreSQL, Redis and FFmpeg are usable: use running ones, else
# start installed ones, else apt-get install them (root on Debian/Ubuntu),
# else explain exactly what is missing. Extra Debian packages to ensure can be
# passed as arguments (for example docker-compose for the test suite).
set -euo pipefail
cd "$(dirname "$0")/.."

# Read the connection settings the app will use (ENV_FILE, default .env).
env_file="${ENV_FILE:-.env}"
if [ -f "$env_file" ]; then
  set -a
  # shellcheck disable=SC1090
  . <(grep -E '^(DB_HOST|DB_PORT|DB_PASSWORD|REDIS_HOST|REDIS_PORT)=' "$env_file")
  set +a
fi

PGHOST="${DB_HOST:-127.0.0.1}"
PGPORT="${DB_PORT:-5432}"
REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
REDIS_PORT="${REDIS_PORT:-6379}"

say() { echo "[services] $*" >&2; }
can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
apt_updated=0
apt_install() {
  if ! can_apt; then
    say "missing: $*. Install it (Debian/Ubuntu: sudo apt-get install -y $*) and run make again."
    exit 1
  fi
  if [ "$apt_updated" = 0 ]; then
    say "apt-get update"
    apt-get update -qq >&2
    apt_updated=1
  fi
  say "apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
wait_tcp() {
  for _ in $(seq 1 60); do tcp_open "$1" "$2" && return 0; sleep 0.5; done
  return 1
}
is_local() { case "$1" in 127.*|localhost|::1) return 0 ;; *) return 1 ;; esac; }

ensure_postgres() {
  tcp_open "$PGHOST" "$PGPORT" && return 0
  if ! is_local "$PGHOST"; then say "PostgreSQL at $PGHOST:$PGPORT is not reachable"; exit 1; fi
  command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
  local version
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)"
  if [ -z "$version" ]; then say "PostgreSQL is installed but has no cluster (try: pg_createcluster)"; exit 1; fi
  say "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  wait_tcp "$PGHOST" "$PGPORT" || { say "PostgreSQL did not start on $PGHOST:$PGPORT"; exit 1; }
  # A fresh Debian cluster wants a password on TCP: give the postgres role the
  # configured one (ignored where the cluster trusts loopback).
  if [ "$(id -u)" = 0 ] && command -v su >/dev/null 2>&1; then
    su postgres -c "psql -qc \"alter user postgres password '${DB_PASSWORD:-postgres}'\"" >/dev/null 2>&1 || true
  fi
}

ensure_redis() {
  tcp_open "$REDIS_HOST" "$REDIS_PORT" && return 0
  if ! is_local "$REDIS_HOST"; then say "Redis at $REDIS_HOST:$REDIS_PORT is not reachable"; exit 1; fi
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  say "starting Redis on port $REDIS_PORT"
  mkdir -p /tmp/matinee-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --dir /tmp/matinee-redis --logfile /tmp/matinee-redis/redis.log >&2
  wait_tcp "$REDIS_HOST" "$REDIS_PORT" || { say "Redis did not start"; exit 1; }
}

ensure_binary() { # command package
  command -v "$1" >/dev/null 2>&1 || apt_install "$2"
}

ensure_postgres
ensure_redis
ensure_binary ffmpeg ffmpeg
ensure_binary ffprobe ffmpeg
# The visible watermark draws with DejaVu Sans Bold.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ] || apt_install fonts-dejavu-core
for pkg in "$@"; do
  case "$pkg" in
    docker-compose) ensure_binary docker-compose docker-compose ;;
    wrk) ensure_binary wrk wrk ;;
    chromium) ensure_binary chromium chromium ;;
    nginx)
      # Only the binary (benchmarks start their own on loopback): keep the
      # package from starting a system-wide nginx on port 80.
      if [ ! -x /usr/sbin/nginx ]; then
        if [ ! -e /usr/sbin/policy-rc.d ] && can_apt; then
          printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
          apt_install nginx; rm -f /usr/sbin/policy-rc.d
        else
          apt_install nginx
        fi
      fi ;;
    *) ensure_binary "$pkg" "$pkg" ;;
  esac
done
say "PostgreSQL $PGHOST:$PGPORT, Redis $REDIS_HOST:$REDIS_PORT and FFmpeg are ready"
