#!/usr/bin/env bash
# Creates .env from .env.example on first run, with a fresh random APP_KEY.
# An existing .env is never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .env ] && exit 0
key="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url"))')"
sed "s|^APP_KEY=.*|APP_KEY=$key|" .env.example > .env
echo "[env] created .env from .env.example (with a new APP_KEY)" >&2
