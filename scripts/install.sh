#!/usr/bin/env bash
# Installs what the project needs on a machine that has only Node 20: pnpm, the locked
# dependencies and, with --browser, Debian's Chromium for the browser tests. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=12.4.2
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "Installing pnpm $PNPM_VERSION"
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null || {
    echo "Could not install pnpm globally; run: npm install -g pnpm@$PNPM_VERSION (as root or with a user prefix)" >&2
    exit 1
  }
fi

if [ "${1:-}" = --browser ] && [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's Chromium for the browser tests"
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# better-sqlite3 compiles from source when its prebuilt binary cannot be downloaded; point
# node-gyp at the local Node headers so it needs no download either.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_version.h ]; then
  export npm_config_nodedir=/usr
fi
pnpm install --frozen-lockfile
