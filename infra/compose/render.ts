// Renders docker-compose.yaml and docker-compose.override.yaml (spec §6) from the topology in
// infra/shared/config.ts: ports, *_PORT, health checks (start periods from SERVICES), inter-service
// URLs, depends_on, images and Dockerfiles come from SERVICES; only what compose alone needs
// (profiles, volumes, PostgreSQL, LocalStack, Redis, development mounts) is written here.
// Run `npm run generate:deploy` (infra/compose/generate.ts) after changing the topology; infra/test/compose-render.test.ts fails
// when the committed files differ from a fresh render. Compose has no schedules (spec §6).
import { writeFileSync } from "node:fs";
import path from "node:path";
import {
  BACKTEST_EXECUTOR,
  BULLMQ_BACKTEST_QUEUE,
  RESULTS_MOUNT_PATH,
  SERVICE_NAMES,
  TOPOLOGY,
  WORKER_COMMAND,
  WORKER_CONSUMER_ARGS,
  serviceUrlEnvironment,
} from "../shared/config";
import type { ServiceName, Topology } from "../shared/config";

export const COMPOSE_FILE = "docker-compose.yaml";
export const COMPOSE_OVERRIDE_FILE = "docker-compose.override.yaml";
export const REPOSITORY_ROOT = path.resolve(import.meta.dirname, "../..");

/** Docker network the LOCAL/DOCKER executor starts worker containers on (named without project prefix). */
export const COMPOSE_WORKER_NETWORK = "tradai-internal";
/** Docker volume shared by the backtest service and its worker containers. */
export const COMPOSE_RESULTS_VOLUME = "tradai-backtest-results";

const POSTGRES_URL = "postgres://tradai:${POSTGRES_PASSWORD:-tradai}@postgres:5432/tradai";
const REDIS_URL = "redis://redis:6379";
const BIND = "${HOST_BIND_ADDRESS:-127.0.0.1}";

/** What compose needs about a service beyond SERVICES. */
interface ComposeLayout {
  /** Profile that starts it; `null` for the base file. */
  profile: string | null;
  /** Host port variable and its default (default: HOST_<SERVICE>_PORT and the container port). */
  hostPort?: { variable: string; port: number };
  /** Lines of the `environment:` map after the port and URL variables (already YAML). */
  environment?: readonly string[];
  volumes?: readonly string[];
  /** Dependencies besides the base services it calls through its URL variables. */
  dependsOn?: readonly string[];
  /** Dependencies listed before the URL targets. */
  dependsOnFirst?: readonly string[];
  comment?: readonly string[];
}

const LAYOUT: Readonly<Record<ServiceName, ComposeLayout>> = {
  "backend-api": { profile: null },
  backtest: {
    profile: null,
    environment: [
      "BACKEND_STATE_STORE: postgres",
      `BACKEND_POSTGRES_URL: ${POSTGRES_URL}`,
      "# Backtests run LOCAL (spec §4, §6): one worker container per job, started through the Docker",
      "# socket that docker-compose.override.yaml mounts. The containers join tradai-internal, so",
      "# postgres, data-collection, strategy-service and mlflow resolve by name, and they write results",
      "# to the volume this service reads them from. BACKEND_EXECUTOR_MODE=QUEUE with the redis profile",
      "# sends jobs to the worker service instead (infra/README.md).",
      `BACKEND_EXECUTOR_MODE: \${BACKEND_EXECUTOR_MODE:-${BACKTEST_EXECUTOR.compose.mode}}`,
      `BACKEND_LOCAL_EXECUTION_MODE: ${BACKTEST_EXECUTOR.compose.localExecutionMode}`,
      "BACKEND_WORKER_IMAGE: <worker-image>",
      `BACKEND_WORKER_NETWORK: ${COMPOSE_WORKER_NETWORK}`,
      `BACKEND_WORKER_VOLUMES: ${COMPOSE_RESULTS_VOLUME}:${RESULTS_MOUNT_PATH}`,
      `BACKEND_RESULT_STORE: ${RESULTS_MOUNT_PATH}`,
    ],
    volumes: [`backtest-results:${RESULTS_MOUNT_PATH}`],
    dependsOn: ["postgres"],
  },
  "data-collection": {
    profile: null,
    environment: ["DATA_COLLECTION_DATA_DIR: /data"],
    volumes: ["market-data:/data"],
  },
  "strategy-service": {
    profile: null,
    environment: ["STRATEGY_SERVICE_REGISTRY_DIR: /var/lib/tradai/strategies"],
    volumes: ["strategy-registry:/var/lib/tradai/strategies"],
    dependsOn: ["postgres"],
  },
  mlflow: {
    profile: "mlflow",
    // 5001 on the host: macOS uses 5000 for AirPlay.
    hostPort: { variable: "MLFLOW_PORT", port: 5001 },
    environment: [
      "MLFLOW_BACKEND_STORE_URI: postgresql://tradai:${POSTGRES_PASSWORD:-tradai}@postgres:5432/mlflow",
      "MLFLOW_ARTIFACTS_DESTINATION: /var/lib/mlflow/artifacts",
    ],
    volumes: ["mlflow-artifacts:/var/lib/mlflow/artifacts"],
    dependsOn: ["postgres"],
  },
  "strategy-container": {
    profile: "redis",
    comment: [
      "# The strategy-container: a BullMQ consumer of the QUEUE executor, so it comes with the redis profile.",
    ],
    environment: [
      `WORKER_REDIS_URL: ${REDIS_URL}`,
      `WORKER_QUEUE_NAME: ${BULLMQ_BACKTEST_QUEUE}`,
      "WORKER_STATE_STORE: postgres",
      `WORKER_POSTGRES_URL: ${POSTGRES_URL}`,
      `WORKER_RESULT_STORE: ${RESULTS_MOUNT_PATH}`,
    ],
    volumes: ["./strategies:/app/strategies:ro", `backtest-results:${RESULTS_MOUNT_PATH}`],
    dependsOnFirst: ["redis", "postgres"],
  },
  "live-trading": {
    profile: "trading",
    comment: ["# One bot per strategy (spec §3.5, §3.6); the same image, --mode selects live or dry-run."],
    dependsOn: ["data-collection", "strategy-service"],
  },
  "dry-run-trading": { profile: "trading", dependsOn: ["data-collection", "strategy-service"] },
};

