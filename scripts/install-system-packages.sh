#!/usr/bin/env bash
# Installs the Debian packages the project needs and lacks: PostgreSQL, Redis and nginx (the tests start
# their own instances, with their own port and temporary data folder) and, with --browser, Chromium.
# The system services are installed only: never started, never enabled. Safe to run again.
set -euo pipefail

SUDO=""
[ "$(id -u)" != 0 ] && SUDO="sudo"

missing=()
# Debian keeps the server binaries in /usr/lib/postgresql/<major>/bin, outside PATH.
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ "${1:-}" = --browser ] && [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
  missing+=(chromium)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "System packages: nothing to install (PostgreSQL, Redis, nginx${1:+, Chromium} found)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "System packages missing: ${missing[*]}. This is not a Debian-like system: install them yourself" >&2
  echo "(the PostgreSQL tests fail until its server binaries are found; see README, Storage)." >&2
  exit 0
fi

# Debian's postgresql, redis-server and nginx start their service on install unless policy-rc.d
# answers 101 (action forbidden): put one in place for the install, then restore whatever was there.
POLICY=/usr/sbin/policy-rc.d
SAVED=""
if [ -e "$POLICY" ]; then
  SAVED="$(mktemp)"
  $SUDO cp -p "$POLICY" "$SAVED"
fi
restore_policy() {
  if [ -n "$SAVED" ]; then
    $SUDO mv "$SAVED" "$POLICY"
  else
    $SUDO rm -f "$POLICY"
  fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# Written by scripts/install-system-packages.sh while it installs packages.\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
$SUDO chmod 755 "$POLICY"

echo "Installing Debian packages: ${missing[*]} (apt-get, services neither started nor enabled)"
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Under systemd the packages also enable their units for the next boot: undo that for the ones installed here.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  units=()
  for p in "${missing[@]}"; do
    case "$p" in postgresql | redis-server | nginx) units+=("$p") ;; esac
  done
  [ ${#units[@]} -gt 0 ] && $SUDO systemctl disable --quiet "${units[@]}" || true
fi
echo "Installed: ${missing[*]}"
