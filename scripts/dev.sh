#!/usr/bin/env bash
# Runs the whole product for development: the local chain (scripts/chain.sh),
# the web server, a worker and the chain watcher. Ctrl-C (or any of them
# exiting) stops them all.
set -uo pipefail
cd "$(dirname "$0")/.."

pids=()
chain_pid="$(scripts/chain.sh | tail -n 1)" || { echo "[dev] the local chain did not start" >&2; exit 1; }
[ -n "$chain_pid" ] && pids+=("$chain_pid")

node ace serve --watch &
pids+=($!)
node ace queue:work &
pids+=($!)
node ace x402:watch &
pids+=($!)
# The Stripe stand-in, when .env points the Stripe plugin at this machine (cards and memberships without an account).
if grep -qE '^STRIPE_API_BASE=https?://(127\.0\.0\.1|localhost)' .env 2>/dev/null; then
  node --import @poppinss/ts-exec scripts/stripe-stand-in.ts &
  pids+=($!)
fi

stop() {
  trap - INT TERM
  kill -TERM "${pids[@]}" 2>/dev/null
  wait "${pids[@]}" 2>/dev/null
  exit 0
}
trap stop INT TERM

wait -n "${pids[@]}"
echo "[dev] a process exited; stopping the others" >&2
stop
