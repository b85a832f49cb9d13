# syntax=docker/dockerfile:1
# TradAI data-collection service (DataCollectionService): port 8002.
# Build from the repository root (the image bundles workspace packages):
#   docker build -f docker/data-collection.Dockerfile -t <ecrRepository from infra/shared/config.ts> .
# infra/test/dockerfiles.test.ts checks the entry point, port, health check and user against
# infra/shared/config.ts (SERVICES); `npm run generate:deploy` writes its port and start period.
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
RUN npx esbuild services/data-collection/src/main.ts --bundle --platform=node --target=node20 --format=esm \
      --external:better-sqlite3 --external:@duckdb/* --external:esbuild --external:@fastify/swagger-ui \
      --banner:js="import { createRequire as __tradaiCreateRequire } from 'node:module'; const require = __tradaiCreateRequire(import.meta.url);" \
      --outfile=/out/dist/main.mjs \
 && echo '{"type":"module"}' > /out/package.json \
 && node docker/collect-externals.mjs /out better-sqlite3 @duckdb/node-api esbuild @fastify/swagger-ui

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# Services bind to loopback unless told otherwise (ARCHITECTURE.md §4.10); in a container, all interfaces.
ENV DATA_COLLECTION_HOST=0.0.0.0 \
    DATA_COLLECTION_PORT=8002
WORKDIR /app
COPY --from=build --chown=node:node /out/ ./
USER node
EXPOSE 8002
# Node's fetch, not curl: slim images have no curl (spec §2 "Health Check Pattern").
HEALTHCHECK --interval=30s --timeout=10s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.DATA_COLLECTION_PORT??'8002')+'/api/v1/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/main.mjs"]
CMD []
