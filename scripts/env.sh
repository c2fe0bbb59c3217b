#!/usr/bin/env bash
# Creates .env from .env.example on first run, with a fresh random APP_KEY.
# Later runs only append variables that .env.example has and .env lacks
# (with their example values), so an older .env keeps working after an
# upgrade; values already in .env are never changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# A private key for signing payment quotes, when .env has none yet.
fill_quote_signer_key() {
  if grep -q '^X402_QUOTE_SIGNER_KEY=$' .env; then
    local signer
    signer="0x$(node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("hex"))')"
    sed -i "s|^X402_QUOTE_SIGNER_KEY=$|X402_QUOTE_SIGNER_KEY=$signer|" .env
    echo "[env] generated X402_QUOTE_SIGNER_KEY" >&2
  fi
}

if [ ! -f .env ]; then
  key="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url"))')"
  sed "s|^APP_KEY=.*|APP_KEY=$key|" .env.example > .env
  echo "[env] created .env from .env.example (with a new APP_KEY)" >&2
  fill_quote_signer_key
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
fill_quote_signer_key
