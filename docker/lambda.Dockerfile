# syntax=docker/dockerfile:1
# Per-Lambda image (ECR tradai/lambda-<name>): one bundled handler on the shared base image.
#   docker build -f lambdas/base/Dockerfile -t tradai/lambda-base .
#   docker build -f docker/lambda.Dockerfile --build-arg LAMBDA=orphan-scanner -t tradai/lambda-orphan-scanner .
# AWS Lambda calls handler.handler; Kubernetes runs `node /var/task/invoke.mjs` (charts/).
# update-nat-routes is the exception: an inline ZIP function (infra/), not an image (spec §5).
ARG NODE_IMAGE=node:20-bookworm-slim
ARG BASE_IMAGE=tradai/lambda-base:latest

FROM ${NODE_IMAGE} AS build
ARG LAMBDA
RUN test -n "${LAMBDA}" || (echo "LAMBDA: expected a function name (--build-arg LAMBDA=orphan-scanner), got nothing" && exit 1)
WORKDIR /repo
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund --ignore-scripts
RUN npx esbuild "lambdas/${LAMBDA}/src/handler.ts" --bundle --platform=node --target=node20 --format=esm \
      --banner:js="import { createRequire as __tradaiCreateRequire } from 'node:module'; const require = __tradaiCreateRequire(import.meta.url);" \
      --sourcemap --outfile=/out/handler.mjs

FROM ${BASE_IMAGE}
COPY --from=build /out/ ${LAMBDA_TASK_ROOT}/
CMD ["handler.handler"]
