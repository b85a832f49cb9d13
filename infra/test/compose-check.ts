// Compares the resolved docker compose project (`docker compose config --format json`) with the
// topology in infra/shared/config.ts and lists every disagreement.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import {
  BACKTEST_EXECUTOR,
  SERVICES,
  SERVICE_NAMES,
  WORKER_COMMAND,
  WORKER_CONSUMER_ARGS,
  serviceUrl,
} from "../shared/config";
import type { ServiceName } from "../shared/config";
import type { Topology } from "../shared/config";

const run = promisify(execFile);

export interface ComposePort {
  target: number;
  published?: string;
  host_ip?: string;
}

export interface ComposeService {
  /** Bytes, as `docker compose config` prints a `mem_limit`. */
  mem_limit?: string | number;
  image?: string;
  profiles?: string[];
  command?: string[];
  user?: string;
  ports?: ComposePort[];
  environment?: Record<string, string | null>;
  healthcheck?: {
    test?: string[];
    interval?: string;
    timeout?: string;
    retries?: number;
    start_period?: string;
  };
  depends_on?: Record<string, { condition: string }>;
  networks?: Record<string, unknown>;
  volumes?: { type: string; source?: string; target: string }[];
}

export interface ComposeProject {
  name?: string;
  services: Record<string, ComposeService>;
  networks?: Record<string, { name?: string; driver?: string }>;
  volumes?: Record<string, { name?: string }>;
}

export const REPO_ROOT = path.resolve(import.meta.dirname, "../..");
export const COMPOSE_FILES = ["docker-compose.yaml", "docker-compose.override.yaml"];
export const COMPOSE_PROFILES = ["mlflow", "localstack", "redis", "trading"] as const;

/**
 * The Compose v2 command: TRADAI_DOCKER_COMPOSE, the binary scripts/install-deploy-tools.sh builds,
 * or the `docker compose` plugin. Throws with the install hint when none is present.
 */
export async function findCompose(): Promise<string[]> {
  const cache = process.env.TRADAI_CACHE ?? path.join(os.homedir(), ".cache", "tradai");
  const candidates: string[][] = [];
  if (process.env.TRADAI_DOCKER_COMPOSE !== undefined) candidates.push([process.env.TRADAI_DOCKER_COMPOSE]);
  const built = path.join(cache, "bin", "docker-compose");
  if (existsSync(built)) candidates.push([built]);
  candidates.push(["docker", "compose"]);
  for (const command of candidates) {
    try {
      const [file, ...args] = command as [string, ...string[]];
      const { stdout } = await run(file, [...args, "version", "--short"]);
      if (stdout.trim().length > 0) return command;
    } catch {
      // try the next candidate
    }
  }
  throw new Error(
    "docker compose: expected Compose v2 (docker compose plugin or TRADAI_DOCKER_COMPOSE), got none; " +
      "run scripts/install-deploy-tools.sh",
  );
}

/**
 * `docker compose config` for the given profiles, on the files in `directory` (default: the
 * repository root); the environment carries no host-port or executor overrides but `overrides`.
 */
export async function composeConfig(
  compose: string[],
  profiles: readonly string[],
  files: readonly string[] = COMPOSE_FILES,
  directory: string = REPO_ROOT,
  overrides: Readonly<Record<string, string>> = {},
): Promise<ComposeProject> {
  const [file, ...args] = compose as [string, ...string[]];
  const fileArgs = files.flatMap((name) => ["-f", path.join(directory, name)]);
  const profileArgs = profiles.flatMap((profile) => ["--profile", profile]);
  const environment: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(environment)) {
    if (/^(HOST_|TAG$|MLFLOW_PORT$|LOCALSTACK_PORT$|REDIS_PORT$|POSTGRES_|BACKEND_EXECUTOR_MODE$)/.test(key))
      delete environment[key];
  }
  Object.assign(environment, overrides);
  const { stdout } = await run(file, [...args, ...fileArgs, ...profileArgs, "config", "--format", "json"], {
    cwd: directory,
    env: environment,
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as ComposeProject;
}

/** Seconds of a Go duration as `docker compose config` prints it ("15s", "2m0s", "1h0m0s"). */
export function durationSeconds(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)];
  if (parts.map((part) => part[0]).join("") !== text || parts.length === 0) {
    throw new Error(`duration: expected a Go duration such as 15s or 2m0s, got "${text}"`);
  }
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  return parts.reduce((total, part) => total + Number(part[1]) * (unit[part[2] ?? "s"] ?? 0), 0);
}

