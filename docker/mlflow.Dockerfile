# syntax=docker/dockerfile:1
# MLflow tracking server wrapper (spec §3.4): the third-party server with a PostgreSQL backend store,
# S3 (or local) artifacts, served under --static-prefix=/mlflow on port 5000. We write the client
# (packages/mlflow), not the server.
#   docker build -f docker/mlflow.Dockerfile -t tradai/mlflow .
# `npm run generate:deploy` writes its port and start period from infra/shared/config.ts (SERVICES).
ARG PYTHON_IMAGE=python:3.12-slim

FROM ${PYTHON_IMAGE} AS build
ARG MLFLOW_VERSION=3.17.2
RUN python -m venv /opt/mlflow \
 && /opt/mlflow/bin/pip install --no-cache-dir "mlflow==${MLFLOW_VERSION}" "psycopg2-binary>=2.9,<3" "boto3>=1.34,<2"

FROM ${PYTHON_IMAGE} AS runtime
COPY --from=build /opt/mlflow /opt/mlflow
RUN useradd --system --uid 10001 --home-dir /var/lib/mlflow --create-home mlflow
ENV PATH=/opt/mlflow/bin:$PATH \
    MLFLOW_PORT=5000 \
    MLFLOW_BACKEND_STORE_URI=sqlite:////var/lib/mlflow/mlflow.db \
    MLFLOW_ARTIFACTS_DESTINATION=/var/lib/mlflow/artifacts \
    MLFLOW_SERVER_ALLOWED_HOSTS="mlflow,mlflow:*,mlflow.*,localhost,localhost:*,127.0.0.1,127.0.0.1:*"
USER mlflow
WORKDIR /var/lib/mlflow
EXPOSE 5000
# No /health under the static prefix: the UI root answers 200. Python's urllib, not curl (spec §2).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/mlflow/' % os.environ.get('MLFLOW_PORT', '5000'), timeout=5)"]
# Shell form through sh -c so the store URIs come from the environment (compose, ECS, Kubernetes).
CMD ["sh", "-c", "exec mlflow server --host 0.0.0.0 --port \"$MLFLOW_PORT\" --static-prefix /mlflow --backend-store-uri \"$MLFLOW_BACKEND_STORE_URI\" --artifacts-destination \"$MLFLOW_ARTIFACTS_DESTINATION\" --serve-artifacts"]
