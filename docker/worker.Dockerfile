# syntax=docker/dockerfile:1
# TradAI worker (deployed as the spec's strategy-container): runs backtest and training jobs, no port.
# Build from the repository root (the image bundles workspace packages):
#   docker build -f docker/worker.Dockerfile -t <ecrRepository from infra/shared/config.ts> .
# infra/test/dockerfiles.test.ts checks the entry point, port, health check and user against
# infra/shared/config.ts (SERVICES).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# Compilers for native modules (better-sqlite3) when no prebuilt binary is reachable.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /repo
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
# One ESM bundle; native modules (and @fastify/swagger-ui, which reads its static files from beside
# itself) stay external and are copied with their dependencies.
# The banner gives bundled CommonJS code a require() for Node built-ins.
RUN npx esbuild services/worker/src/main.ts --bundle --platform=node --target=node20 --format=esm \
      --external:better-sqlite3 --external:@duckdb/* --external:esbuild --external:@fastify/swagger-ui \
      --banner:js="import { createRequire as __tradaiCreateRequire } from 'node:module'; const require = __tradaiCreateRequire(import.meta.url);" \
      --outfile=/out/dist/main.mjs \
 && echo '{"type":"module"}' > /out/package.json \
 && node docker/collect-externals.mjs /out better-sqlite3 @duckdb/node-api esbuild @fastify/swagger-ui
RUN mkdir -p /out/strategies && cp -r strategies/. /out/strategies/
# Registered strategies run in a sandbox that bundles its harness at run time from
# "./backtest-harness.ts" beside the code (services/strategy/src/infrastructure/sandboxed-backtest.ts);
# ship it pre-bundled there (plain JS is valid TypeScript).
RUN npx esbuild services/strategy/src/infrastructure/backtest-harness.ts --bundle --platform=node --target=node20 \
      --format=esm --outfile=/out/dist/backtest-harness.ts

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# A 64 MiB young generation: a backtest's short-lived trade and result objects die young
# (WORKER_NODE_FLAGS in services/backtest/src/infrastructure/local-subprocess-submitter.ts).
ENV NODE_OPTIONS=--max-semi-space-size=64
WORKDIR /app
COPY --from=build --chown=node:node /out/ ./
# The result store shared with the backtest service on a volume (compose, Kubernetes): a new volume
# takes this directory's owner, so the worker (node) can write to it.
RUN mkdir -p /var/lib/tradai/results && chown node:node /var/lib/tradai/results
USER node
# An on-demand task: no port and no health endpoint (spec §3.7).
HEALTHCHECK NONE
# The command, not an entry point: the LOCAL/DOCKER executor runs `node dist/main.mjs --job <json>`
# (WORKER_COMMAND in infra/shared/config.ts), ECS and Kubernetes Jobs run it as is (one job from
# WORKER_JOB), compose and the Kubernetes Deployment add --queue.
CMD ["node", "dist/main.mjs"]
