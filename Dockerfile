# syntax=docker/dockerfile:1
# The hub, in two stages: the build stage runs docker/build.sh (the locked dependencies, the MNIST sprites and
# both pages); the runtime stage holds the result and runs as the unprivileged `node` user. The same image runs a
# single hub (SQLite in /data) or a cluster node (DATABASE_URL, REDIS_URL, NODE_URL: docker-compose.yml).

FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles from source when no prebuilt binary fits.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN bash docker/build.sh

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    START_SKIP_BUILD=1 \
    HOST=0.0.0.0 \
    PORT=5000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 5000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:5000/api/models').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "scripts/start.mjs"]
