#!/usr/bin/env bash
# The Docker image's build steps (Dockerfile, build stage), and nothing else: pnpm, the locked dependencies,
# the MNIST sprites and both pages. hub/src/__tests__/docker-image.test.ts runs this script in a clean copy of
# the repository and starts the hub the way the image's CMD does, since no Docker engine runs on the test machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --no-system-packages
node scripts/start.mjs --build-only
