// What the manifests promise, checked against infra/shared/config.ts and the spec: probes on the
// health endpoints, resources from SERVICES, HPAs for the stateless services, KEDA for the worker,
// a CronJob per schedule, and only the gateway reachable from outside the namespace.
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { SCHEDULED_LAMBDAS, SERVICES, SERVICE_NAMES, WORKER_COMMAND } from "../../infra/shared/config";
import { createTradaiApp, renderManifests } from "../src/tradai-app";
import type { TradaiAppProps } from "../src/tradai-app";
import { parseManifests } from "./kubernetes-schema";
import type { Manifest } from "./kubernetes-schema";
import {
  kubernetesEnvironment,
  loadBacktestEnvironment,
  loadWorkerEnvironment,
} from "../../infra/test/deployment-env";
import { rejectedVariables } from "../../infra/test/service-schemas";

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON here */
function synth(props: TradaiAppProps = {}): Manifest[] {
  return Object.values(renderManifests(createTradaiApp(props))).flatMap(parseManifests);
}
const find = (manifests: Manifest[], kind: string, name: string): any =>
  manifests.find((manifest) => manifest.kind === kind && manifest.metadata.name === name);

const manifests = synth();
const servicesWithPort = SERVICE_NAMES.filter((name) => SERVICES[name].port !== null);

describe("deployments", () => {
  it.each(servicesWithPort.map((name) => [name]))("%s: probes, port and resources from SERVICES", (name) => {
    const service = SERVICES[name];
    const container = find(manifests, "Deployment", name)?.spec.template.spec.containers[0];
    expect(container.ports).toEqual([{ name: "http", containerPort: service.port, protocol: "TCP" }]);
    expect(container.readinessProbe.httpGet).toEqual({ path: service.healthPath, port: "http" });
    expect(container.startupProbe.httpGet.path).toBe(service.healthPath);
    // The startup probe allows at least the configured start period (5 s period).
    expect(
      container.startupProbe.periodSeconds * container.startupProbe.failureThreshold,
    ).toBeGreaterThanOrEqual(service.startPeriod);
    if (service.grpcHealth) expect(container.livenessProbe.grpc).toEqual({ port: service.port });
    else expect(container.livenessProbe.httpGet.path).toBe(service.healthPath);
    expect(container.resources.requests.memory).toBe(`${service.memory}Mi`);
    expect(find(manifests, "Service", name)?.spec.ports[0].port).toBe(service.port);
  });

  it("converts ECS CPU units to millicores (1024 units = 1 vCPU)", () => {
    const cpu = (name: string) =>
      find(manifests, "Deployment", name)?.spec.template.spec.containers[0].resources.requests.cpu;
    expect(cpu("data-collection")).toBe("250m");
    expect(cpu("backend-api")).toBe("500m");
    expect(cpu("live-trading")).toBe("1000m");
  });

  it("runs the trading bots as one replica at most, replaced not rolled (never two bots)", () => {
    for (const name of ["live-trading", "dry-run-trading"]) {
      const deployment = find(manifests, "Deployment", name);
      expect(deployment.spec.strategy).toEqual({ type: "Recreate" });
      expect(find(manifests, "HorizontalPodAutoscaler", name)).toBeUndefined();
    }
    expect(find(manifests, "Deployment", "dry-run-trading").spec.template.spec.containers[0].args).toEqual([
      "--mode",
      "dry-run",
    ]);
  });

  it("runs every pod as non-root", () => {
    const pods = manifests.flatMap((manifest: any) => {
      if (manifest.kind === "CronJob") return [manifest.spec.jobTemplate.spec.template.spec];
      if (["Deployment", "StatefulSet"].includes(manifest.kind)) return [manifest.spec.template.spec];
      return [];
    });
    expect(pods.length).toBeGreaterThan(10);
    for (const pod of pods) expect(pod.securityContext.runAsNonRoot).toBe(true);
  });
});