const HEALTHCHECK_ANCHOR = [
  "x-app-healthcheck: &app-healthcheck",
  "  interval: 30s",
  "  timeout: 10s",
  "  retries: 3",
  "  start_period: 15s",
  "",
  "x-app-service: &app-service",
  "  restart: unless-stopped",
  "  networks:",
  "    - tradai-internal",
  "    - tradai-external",
  "",
];

const upperSnake = (name: string) => name.toUpperCase().replace(/-/g, "_");

/** The lines of one application service (two-space indented under `services:`). */
function renderService(topology: Topology, name: ServiceName): string[] {
  const service = topology.services[name];
  const layout = LAYOUT[name];
  const composeOf = (target: ServiceName) => topology.services[target].composeService;
  const lines: string[] = [...(layout.comment ?? []).map((line) => `  ${line}`)];
  lines.push(`  ${service.composeService}:`, "    <<: *app-service");
  if (layout.profile !== null) lines.push(`    profiles: [${layout.profile}]`);
  lines.push(
    `    image: ${service.ecrRepository}:\${TAG:-latest}`,
    "    build:",
    "      context: .",
    `      dockerfile: ${service.dockerfile}`,
    `    container_name: tradai-${service.composeService}`,
  );
  const command = name === "strategy-container" ? [...WORKER_COMMAND, ...WORKER_CONSUMER_ARGS] : service.args;
  if (command.length > 0) {
    lines.push(`    command: [${command.map((part) => JSON.stringify(part)).join(", ")}]`);
  }
  if (service.port !== null) {
    const host = layout.hostPort ?? {
      variable: `HOST_${upperSnake(service.composeService)}_PORT`,
      port: service.port,
    };
    lines.push("    ports:", `      - "${BIND}:\${${host.variable}:-${host.port}}:${service.port}"`);
  }
  const environment: string[] = [];
  if (service.component !== null && service.port !== null)
    environment.push(`${service.envPrefix}HOST: 0.0.0.0`);
  if (service.port !== null) environment.push(`${service.envPrefix}PORT: "${service.port}"`);
  for (const [variable, url] of Object.entries(serviceUrlEnvironment(name, composeOf, topology.services))) {
    environment.push(`${variable}: ${url}`);
  }
  const workerImage = `${topology.services["strategy-container"].ecrRepository}:\${TAG:-latest}`;
  environment.push(...(layout.environment ?? []).map((line) => line.replace("<worker-image>", workerImage)));
  if (environment.length > 0) lines.push("    environment:", ...environment.map((line) => `      ${line}`));
  if ((layout.volumes ?? []).length > 0) {
    lines.push("    volumes:", ...(layout.volumes ?? []).map((volume) => `      - ${volume}`));
  }
  // The same memory the task definitions and pods get: a container limit is also what bounds a
  // strategy sandbox's memory outside the V8 heap (services/strategy/README.md, "Isolation").
  lines.push(`    mem_limit: ${service.memory}m`);
  if (service.port !== null && service.healthPath !== null) {
    const url = `http://127.0.0.1:${service.port}${service.healthPath}`;
    const test =
      service.component === null
        ? ["python", "-c", `import urllib.request; urllib.request.urlopen('${url}', timeout=5)`]
        : ["node", "-e", `fetch('${url}').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))`];
    lines.push(
      "    healthcheck:",
      "      <<: *app-healthcheck",
      "      test:",
      "        - CMD",
      ...test.map((part) => `        - ${part}`),
      `      start_period: ${service.startPeriod}s`,
    );
  }
  // Base services it calls (profile services may be absent), then what the layout adds.
  const targets = Object.keys(service.urlVariables)
    .map((target) => target as ServiceName)
    .filter((target) => LAYOUT[target].profile === null)
    .map(composeOf);
  const dependsOn = [...new Set([...(layout.dependsOnFirst ?? []), ...targets, ...(layout.dependsOn ?? [])])];
  if (dependsOn.length > 0) {
    lines.push(
      "    depends_on:",
      ...dependsOn.flatMap((dependency) => [`      ${dependency}:`, "        condition: service_healthy"]),
    );
  }
  return lines;
}

