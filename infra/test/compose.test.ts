// docker-compose.yaml + docker-compose.override.yaml (spec §6): every profile combination resolves
// with `docker compose config`, and the resolved project agrees with infra/shared/config.ts.
import { beforeAll, describe, expect, it } from "vitest";
import { SERVICES, SERVICE_NAMES, TOPOLOGY, withService } from "../shared/config";
import {
  COMPOSE_PROFILES,
  checkComposeAgainstTopology,
  checkComposeExecutor,
  composeConfig,
  durationSeconds,
  findCompose,
} from "./compose-check";
import type { ComposeProject } from "./compose-check";
import { loadBacktestEnvironment, loadWorkerEnvironment } from "./deployment-env";
import { acceptedVariables, rejectedVariables, stalePendingVariables } from "./service-schemas";

const BASE_SERVICES = ["backend", "backtest", "data-collection", "strategy-service", "postgres"];
// Written from the spec's §6 tables (plus the worker with redis and the trading bots), not from the files.
const PROFILE_SERVICES: Record<(typeof COMPOSE_PROFILES)[number], string[]> = {
  mlflow: ["mlflow"],
  localstack: ["localstack"],
  redis: ["redis", "worker"],
  trading: ["live-trading", "dry-run-trading"],
};

const combinations: string[][] = Array.from({ length: 2 ** COMPOSE_PROFILES.length }, (_, mask) =>
  COMPOSE_PROFILES.filter((_, bit) => (mask & (1 << bit)) !== 0),
);

let compose: string[];
let full: ComposeProject;

beforeAll(async () => {
  compose = await findCompose();
  full = await composeConfig(compose, COMPOSE_PROFILES);
});

describe("docker compose config", () => {
  it("resolves the base file alone with the spec's base services", async () => {
    const project = await composeConfig(compose, [], ["docker-compose.yaml"]);
    expect(Object.keys(project.services).sort()).toEqual([...BASE_SERVICES].sort());
    expect(project.name).toBe("tradai");
  });

  it(`resolves all ${combinations.length} profile combinations with exactly their services`, async () => {
    const projects = await Promise.all(combinations.map((profiles) => composeConfig(compose, profiles)));
    projects.forEach((project, index) => {
      const profiles = combinations[index] ?? [];
      const expected = [
        ...BASE_SERVICES,
        ...profiles.flatMap((profile) => PROFILE_SERVICES[profile as keyof typeof PROFILE_SERVICES]),
      ];
      expect(
        Object.keys(project.services).sort(),
        profiles.length > 0 ? profiles.join("+") : "no profile",
      ).toEqual(expected.sort());
    });
  });

  it("uses one health-check template: 30 s interval, 10 s timeout, 3 retries", () => {
    // The worker has no port and no health endpoint (spec §3.7).
    expect(full.services.worker?.healthcheck).toBeUndefined();
    for (const [name, service] of Object.entries(full.services).filter(([name]) => name !== "worker")) {
      expect(service.healthcheck, name).toMatchObject({ interval: "30s", timeout: "10s", retries: 3 });
    }
  });

  it("keeps postgres, redis and localstack on the internal network only", () => {
    for (const name of ["postgres", "redis", "localstack"]) {
      expect(Object.keys(full.services[name]?.networks ?? {}), name).toEqual(["tradai-internal"]);
    }
    expect(full.networks?.["tradai-internal"]?.driver).toBe("bridge");
    expect(full.networks?.["tradai-external"]?.driver).toBe("bridge");
  });

  it("publishes the spec's default host ports on loopback", () => {
    const published = Object.fromEntries(
      Object.entries(full.services).flatMap(([name, service]) =>
        (service.ports ?? []).map((port) => [
          name,
          `${port.host_ip ?? ""}:${port.published ?? ""}:${port.target}`,
        ]),
      ),
    );
    expect(published).toEqual({
      backend: "127.0.0.1:8000:8000",
      backtest: "127.0.0.1:8001:8001",
      "data-collection": "127.0.0.1:8002:8002",
      "strategy-service": "127.0.0.1:8003:8003",
      postgres: "127.0.0.1:5433:5432",
      mlflow: "127.0.0.1:5001:5000",
      localstack: "127.0.0.1:4566:4566",
      redis: "127.0.0.1:6379:6379",
      "live-trading": "127.0.0.1:8004:8004",
      "dry-run-trading": "127.0.0.1:8005:8005",
    });
  });

  it("runs the backtest service as root only for the Docker socket (development override)", async () => {
    expect(full.services.backtest?.user).toBe("0:0");
    expect(full.services.backtest?.environment?.BACKEND_LOCAL_EXECUTION_MODE).toBe("docker");
    const base = await composeConfig(compose, [], ["docker-compose.yaml"]);
    expect(base.services.backtest?.user).toBeUndefined();
  });
});

