#!/usr/bin/env bash
# Installs what the scripts need on a fresh machine: Node.js (for Azurite), faketime (the infra
# tests lint the Bicep with the clock two years ahead) and the pinned npm packages (Azurite, MailDev).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET 10 SDK is required (https://dot.net)." >&2
  exit 1
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "Installing Node.js for Azurite..."
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "Node.js 18+ is required for Azurite." >&2
    exit 1
  fi
fi

if ! command -v faketime >/dev/null 2>&1; then
  echo "Installing faketime for the infra tests..."
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null
  else
    echo "faketime (libfaketime) is required by the infra tests." >&2
    exit 1
  fi
fi

# npm ci only when the lock file changed since the last install.
if ! cmp -s package-lock.json node_modules/.raptorflow-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.raptorflow-lock
fi

# The TypeScript client's own packages (openapi-typescript, openapi-fetch, tsc), pinned in its lock file.
if ! cmp -s clients/typescript/package-lock.json clients/typescript/node_modules/.raptorflow-lock 2>/dev/null; then
  (cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error)
  cp clients/typescript/package-lock.json clients/typescript/node_modules/.raptorflow-lock
fi