const servicesIn = (topology: Topology, profile: "base" | "profile") =>
  SERVICE_NAMES.filter((name) => (LAYOUT[name].profile === null) === (profile === "base")).map((name) =>
    renderService(topology, name),
  );

const GENERATED = [
  "# Generated by infra/compose/render.ts from infra/shared/config.ts (SERVICES): do not edit; change",
  "# the topology or the renderer and run `npm run generate:deploy`. infra/test/compose-render.test.ts",
  "# fails when this file differs from a fresh render.",
];

function renderBase(topology: Topology): string {
  const lines = [
    "# TradAI base services (spec §6): the gateway (seed backend), the backtest, data-collection and",
    "# strategy services, and PostgreSQL. Profile services (mlflow, localstack, redis, trading) and the",
    "# development overrides live in docker-compose.override.yaml, which `docker compose` merges by default.",
    "#",
    ...GENERATED,
    "# infra/test/compose.test.ts validates every profile combination with `docker compose config`",
    "# (scripts/validate-compose.sh does the same from the shell).",
    "# Host ports bind to ${HOST_BIND_ADDRESS:-127.0.0.1}: services stay on loopback unless told otherwise.",
    "",
    "name: tradai",
    "",
    ...HEALTHCHECK_ANCHOR,
    "services:",
    ...servicesIn(topology, "base").flatMap((service) => [...service, ""]),
    "  postgres:",
    "    image: postgres:15-alpine",
    "    container_name: tradai-postgres",
    "    restart: unless-stopped",
    "    environment:",
    "      POSTGRES_USER: tradai",
    "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-tradai}",
    "      POSTGRES_DB: tradai",
    "    volumes:",
    "      - postgres-data:/var/lib/postgresql/data",
    "      - ./docker/postgres-init.sql:/docker-entrypoint-initdb.d/10-mlflow.sql:ro",
    "    healthcheck:",
    "      <<: *app-healthcheck",
    '      test: ["CMD-SHELL", "pg_isready -U tradai -d tradai"]',
    "      start_period: 10s",
    "    networks:",
    "      - tradai-internal",
    "",
    "networks:",
    "  # Named without the project prefix: the backtest service starts worker containers on it",
    "  # (BACKEND_WORKER_NETWORK) through the Docker API, outside compose.",
    "  tradai-internal:",
    `    name: ${COMPOSE_WORKER_NETWORK}`,
    "    driver: bridge",
    "  tradai-external:",
    "    driver: bridge",
    "",
    "volumes:",
    "  postgres-data:",
    "  market-data:",
    "  strategy-registry:",
    "  # Results of backtests: written by the worker containers (BACKEND_WORKER_VOLUMES), read by backtest.",
    "  backtest-results:",
    `    name: ${COMPOSE_RESULTS_VOLUME}`,
  ];
  return `${lines.join("\n")}\n`;
}