describe("compose agrees with infra/shared/config.ts", () => {
  it("has every service with its image, port, health check, URLs and dependencies", () => {
    expect(checkComposeAgainstTopology(full, TOPOLOGY)).toEqual([]);
  });
  it("takes each health check's start_period from SERVICES", () => {
    expect(full.services.mlflow?.healthcheck?.start_period).toBe(`${SERVICES.mlflow.startPeriod}s`);
    expect(durationSeconds(full.services["live-trading"]?.healthcheck?.start_period ?? "")).toBe(
      SERVICES["live-trading"].startPeriod,
    );
    expect(durationSeconds("1h2m3s")).toBe(3723);
    expect(() => durationSeconds("2 minutes")).toThrow(
      'expected a Go duration such as 15s or 2m0s, got "2 minutes"',
    );
    expect(checkComposeAgainstTopology(full, withService(TOPOLOGY, "mlflow", { startPeriod: 45 }))).toEqual([
      "compose service mlflow (mlflow): expected start_period 45s, got 30s",
    ]);
  });

  // A changed topology reaching compose, charts and Pulumi together: infra/test/single-source.test.ts.
});

describe("compose runs backtests (spec §4, §6: LOCAL, DOCKER sub-mode)", () => {
  it("gives the backtest service a working LOCAL/DOCKER executor in every profile combination", async () => {
    const projects = await Promise.all(combinations.map((profiles) => composeConfig(compose, profiles)));
    for (const [index, project] of projects.entries()) {
      expect(
        checkComposeExecutor(project),
        (combinations[index] ?? []).join("+").replace(/^$/, "no profile"),
      ).toEqual([]);
    }
    const backtest = full.services.backtest?.environment ?? {};
    expect(backtest).toMatchObject({
      BACKEND_EXECUTOR_MODE: "LOCAL",
      BACKEND_LOCAL_EXECUTION_MODE: "docker",
      BACKEND_WORKER_IMAGE: "tradai/strategy-container:latest",
      BACKEND_WORKER_NETWORK: "tradai-internal",
      BACKEND_RESULT_STORE: "/var/lib/tradai/results",
    });
    // The queue worker (redis profile) shares the result store too.
    expect(full.services.worker?.environment?.WORKER_RESULT_STORE).toBe(backtest.BACKEND_RESULT_STORE);
    expect(full.services.worker?.volumes?.map((mount) => `${mount.source}:${mount.target}`)).toContain(
      "backtest-results:/var/lib/tradai/results",
    );
  });

  it("reports a missing executor, an unreachable network and an unshared result store", () => {
    const broken = structuredClone(full);
    const environment = broken.services.backtest?.environment ?? {};
    delete environment.BACKEND_EXECUTOR_MODE;
    environment.BACKEND_WORKER_NETWORK = "host";
    environment.BACKEND_WORKER_VOLUMES = null;
    expect(checkComposeExecutor(broken)).toEqual([
      "backtest: expected BACKEND_EXECUTOR_MODE=LOCAL, got unset",
      "backtest: expected BACKEND_WORKER_NETWORK to name a compose network, got host",
      "backtest: expected BACKEND_WORKER_VOLUMES to mount tradai-backtest-results:/var/lib/tradai/results, got unset",
    ]);
  });
});

