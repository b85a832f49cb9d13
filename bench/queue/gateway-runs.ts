// Submissions per second through the gateway, every part real and on loopback: the gateway →
// BacktestService (QUEUE executor, SQLite state store, BullMQ on the bench's Redis) → StrategyService
// (validation of SampleStrategy) and DataCollectionService (EnsureData). Data collection downloads
// the candles once, during the warm-up request, from the Binance REST simulator the integration
// tests use (serving the real candles of shared/data); afterwards EnsureData finds the range covered
// and the bench checks that no further exchange request was made during the measured runs.
// Baseline: GET /api/v1/health through the same gateway (which asks every service's Health).
import { spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { createInterface } from "node:readline";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  startBinanceSimulator,
  type BinanceSimulator,
} from "../../services/data-collection/test/support/binance-simulator";
import { exited, repoRoot, type SpawnOptions, type SpawnedService } from "../../test/support/spawn-service";
import { freePort } from "../../test/support/test-stack";
import { rate, runBounded, summarize, type LatencySummary } from "./bench-support";

export const SUBMIT_BODY = {
  strategy: "SampleStrategy",
  exchange: "binance",
  pairs: ["BTC/USDT"],
  timeframe: "5m",
  timerange: "20250101-20250201",
  stake_amount: 100,
  dry_run_wallet: 1000,
  max_open_trades: 1,
  fee: 0.001,
};