function renderOverride(topology: Topology): string {
  const hostPorts = SERVICE_NAMES.filter((name) => LAYOUT[name].profile !== null)
    .map((name) => {
      const service = topology.services[name];
      if (service.port === null) return null;
      return LAYOUT[name].hostPort?.variable ?? `HOST_${upperSnake(service.composeService)}_PORT`;
    })
    .filter((variable): variable is string => variable !== null);
  const lines = [
    "# Development overrides and profile services (spec §6). `docker compose up` merges this file with",
    "# docker-compose.yaml. Profile services start only when asked:",
    "#   docker compose --profile mlflow --profile localstack --profile redis --profile trading up",
    "# Ports are configurable: LOCALSTACK_PORT, REDIS_PORT, POSTGRES_PORT,",
    `# ${hostPorts.join(", ")}.`,
    ...GENERATED,
    "",
    ...HEALTHCHECK_ANCHOR,
    "x-localstack-credentials: &localstack-credentials",
    "  AWS_REGION: ${AWS_REGION:-eu-central-1}",
    "  AWS_ACCESS_KEY_ID: test",
    "  AWS_SECRET_ACCESS_KEY: test",
    "",
    "services:",
    "  # The backtest service holds the executors; its DOCKER sub-mode (docker-compose.yaml) starts worker",
    "  # containers through the Docker socket, which needs root (the spec's override does the same for",
    "  # its backend). The worker image is tradai/strategy-container: `docker compose --profile redis",
    "  # build worker` (or docker build -f docker/worker.Dockerfile) builds it.",
    `  ${topology.services.backtest.composeService}:`,
    '    user: "0:0"',
    "    environment:",
    `      BACKEND_LOCAL_EXECUTION_MODE: ${BACKTEST_EXECUTOR.compose.localExecutionMode}`,
    `      BACKEND_REDIS_URL: ${REDIS_URL}`,
    `      BACKEND_QUEUE_NAME: ${BULLMQ_BACKTEST_QUEUE}`,
    "    volumes:",
    "      - /var/run/docker.sock:/var/run/docker.sock",
    "      - ~/.aws:/root/.aws:ro",
    "      - ./strategies:/app/strategies:ro",
    "",
    "  # LocalStack as the S3 endpoint (used when DATA_COLLECTION_STORE=s3 / an s3:// strategies dir).",
    `  ${topology.services["data-collection"].composeService}:`,
    "    environment:",
    "      <<: *localstack-credentials",
    "      DATA_COLLECTION_S3_ENDPOINT: http://localstack:4566",
    "",
    `  ${topology.services["strategy-service"].composeService}:`,
    "    environment:",
    "      <<: *localstack-credentials",
    "      STRATEGY_SERVICE_S3_ENDPOINT: http://localstack:4566",
    "    volumes:",
    "      - ./strategies:/app/strategies:ro",
    "      - ~/.aws:/home/node/.aws:ro",
    "",
    "  postgres:",
    "    ports:",
    `      - "${BIND}:\${POSTGRES_PORT:-5433}:5432"`,
    "",
    ...servicesIn(topology, "profile").flatMap((service, index) =>
      index === 0 ? [...service, "", ...infrastructureProfiles(), ""] : [...service, ""],
    ),
    "volumes:",
    "  mlflow-artifacts:",
  ];
  return `${lines.join("\n")}\n`;
}

/** LocalStack and Redis, between MLflow and the worker as in spec §6. */
function infrastructureProfiles(): string[] {
  return [
    "  localstack:",
    "    profiles: [localstack]",
    "    image: localstack/localstack:3.8",
    "    container_name: tradai-localstack",
    "    restart: unless-stopped",
    "    ports:",
    `      - "${BIND}:\${LOCALSTACK_PORT:-4566}:4566"`,
    "    environment:",
    "      SERVICES: s3,sqs,dynamodb,sns,ecs,stepfunctions,events,logs",
    "    healthcheck:",
    "      <<: *app-healthcheck",
    '      test: ["CMD", "curl", "-f", "http://localhost:4566/_localstack/health"]',
    "    networks:",
    "      - tradai-internal",
    "",
    "  redis:",
    "    profiles: [redis]",
    "    image: redis:7-alpine",
    "    container_name: tradai-redis",
    "    restart: unless-stopped",
    "    ports:",
    `      - "${BIND}:\${REDIS_PORT:-6379}:6379"`,
    "    healthcheck:",
    "      <<: *app-healthcheck",
    '      test: ["CMD", "redis-cli", "ping"]',
    "      start_period: 5s",
    "    networks:",
    "      - tradai-internal",
  ];
}

/** Both compose files, by name, for a topology (default: infra/shared/config.ts). */
export function renderCompose(topology: Topology = TOPOLOGY): Record<string, string> {
  return { [COMPOSE_FILE]: renderBase(topology), [COMPOSE_OVERRIDE_FILE]: renderOverride(topology) };
}

/** Writes the rendered files into `directory` (default: the repository root); returns their paths. */
export function writeCompose(directory: string = REPOSITORY_ROOT, topology: Topology = TOPOLOGY): string[] {
  return Object.entries(renderCompose(topology)).map(([file, text]) => {
    const target = path.join(directory, file);
    writeFileSync(target, text);
    return target;
  });
}