describe("compose environments load through the services' own schemas", () => {
  it("starts the backtest service with LOCAL/DOCKER in every profile combination, and the worker", async () => {
    const projects = await Promise.all(combinations.map((profiles) => composeConfig(compose, profiles)));
    for (const [index, project] of projects.entries()) {
      const label = (combinations[index] ?? []).join("+").replace(/^$/, "no profile");
      expect(loadBacktestEnvironment(project.services.backtest?.environment ?? {}), label).toMatchObject({
        ok: true,
        settings: { executorMode: "LOCAL", localExecutionMode: "DOCKER", stateStore: "postgres" },
      });
    }
    expect(loadWorkerEnvironment(full.services.worker?.environment ?? {})).toMatchObject({
      ok: true,
      settings: { stateStore: "postgres", redisUrl: "redis://redis:6379" },
    });
  });

  it("switches to the QUEUE executor on the redis profile's worker with BACKEND_EXECUTOR_MODE=QUEUE", async () => {
    const project = await composeConfig(compose, ["redis"], undefined, undefined, {
      BACKEND_EXECUTOR_MODE: "QUEUE",
    });
    const backtest = loadBacktestEnvironment(project.services.backtest?.environment ?? {});
    const worker = loadWorkerEnvironment(project.services.worker?.environment ?? {});
    expect(backtest).toMatchObject({ ok: true, settings: { executorMode: "QUEUE" } });
    expect(worker.ok).toBe(true);
    if (backtest.ok && worker.ok) {
      // The service produces to the queue the worker consumes, and both share job state and results.
      expect(backtest.settings.redisUrl).toBe(worker.settings.redisUrl);
      expect(backtest.settings.queueName).toBe(worker.settings.queueName);
      expect(backtest.settings.postgresUrl).toBe(worker.settings.postgresUrl);
      expect(backtest.settings.resultStore).toBe(worker.settings.resultStore);
    }
    // Without the override the base file alone still has no Redis: QUEUE would name what is missing.
    const base = await composeConfig(compose, [], ["docker-compose.yaml"], undefined, {
      BACKEND_EXECUTOR_MODE: "QUEUE",
    });
    expect(loadBacktestEnvironment(base.services.backtest?.environment ?? {})).toEqual({
      ok: false,
      problems: ["BACKEND_REDIS_URL: expected a value for executor QUEUE, got nothing"],
    });
  });
});

describe("compose sets only variables the services accept", () => {
  it("passes every prefixed variable through the service's config schema", () => {
    const rejected: string[] = [];
    for (const name of SERVICE_NAMES) {
      const compose = full.services[SERVICES[name].composeService];
      const variables = Object.keys(compose?.environment ?? {});
      rejected.push(...rejectedVariables(name, variables).map((variable) => `${name}: ${variable}`));
    }
    expect(rejected).toEqual([]);
  });

  it("would catch a variable the schema does not have", () => {
    expect(
      rejectedVariables("backend-api", ["GATEWAY_STRATEGY_SERVICE_URL", "GATEWAY_STRATEGY_URL"]),
    ).toEqual(["GATEWAY_STRATEGY_SERVICE_URL"]);
    expect(acceptedVariables("backend-api")).toContain("GATEWAY_REQUEST_TIMEOUT_MS");
    expect(acceptedVariables("strategy-container")).toContain("WORKER_POSTGRES_URL");
    expect(acceptedVariables("strategy-container")).toContain("WORKER_WORKFLOW_STATE_TABLE");
    expect(rejectedVariables("strategy-container", ["WORKER_STATE_STORE", "WORKER_TABLE"])).toEqual([
      "WORKER_TABLE",
    ]);
  });

  it("lists no pending variable that a schema already accepts", () => {
    expect(stalePendingVariables()).toEqual([]);
    expect(stalePendingVariables({ backtest: ["BACKEND_EXECUTOR_MODE", "BACKEND_NOT_YET"] })).toEqual([
      "backtest: BACKEND_EXECUTOR_MODE",
    ]);
  });
});
