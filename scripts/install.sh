#!/usr/bin/env bash
# Installs what the project needs on a machine that has only Node 20: pnpm, the locked
# dependencies, Debian's PostgreSQL, Redis and nginx and, with --browser, Debian's Chromium for the
# browser tests. Safe to run again.
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

# Debian's PostgreSQL, Redis and nginx (installed, not started: the tests run their own) and, with
# --browser, Chromium; --no-system-packages (the Docker image's build, docker/build.sh) skips them.
if [ "${1:-}" != "--no-system-packages" ]; then
  bash scripts/install-system-packages.sh "${1:-}"
fi

# better-sqlite3 compiles from source when its prebuilt binary cannot be downloaded; point
# node-gyp at the local Node headers so it needs no download either.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_version.h ]; then
  export npm_config_nodedir=/usr
fi
pnpm install --frozen-lockfile
