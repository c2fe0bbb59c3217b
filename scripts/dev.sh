#!/usr/bin/env bash
# Runs the web server and a worker side by side; Ctrl-C (or either one
# exiting) stops both.
set -uo pipefail
cd "$(dirname "$0")/.."

node ace serve --watch &
web=$!
node ace queue:work &
worker=$!

stop() {
  trap - INT TERM
  kill -TERM "$web" "$worker" 2>/dev/null
  wait "$web" "$worker" 2>/dev/null
  exit 0
}
trap stop INT TERM

wait -n "$web" "$worker"
echo "[dev] a process exited; stopping the other" >&2
stop