const list = (values: readonly unknown[]) => (values.length > 0 ? values.join(", ") : "none");

/** Every disagreement between the compose project and the topology, as readable sentences. */
export function checkComposeAgainstTopology(project: ComposeProject, topology: Topology): string[] {
  const issues: string[] = [];
  const composeNameOf = (name: (typeof SERVICE_NAMES)[number]) => topology.services[name].composeService;
  for (const name of SERVICE_NAMES) {
    const service = topology.services[name];
    const where = `compose service ${service.composeService} (${name})`;
    const compose = project.services[service.composeService];
    if (compose === undefined) {
      issues.push(`${where}: expected a service, got none`);
      continue;
    }
    if (!(compose.image ?? "").startsWith(`${service.ecrRepository}:`)) {
      issues.push(`${where}: expected image ${service.ecrRepository}:<tag>, got ${compose.image ?? "none"}`);
    }
    const targets = (compose.ports ?? []).map((port) => port.target);
    const environment = compose.environment ?? {};
    if (service.port === null) {
      if (targets.length > 0) issues.push(`${where}: expected no ports, got ${list(targets)}`);
    } else {
      if (!targets.includes(service.port)) {
        issues.push(`${where}: expected container port ${service.port}, got ${list(targets)}`);
      }
      const portVariable = `${service.envPrefix}PORT`;
      if (environment[portVariable] !== String(service.port)) {
        issues.push(
          `${where}: expected ${portVariable}=${service.port}, got ${environment[portVariable] ?? "unset"}`,
        );
      }
    }
    // Same memory as the ECS task and the pod: it also bounds a strategy sandbox outside the V8 heap.
    const memoryBytes = service.memory * 1024 * 1024;
    if (Number(compose.mem_limit) !== memoryBytes) {
      issues.push(
        `${where}: expected mem_limit ${service.memory}m (${memoryBytes} bytes), got ${compose.mem_limit ?? "none"}`,
      );
    }
    if (service.healthPath !== null && service.port !== null) {
      const url = `127.0.0.1:${service.port}${service.healthPath}`;
      const test = (compose.healthcheck?.test ?? []).join(" ");
      if (!test.includes(url)) issues.push(`${where}: expected a health check on ${url}, got "${test}"`);
      const startPeriod = compose.healthcheck?.start_period;
      if (startPeriod === undefined || durationSeconds(startPeriod) !== service.startPeriod) {
        issues.push(`${where}: expected start_period ${service.startPeriod}s, got ${startPeriod ?? "none"}`);
      }
      if (test.includes("curl") && service.component !== null) {
        issues.push(`${where}: expected a health check without curl, got "${test}"`);
      }
    }
    // The compose worker is a long-running BullMQ consumer (the image's command plus --queue); the
    // others run with their SERVICES args.
    const args = name === "strategy-container" ? [...WORKER_COMMAND, ...WORKER_CONSUMER_ARGS] : service.args;
    if (args.length > 0 && JSON.stringify(compose.command ?? []) !== JSON.stringify(args)) {
      issues.push(`${where}: expected command ${args.join(" ")}, got ${(compose.command ?? []).join(" ")}`);
    }
    for (const [targetName, variable] of Object.entries(service.urlVariables)) {
      const target = targetName as ServiceName;
      const expected = serviceUrl(target, composeNameOf(target), topology.services);
      if (environment[variable] !== expected) {
        issues.push(`${where}: expected ${variable}=${expected}, got ${environment[variable] ?? "unset"}`);
      }
      const targetCompose = project.services[composeNameOf(target)];
      const targetIsBase = targetCompose !== undefined && (targetCompose.profiles ?? []).length === 0;
      if (targetIsBase && compose.depends_on?.[composeNameOf(target)]?.condition !== "service_healthy") {
        issues.push(`${where}: expected depends_on ${composeNameOf(target)} with condition service_healthy`);
      }
    }
    const networks = Object.keys(compose.networks ?? {}).sort();
    if (JSON.stringify(networks) !== JSON.stringify(["tradai-external", "tradai-internal"])) {
      issues.push(`${where}: expected networks tradai-external and tradai-internal, got ${list(networks)}`);
    }
  }
  return issues;
}

