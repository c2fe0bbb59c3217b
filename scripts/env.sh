#!/usr/bin/env bash
# Creates .env from .env.example on first run, with a fresh random APP_KEY.
# Later runs only append variables that .env.example has and .env lacks
# (with their example values), so an older .env keeps working after an
# upgrade; values already in .env are never changed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f .env ]; then
  key="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url"))')"
  sed "s|^APP_KEY=.*|APP_KEY=$key|" .env.example > .env
  echo "[env] created .env from .env.example (with a new APP_KEY)" >&2
  exit 0
fi

added=()
while IFS= read -r line; do
  name="${line%%=*}"
  if ! grep -q "^${name}=" .env; then
    printf '%s\n' "$line" >> .env
    added+=("$name")
  fi
done < <(grep -E '^[A-Z][A-Z0-9_]*=' .env.example)
if [ ${#added[@]} -gt 0 ]; then
  echo "[env] added to .env from .env.example: ${added[*]}" >&2
fi