/** The port from a service's "listening" log line or fastify's "Server listening at" line. */
function listeningPort(line: string): number | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: string; port?: number };
    if (entry.msg === "listening" && typeof entry.port === "number") return entry.port;
    const fastify = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(entry.msg ?? "");
    return fastify ? Number(fastify[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * test/support/spawn-service's spawnService with node arguments (--cpu-prof is not allowed in
 * NODE_OPTIONS): runs `entry` on port 0 and waits for its "listening" line.
 */
async function spawnServiceWith(
  nodeArguments: readonly string[],
  options: SpawnOptions & { portVariable: string },
): Promise<SpawnedService> {
  const child = spawn(
    process.execPath,
    [...nodeArguments, "--import", "tsx", path.join(repoRoot, options.entry), ...(options.args ?? [])],
    {
      cwd: repoRoot,
      env: { ...process.env, ...options.env, [options.portVariable]: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      // Keep the start-up lines only: a long run logs a line per request.
      if (output.length < 200) output.push(line);
    });
  }
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    const port = output.map(listeningPort).find((found) => found !== undefined);
    if (port !== undefined) {
      return {
        url: `http://127.0.0.1:${port}`,
        port,
        process: child,
        output,
        stop: async () => {
          child.kill("SIGTERM");
          return exited(child);
        },
      };
    }
    if (child.exitCode !== null)
      throw new Error(
        `${options.entry} exited with ${child.exitCode} before listening:\n${output.join("\n")}`,
      );
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${options.entry} did not listen in time:\n${output.join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface GatewayStack {
  gatewayUrl: string;
  /** Exchange (simulator) requests so far. */
  exchangeRequests(): number;
  /** Process ids of the services, for CPU accounting. */
  pids: Record<string, number>;
  stop(): Promise<void>;
}

export interface GatewayStackOptions {
  /** Directory for V8 CPU profiles of the four services (node --cpu-prof), written when they stop. */
  cpuProfileDir?: string;
  /** QUEUE on `redisUrl`, or LOCAL: a pool of worker processes (no Redis). */
  executor: { mode: "QUEUE"; redisUrl: string } | { mode: "LOCAL"; workers: number };
  /** MLflow tracking URI for the workers. */
  mlflowUrl?: string;
}

export async function startGatewayStack(options: GatewayStackOptions): Promise<GatewayStack> {
  const directory = mkdtempSync(path.join(tmpdir(), "tradai-bench-queue-gateway-"));
  const nodeArguments =
    options.cpuProfileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`];
  const spawnService = (spawnOptions: SpawnOptions & { portVariable: string }) =>
    spawnServiceWith(nodeArguments, spawnOptions);
  const running: SpawnedService[] = [];
  let simulator: BinanceSimulator | undefined;
  const stop = async () => {
    await Promise.all(running.map((service) => service.stop()));
    await simulator?.close();
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    simulator = await startBinanceSimulator();
    // Trading services are not part of this stack: point the gateway at a closed port so its health
    // document reports them down at once (instead of asking whatever listens on 8004/8005).
    const closed = `http://127.0.0.1:${await freePort()}`;
    // Both start at once; whichever started is stopped again if the other fails.
    const started = await Promise.allSettled([
      spawnService({
        entry: "services/data-collection/src/main.ts",
        portVariable: "DATA_COLLECTION_PORT",
        env: {
          DATA_COLLECTION_DATA_DIR: path.join(directory, "data"),
          DATA_COLLECTION_EXCHANGE_OVERRIDES: JSON.stringify({ binance: simulator.ccxtConfig() }),
        },
        timeoutMs: 60_000,
      }),
      spawnService({
        entry: "services/strategy/src/main.ts",
        portVariable: "STRATEGY_SERVICE_PORT",
        env: { STRATEGY_SERVICE_REGISTRY_DIR: path.join(directory, "registry") },
        timeoutMs: 60_000,
      }),
    ]);
    for (const result of started) if (result.status === "fulfilled") running.push(result.value);
    const failed = started.find((result) => result.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    const [data, strategy] = running as [SpawnedService, SpawnedService];
    const backtest = await spawnService({
      entry: "services/backtest/src/main.ts",
      portVariable: "BACKEND_PORT",
      env: {
        ...(options.executor.mode === "LOCAL"
          ? {
              BACKEND_EXECUTOR_MODE: "LOCAL",
              BACKEND_LOCAL_EXECUTION_MODE: "SUBPROCESS",
              BACKEND_LOCAL_WORKERS: String(options.executor.workers),
            }
          : {
              BACKEND_EXECUTOR_MODE: "QUEUE",
              BACKEND_REDIS_URL: options.executor.redisUrl,
              BACKEND_QUEUE_NAME: `bench-gateway-${process.pid}`,
            }),
        ...(options.mlflowUrl === undefined ? {} : { BACKEND_MLFLOW_TRACKING_URI: options.mlflowUrl }),
        BACKEND_SQLITE_PATH: path.join(directory, "state.db"),
        BACKEND_RESULT_STORE: path.join(directory, "results"),
        BACKEND_STRATEGY_SERVICE_URL: strategy.url,
        BACKEND_DATA_COLLECTION_URL: data.url,
      },
      timeoutMs: 60_000,
    });
    running.push(backtest);
    const gateway = await spawnService({
      entry: "gateway/src/main.ts",
      portVariable: "GATEWAY_PORT",
      env: {
        GATEWAY_BACKTEST_URL: backtest.url,
        GATEWAY_STRATEGY_URL: strategy.url,
        GATEWAY_DATA_COLLECTION_URL: data.url,
        GATEWAY_LIVE_TRADING_URL: closed,
        GATEWAY_DRY_RUN_TRADING_URL: closed,
      },
      timeoutMs: 60_000,
    });
    running.push(gateway);
    const sim = simulator;
    const pids = Object.fromEntries(
      (
        [
          ["gateway", gateway],
          ["backtest", backtest],
          ["strategy", strategy],
          ["data-collection", data],
        ] as const
      ).map(([name, service]) => [name, service.process.pid ?? -1]),
    );
    return { gatewayUrl: gateway.url, exchangeRequests: () => sim.requests.length, pids, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface HttpCall {
  method: "GET" | "POST";
  path: string;
  body?: unknown;
  /** Statuses that count as success. */
  expect: readonly number[];
}

interface HttpAnswer {
  status: number;
  body: string;
}

function send(agent: Agent, base: URL, call: HttpCall): Promise<HttpAnswer> {
  const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: call.method,
        path: call.path,
        headers:
          payload === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
        timeout: 30_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
        response.on("error", reject);
      },
    );
    outgoing.on("timeout", () => outgoing.destroy(new Error(`${call.method} ${call.path}: timed out`)));
    outgoing.on("error", reject);
    outgoing.end(payload);
  });
}

/** One request, checked; for the warm-up. */
export async function callOnce(baseUrl: string, call: HttpCall): Promise<HttpAnswer> {
  const agent = new Agent({ keepAlive: false });
  try {
    const answer = await send(agent, new URL(baseUrl), call);
    if (!call.expect.includes(answer.status))
      throw new Error(
        `${call.method} ${call.path}: expected ${call.expect.join(" or ")}, got ${answer.status}: ${answer.body.slice(0, 500)}`,
      );
    return answer;
  } finally {
    agent.destroy();
  }
}

export interface LoadResult {
  requests: number;
  ms: number;
  perSecond: number;
  latency: LatencySummary;
}

/** `requests` calls with `concurrency` keep-alive connections; any unexpected status fails the run. */
export async function runLoad(
  baseUrl: string,
  call: HttpCall,
  requests: number,
  concurrency: number,
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const base = new URL(baseUrl);
  const samples: number[] = [];
  try {
    const start = performance.now();
    await runBounded(requests, concurrency, async () => {
      const t0 = performance.now();
      const answer = await send(agent, base, call);
      samples.push(performance.now() - t0);
      if (!call.expect.includes(answer.status))
        throw new Error(
          `${call.method} ${call.path}: expected ${call.expect.join(" or ")}, got ${answer.status}: ${answer.body.slice(0, 500)}`,
        );
    });
    const ms = performance.now() - start;
    return { requests, ms, perSecond: rate(requests, ms), latency: summarize(samples) };
  } finally {
    agent.destroy();
  }
}