describe("scaling", () => {
  it("has an HPA exactly for the services with autoscaling in SERVICES", () => {
    const withHpa = manifests
      .filter((manifest) => manifest.kind === "HorizontalPodAutoscaler")
      .map((m) => m.metadata.name);
    expect(withHpa.sort()).toEqual(["backend-api", "backtest", "strategy-service"]);
    const hpa = find(manifests, "HorizontalPodAutoscaler", "backend-api");
    expect(hpa.spec.minReplicas).toBe(2); // prod desired count (spec §1)
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "backend-api",
    });
  });

  it("scales the worker from zero on the BullMQ wait list with KEDA", () => {
    const scaled = find(manifests, "ScaledObject", "strategy-container");
    expect(scaled.spec.scaleTargetRef).toEqual({ name: "strategy-container" });
    expect(scaled.spec.minReplicaCount).toBe(0);
    expect(scaled.spec.triggers).toEqual([
      expect.objectContaining({
        type: "redis",
        metadata: expect.objectContaining({
          address: "redis.tradai.svc.cluster.local:6379",
          listName: "bull:tradai-backtests:wait",
        }),
      }),
    ]);
    expect(
      find(manifests, "Deployment", "strategy-container").spec.template.spec.containers[0].ports,
    ).toBeUndefined();
  });
});

describe("backtest execution (QUEUE executor, KEDA-scaled worker)", () => {
  const backtest = find(manifests, "ConfigMap", "backtest-config").data;
  const worker = find(manifests, "ConfigMap", "strategy-container-config").data;

  it("configures the backtest service's QUEUE executor on the Redis the worker consumes", () => {
    expect(backtest).toMatchObject({
      BACKEND_EXECUTOR_MODE: "QUEUE",
      BACKEND_REDIS_URL: "redis://redis:6379",
      BACKEND_QUEUE_NAME: worker.WORKER_QUEUE_NAME,
      BACKEND_STATE_STORE: worker.WORKER_STATE_STORE,
      BACKEND_DEV_MODE: "false",
    });
    expect(worker.WORKER_REDIS_URL).toBe(backtest.BACKEND_REDIS_URL);
  });

  it("loads the Deployments' and the Job template's variables through the services' own schemas", () => {
    // As the services do at start: packages/common loadConfig, then the backtest ExecutorFactory's
    // missingSettings; secret references stand for a value.
    const containerOf = (name: string) =>
      find(manifests, "Deployment", name).spec.template.spec.containers[0];
    expect(
      loadBacktestEnvironment(kubernetesEnvironment(backtest, containerOf("backtest").env)),
    ).toMatchObject({
      ok: true,
      settings: {
        executorMode: "QUEUE",
        redisUrl: "redis://redis:6379",
        host: "0.0.0.0",
        port: SERVICES.backtest.port,
      },
    });
    const jobTemplate = parseYaml(find(manifests, "ConfigMap", "backtest-job-template").data["job.yaml"]);
    for (const [where, env] of [
      ["Deployment", containerOf("strategy-container").env],
      ["Job template", jobTemplate.spec.template.spec.containers[0].env],
    ] as const) {
      expect(loadWorkerEnvironment(kubernetesEnvironment(worker, env)), where).toMatchObject({
        ok: true,
        settings: { redisUrl: backtest.BACKEND_REDIS_URL, queueName: backtest.BACKEND_QUEUE_NAME },
      });
    }
  });

  it("gives the worker the services' URLs and the result store the backtest service reads", () => {
    expect(worker).toMatchObject({
      WORKER_STRATEGY_SERVICE_URL: "http://strategy-service:8003",
      WORKER_DATA_COLLECTION_URL: "http://data-collection:8002",
      WORKER_MLFLOW_TRACKING_URI: "http://mlflow:5000/mlflow",
      WORKER_RESULT_STORE: backtest.BACKEND_RESULT_STORE,
    });
    const claimAt = (spec: any, path: string) => {
      const mount = spec.containers[0].volumeMounts.find((entry: any) => entry.mountPath === path);
      return spec.volumes.find((volume: any) => volume.name === mount?.name)?.persistentVolumeClaim
        ?.claimName;
    };
    const jobTemplate = parseYaml(find(manifests, "ConfigMap", "backtest-job-template").data["job.yaml"]);
    const claims = [
      claimAt(find(manifests, "Deployment", "backtest").spec.template.spec, backtest.BACKEND_RESULT_STORE),
      claimAt(
        find(manifests, "Deployment", "strategy-container").spec.template.spec,
        worker.WORKER_RESULT_STORE,
      ),
      claimAt(jobTemplate.spec.template.spec, worker.WORKER_RESULT_STORE),
    ];
    expect(claims).toEqual(["backtest-results", "backtest-results", "backtest-results"]);
    expect(find(manifests, "PersistentVolumeClaim", "backtest-results").spec.accessModes).toEqual([
      "ReadWriteMany",
    ]);
  });

  it("runs the image's command: with --queue in the Deployment, as is (one WORKER_JOB) in the Job template", () => {
    const container = find(manifests, "Deployment", "strategy-container").spec.template.spec.containers[0];
    expect(container.command).toEqual(WORKER_COMMAND);
    expect(container.args).toEqual(["--queue"]);
    const jobTemplate = parseYaml(find(manifests, "ConfigMap", "backtest-job-template").data["job.yaml"]);
    const job = jobTemplate.spec.template.spec.containers[0];
    expect(job.command).toEqual(WORKER_COMMAND);
    expect(job.args).toBeUndefined();
  });

  it("grants no service Kubernetes API access (no executor creates Jobs)", () => {
    for (const kind of ["Role", "RoleBinding", "ServiceAccount"]) {
      expect(
        manifests.filter((manifest) => manifest.kind === kind),
        kind,
      ).toEqual([]);
    }
    for (const deployment of manifests.filter((manifest) => manifest.kind === "Deployment") as any[]) {
      expect(deployment.spec.template.spec.automountServiceAccountToken, deployment.metadata.name).toBe(
        false,
      );
    }
  });
});