/**
 * Whether the backtest service has a working executor (spec §4, §6; BACKTEST_EXECUTOR.compose):
 * LOCAL/DOCKER through a mounted Docker socket, the worker image of the compose worker, worker
 * containers on a network that holds the services a worker calls, and the result store on a volume
 * that the worker containers mount at the same path.
 */
export function checkComposeExecutor(project: ComposeProject): string[] {
  const issues: string[] = [];
  const backtest = project.services[SERVICES.backtest.composeService];
  const worker = project.services[SERVICES["strategy-container"].composeService];
  const environment = backtest?.environment ?? {};
  const expect = (variable: string, expected: string | undefined, actual = environment[variable]) => {
    if (actual !== expected)
      issues.push(`backtest: expected ${variable}=${expected ?? "a value"}, got ${actual ?? "unset"}`);
  };
  expect("BACKEND_EXECUTOR_MODE", BACKTEST_EXECUTOR.compose.mode);
  expect("BACKEND_LOCAL_EXECUTION_MODE", BACKTEST_EXECUTOR.compose.localExecutionMode);
  // The worker service (redis profile) builds the image; without that profile it is absent.
  const image = environment.BACKEND_WORKER_IMAGE ?? "";
  if (!image.startsWith(`${SERVICES["strategy-container"].ecrRepository}:`)) {
    issues.push(
      `backtest: expected BACKEND_WORKER_IMAGE=${SERVICES["strategy-container"].ecrRepository}:<tag>, got ${image === "" ? "unset" : image}`,
    );
  }
  if (worker !== undefined) expect("BACKEND_WORKER_IMAGE", worker.image);
  const mounts = backtest?.volumes ?? [];
  if (
    !mounts.some(
      (mount) => mount.source === "/var/run/docker.sock" && mount.target === "/var/run/docker.sock",
    )
  ) {
    issues.push("backtest: expected the Docker socket mounted at /var/run/docker.sock, got none");
  }
  // Worker containers join a network by its Docker name; every service a worker calls must be on it.
  const networkName = environment.BACKEND_WORKER_NETWORK;
  const network = Object.entries(project.networks ?? {}).find(([, value]) => value.name === networkName)?.[0];
  if (network === undefined) {
    issues.push(
      `backtest: expected BACKEND_WORKER_NETWORK to name a compose network, got ${networkName ?? "unset"}`,
    );
  } else {
    const needed = [
      "postgres",
      ...Object.keys(SERVICES["strategy-container"].urlVariables).map(
        (target) => SERVICES[target as keyof typeof SERVICES].composeService,
      ),
    ];
    for (const name of needed) {
      const service = project.services[name];
      if (service !== undefined && !Object.keys(service.networks ?? {}).includes(network)) {
        issues.push(
          `${name}: expected to be on ${network}, where the worker containers run, got ${Object.keys(service.networks ?? {}).join(", ")}`,
        );
      }
    }
  }
  // The worker writes results where the service reads them: the same volume at the same path.
  const resultStore = environment.BACKEND_RESULT_STORE ?? "";
  const resultMount = mounts.find((mount) => mount.type === "volume" && mount.target === resultStore);
  const volumeName = project.volumes?.[resultMount?.source ?? ""]?.name;
  if (resultMount === undefined || volumeName === undefined) {
    issues.push(
      `backtest: expected BACKEND_RESULT_STORE on a named volume, got ${resultStore === "" ? "unset" : resultStore}`,
    );
  } else {
    const workerVolumes = (environment.BACKEND_WORKER_VOLUMES ?? "").split(",").map((entry) => entry.trim());
    if (!workerVolumes.includes(`${volumeName}:${resultStore}`)) {
      issues.push(
        `backtest: expected BACKEND_WORKER_VOLUMES to mount ${volumeName}:${resultStore}, got ${environment.BACKEND_WORKER_VOLUMES ?? "unset"}`,
      );
    }
  }
  return issues;
}
