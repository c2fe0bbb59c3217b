#!/usr/bin/env bash
# The local chain of `make dev`: starts a Hardhat node (port from X402_RPC_URL,
# loopback only), deploys the X402 splitter and the test stablecoin to it
# (node ace x402:deploy --local), funds two test wallets and prints them for
# MetaMask. Prints the node's PID on the last line of stdout; its log goes to
# tmp/logs/hardhat-node.log. Skipped (exit 0, no PID) when X402_RPC_URL is not
# a loopback address: then the chain is someone else's.
set -euo pipefail
cd "$(dirname "$0")/.."

rpc_url="$(grep -E '^X402_RPC_URL=' .env | cut -d= -f2- || true)"
if [[ ! "$rpc_url" =~ ^http://(127\.0\.0\.1|localhost):([0-9]+)/?$ ]]; then
  echo "[chain] X402_RPC_URL is not a local node (${rpc_url:-empty}): no local chain started" >&2
  exit 0
fi
port="${BASH_REMATCH[2]}"

# Hardhat's public test accounts #1 and #2 (the creator's payout wallet is #3).
WALLETS=(
  "0x70997970C51812dc3A010C7d01b50e0d17dc79C8 0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
  "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC 0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
)

rpc_answers() {
  curl -sf -X POST -H 'content-type: application/json' \
    --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "http://127.0.0.1:$port" > /dev/null
}
if rpc_answers; then
  echo "[chain] something already answers on port $port (an earlier make dev?): stop it first" >&2
  exit 1
fi

mkdir -p tmp/logs
npx hardhat build --quiet >&2
node node_modules/hardhat/dist/src/cli.js node --hostname 127.0.0.1 --port "$port" > tmp/logs/hardhat-node.log 2>&1 &
node_pid=$!
trap 'kill "$node_pid" 2>/dev/null' ERR

for _ in $(seq 1 60); do
  if rpc_answers; then break; fi
  if ! kill -0 "$node_pid" 2>/dev/null; then
    echo "[chain] the Hardhat node exited; see tmp/logs/hardhat-node.log" >&2
    exit 1
  fi
  sleep 0.5
done

node ace x402:deploy --local --fund="${WALLETS[0]%% *},${WALLETS[1]%% *}" >&2

{
  echo ""
  echo "Local chain: $rpc_url (chain id 31337). Test wallets for MetaMask (import the key),"
  echo "each with 10000 ETH and 1000 mUSD (public test keys: never use them on a real chain):"
  for wallet in "${WALLETS[@]}"; do
    echo "  address ${wallet%% *}  key ${wallet##* }"
  done
  echo ""
} >&2
echo "$node_pid"