describe("scheduled functions", () => {
  const expected: Record<string, string> = {
    "orphan-scanner": "*/5 * * * *",
    "health-check": "*/2 * * * *",
    "trading-heartbeat-check": "*/5 * * * *",
    "drift-monitor": "0 */12 * * *",
    "retraining-scheduler": "0 */6 * * *",
    "pulumi-drift-detector": "0 */6 * * *",
  };

  it("has one CronJob per LAMBDA_SCHEDULES entry at the spec's rate", () => {
    const cronJobs = manifests.filter((manifest) => manifest.kind === "CronJob");
    expect(cronJobs.map((job) => job.metadata.name).sort()).toEqual([...SCHEDULED_LAMBDAS].sort());
    for (const job of cronJobs as any[]) {
      expect(job.spec.schedule, job.metadata.name).toBe(expected[job.metadata.name]);
      expect(job.spec.concurrencyPolicy).toBe("Forbid");
      const container = job.spec.jobTemplate.spec.template.spec.containers[0];
      expect(container.image).toBe(`tradai/lambda-${job.metadata.name}:latest`);
      expect(container.command).toEqual(["node", "/var/task/invoke.mjs"]);
    }
    expect(find(manifests, "CronJob", "drift-monitor").spec.jobTemplate.spec.activeDeadlineSeconds).toBe(120);
  });

  it("applies per-stack overrides by the spec's config keys", () => {
    const overridden = synth({ scheduleOverrides: { orphan_scanner_schedule: "rate(10 minutes)" } });
    expect(find(overridden, "CronJob", "orphan-scanner").spec.schedule).toBe("*/10 * * * *");
    expect(() => synth({ scheduleOverrides: { health_check_schedule: "every 7 minutes" } })).toThrow(
      'health_check_schedule: expected "rate(N unit)" or "cron(m h dom mon dow year)", got "every 7 minutes"',
    );
  });
});

