#!/usr/bin/env bash
# Installs what the web console needs: its pinned npm packages (web/package-lock.json) and, with
# --browser, Debian's chromium for the browser tests (never a browser download).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# npm ci only when the lock file changed since the last install.
if ! cmp -s web/package-lock.json web/node_modules/.raptorflow-lock 2>/dev/null; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
  cp web/package-lock.json web/node_modules/.raptorflow-lock
fi

if [ "${1:-}" = "--browser" ] && [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "Installing chromium for the browser tests..."
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is required by the browser tests: install it, or set CHROMIUM_PATH." >&2
    exit 1
  fi
fi
