#!/usr/bin/env bash
# make cluster: a balanced Matinee cluster on this machine (scripts/cluster.ts):
# nginx round-robin over 2 web processes, 2 workers, the chain watcher and an
# S3 server on loopback, on the PostgreSQL and Redis of .env with a database
# and a Redis db of their own. Prints the URL; Ctrl-C stops what it started.
#   CLUSTER_PORT (8380) CLUSTER_WEB_NODES (2) CLUSTER_WORKERS (2)
#   CLUSTER_DB_DATABASE (matinee_cluster) CLUSTER_REDIS_DB (14) CLUSTER_ECHO=1 (print every log)
set -euo pipefail
cd "$(dirname "$0")/.."

export DB_DATABASE="${CLUSTER_DB_DATABASE:-matinee_cluster}"
export REDIS_DB="${CLUSTER_REDIS_DB:-14}"
export QUEUE_PREFIX="${CLUSTER_QUEUE_PREFIX:-matinee-cluster}"
export APP_URL="http://127.0.0.1:${CLUSTER_PORT:-8380}"

if [ ! -x /usr/sbin/nginx ]; then
  echo "[cluster] nginx is missing: scripts/services.sh nginx installs it (make cluster does)" >&2
  exit 1
fi
node ace db:create
node ace migration:run --force
# The web nodes run bin/server.ts (no Vite dev server): they serve the built
# assets, as production does, so build them (public/assets, a few seconds).
npx vite build --logLevel warn
exec node --import @poppinss/ts-exec scripts/cluster.ts