describe("network exposure", () => {
  const policies = manifests.filter((manifest) => manifest.kind === "NetworkPolicy") as any[];

  it("denies all ingress by default", () => {
    const deny = policies.find((policy) => policy.metadata.name === "default-deny-ingress");
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"], ingress: [] });
  });

  it("opens only the gateway to peers outside the platform", () => {
    const open: string[] = [];
    for (const policy of policies) {
      for (const rule of policy.spec.ingress ?? []) {
        const peers: any[] = rule.from ?? [];
        const fromAnywhere =
          peers.length === 0 ||
          peers.some(
            (peer) =>
              peer.ipBlock !== undefined ||
              (peer.namespaceSelector !== undefined && Object.keys(peer.namespaceSelector).length === 0),
          );
        if (fromAnywhere)
          open.push(policy.spec.podSelector.matchLabels?.["app.kubernetes.io/name"] ?? "(all pods)");
      }
    }
    expect(open).toEqual(["backend-api"]);
  });

  it("has every workload port covered by a policy and no LoadBalancer or NodePort", () => {
    for (const name of servicesWithPort) {
      const policy = policies.find((candidate) => candidate.metadata.name === `${name}-ingress`);
      expect(policy?.spec.ingress[0].ports, name).toEqual([{ port: SERVICES[name].port, protocol: "TCP" }]);
    }
    for (const service of manifests.filter((manifest) => manifest.kind === "Service") as any[]) {
      expect(service.spec.type, service.metadata.name).toBe("ClusterIP");
    }
    const ingresses = manifests.filter((manifest) => manifest.kind === "Ingress") as any[];
    expect(ingresses.map((ingress) => ingress.spec.rules[0].http.paths[0].backend.service.name)).toEqual([
      "backend-api",
    ]);
  });

  it("lets only the job runners and MLflow reach PostgreSQL", () => {
    const postgres = policies.find((policy) => policy.metadata.name === "postgres-ingress");
    const names = postgres.spec.ingress[0].from.map(
      (peer: any) => peer.podSelector.matchLabels["app.kubernetes.io/name"],
    );
    expect(names.sort()).toEqual(["backtest", "mlflow", "strategy-container"]);
  });
});

describe("schedule overrides", () => {
  // A changed topology reaching compose, charts and Pulumi together: infra/test/single-source.test.ts.
  it("converts overrides Kubernetes can run, and names the key of one it cannot", () => {
    const weekly = synth({ scheduleOverrides: { drift_monitor_schedule: "rate(7 days)" } });
    expect(find(weekly, "CronJob", "drift-monitor").spec.schedule).toBe("0 0 * * 0");
    const monday = synth({ scheduleOverrides: { drift_monitor_schedule: "cron(0 6 ? * 2 *)" } });
    expect(find(monday, "CronJob", "drift-monitor").spec.schedule).toBe("0 6 * * 1");
    expect(() => synth({ scheduleOverrides: { health_check_schedule: "rate(7 minutes)" } })).toThrow(
      'health_check_schedule: "rate(7 minutes)" has no exact Kubernetes cron (7 minutes do not divide an hour); the nearest, "*/7 * * * *", is not exact',
    );
    expect(() => synth({ scheduleOverrides: { drift_monitor_schedule: "rate(2 days)" } })).toThrow(
      /^drift_monitor_schedule: .*the nearest, "0 0 \*\/2 \* \*", is not exact/,
    );
  });
});

describe("configuration", () => {
  it("sets only variables the services' config schemas accept", () => {
    const rejected: string[] = [];
    for (const name of SERVICE_NAMES) {
      const configMap = find(manifests, "ConfigMap", `${name}-config`);
      const container = find(manifests, "Deployment", name)?.spec.template.spec.containers[0];
      const variables = [
        ...Object.keys(configMap?.data ?? {}),
        ...((container?.env ?? []) as { name: string }[]).map((variable) => variable.name),
      ];
      rejected.push(...rejectedVariables(name, variables).map((variable) => `${name}: ${variable}`));
    }
    expect(rejected).toEqual([]);
  });

  it("references secrets by name and never embeds their values", () => {
    expect(manifests.filter((entry) => entry.kind === "Secret")).toEqual([]);
    const worker = find(manifests, "Deployment", "strategy-container").spec.template.spec.containers[0];
    expect(worker.env).toContainEqual({
      name: "WORKER_POSTGRES_URL",
      valueFrom: { secretKeyRef: { name: "tradai-strategy-container", key: "WORKER_POSTGRES_URL" } },
    });
  });
});
