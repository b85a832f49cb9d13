// The whole backtest flow over HTTP, every part real (issue #6 §6): gateway → backtest service →
// strategy service (validation) and data collection (EnsureData downloading through ccxt from a
// Binance REST simulator serving the real candles) → executor (LOCAL worker pool, or BullMQ on
// Redis with a separate worker process) → worker (engine) → result store + MLflow.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { createSqliteWorkflowStateRepository } from "@tradai/backtest";
import { ConnectError, Code } from "@connectrpc/connect";
import { createServiceClient, violationsOf } from "@tradai/common";
import { BacktestService } from "@tradai/proto";
import { toJson } from "@bufbuild/protobuf";
import { StructSchema } from "@bufbuild/protobuf/wkt";
import { tmpdir } from "node:os";
import path from "node:path";
import { createMlflowClient } from "@tradai/mlflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startBinanceSimulator,
  type BinanceSimulator,
} from "../services/data-collection/test/support/binance-simulator";
import { startOtlpReceiver } from "./support/otlp-receiver";
import { runEntry, spawnService, type SpawnedService } from "./support/spawn-service";

const stateDir = mkdtempSync(path.join(tmpdir(), "tradai-flow-"));
const mlflowUrl = process.env.TRADAI_TEST_MLFLOW_URL;
const redisUrl = process.env.TRADAI_TEST_REDIS_URL;
const running: SpawnedService[] = [];
let simulator: BinanceSimulator;
let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
/** Every process exports its spans to the test's OTLP receiver. */
const telemetryEnv = () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url });
let dataUrl: string;
let strategyUrl: string;

const submitBody = (overrides: Record<string, unknown> = {}) => ({
  strategy: "SampleStrategy",
  exchange: "binance",
  pairs: ["BTC/USDT", "ETH/USDT"],
  timeframe: "5m",
  timerange: "20250101-20250115",
  stake_amount: 100,
  dry_run_wallet: 1000,
  max_open_trades: 2,
  fee: 0.001,
  ...overrides,
});

async function startBacktestStack(name: string, backendEnv: Record<string, string>) {
  const dir = path.join(stateDir, name);
  const backtest = await spawnService({
    entry: "services/backtest/src/main.ts",
    portVariable: "BACKEND_PORT",
    env: {
      BACKEND_SQLITE_PATH: path.join(dir, "state.db"),
      BACKEND_RESULT_STORE: path.join(dir, "results"),
      BACKEND_STRATEGY_SERVICE_URL: strategyUrl,
      BACKEND_DATA_COLLECTION_URL: dataUrl,
      ...(mlflowUrl === undefined ? {} : { BACKEND_MLFLOW_TRACKING_URI: mlflowUrl }),
      ...telemetryEnv(),
      ...backendEnv,
    },
  });
  const gateway = await spawnService({
    entry: "gateway/src/main.ts",
    portVariable: "GATEWAY_PORT",
    env: {
      GATEWAY_BACKTEST_URL: backtest.url,
      GATEWAY_STRATEGY_URL: strategyUrl,
      GATEWAY_DATA_COLLECTION_URL: dataUrl,
      ...telemetryEnv(),
    },
  });
  running.push(backtest, gateway);
  return { backtest, gateway, dir };
}

async function post(base: string, body: unknown) {
  const response = await fetch(`${base}/api/v1/backtest`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** How many jobs the stack's store holds (through the gateway's list). */
async function jobCount(base: string): Promise<number> {
  const response = await fetch(`${base}/api/v1/backtests?page_size=500`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { backtests: unknown[] }).backtests.length;
}

async function waitForJob(base: string, jobId: string, statuses: string[], timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await (await fetch(`${base}/api/v1/backtests/${jobId}`)).json()) as Record<string, unknown>;
    if (statuses.includes(String(job.status))) return job;
    if (Date.now() > deadline)
      throw new Error(`job ${jobId} is ${JSON.stringify(job)}, expected ${statuses.join("|")}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  otlp = await startOtlpReceiver();
  simulator = await startBinanceSimulator();
  const data = await spawnService({
    entry: "services/data-collection/src/main.ts",
    portVariable: "DATA_COLLECTION_PORT",
    env: {
      DATA_COLLECTION_DATA_DIR: path.join(stateDir, "data"),
      DATA_COLLECTION_EXCHANGE_OVERRIDES: JSON.stringify({ binance: simulator.ccxtConfig() }),
      DATA_COLLECTION_RETRY_MAX_ATTEMPTS: "2",
      DATA_COLLECTION_RETRY_BASE_DELAY_MS: "50",
    },
  });
  const strategy = await spawnService({
    entry: "services/strategy/src/main.ts",
    portVariable: "STRATEGY_SERVICE_PORT",
    env: { STRATEGY_SERVICE_REGISTRY_DIR: path.join(stateDir, "registry") },
  });
  running.push(data, strategy);
  dataUrl = data.url;
  strategyUrl = strategy.url;
}, 60_000);

afterAll(async () => {
  await Promise.all(running.map((service) => service.stop()));
  await simulator?.close();
  await otlp?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

describe("LOCAL executor (worker processes, no Redis)", () => {
  let base: string;
  let backtestUrl: string;
  beforeAll(async () => {
    const stack = await startBacktestStack("local", { BACKEND_EXECUTOR_MODE: "LOCAL" });
    base = stack.gateway.url;
    backtestUrl = stack.backtest.url;
  }, 60_000);

  it("runs a submitted backtest to COMPLETED with a result, metrics and an MLflow run", async () => {
    const submitted = await post(base, submitBody({ idempotency_key: "flow-local-1" }));
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({ status: "QUEUED", existing: false });
    const jobId = String(submitted.body.job_id);
    const job = await waitForJob(base, jobId, ["COMPLETED", "FAILED"]);
    expect(job.error).toBeNull();
    expect(job.status).toBe("COMPLETED");
    expect(job.progress).toBe(100);
    const summary = job.summary as Record<string, number>;

    const result = (await (await fetch(`${base}/api/v1/backtests/${jobId}/result`)).json()) as {
      metrics: Record<string, number>;
      result: {
        strategy: Record<
          string,
          {
            total_trades: number;
            trades: { pair: string; profit_abs: number }[];
            starting_balance: number;
            final_balance: number;
            profit_total_abs: number;
          }
        >;
      };
    };
    const stats = result.result.strategy.SampleStrategy!;
    expect(stats.total_trades).toBe(stats.trades.length);
    expect(summary.total_trades).toBe(stats.total_trades);
    expect(stats.total_trades).toBeGreaterThan(0);
    // Hand-checkable identities of the result: profit is the sum of trade profits and the balance change.
    const tradeSum = stats.trades.reduce((sum, trade) => sum + trade.profit_abs, 0);
    expect(stats.profit_total_abs).toBeCloseTo(tradeSum, 6);
    expect(stats.final_balance - stats.starting_balance).toBeCloseTo(stats.profit_total_abs, 6);
    expect(new Set(stats.trades.map((trade) => trade.pair))).toEqual(new Set(["BTC/USDT", "ETH/USDT"]));

    if (mlflowUrl !== undefined) {
      expect(job.mlflow_run_id).toMatch(/^[0-9a-f]{32}$/);
      const mlflow = createMlflowClient({ baseUrl: mlflowUrl });
      const run = await mlflow.getRun(String(job.mlflow_run_id));
      const metric = (key: string) => run.data.metrics.find((item) => item.key === key)?.value;
      expect(metric("total_trades")).toBe(stats.total_trades);
      expect(metric("profit_total_abs")).toBeCloseTo(stats.profit_total_abs, 8);
      const tags = run.data.tags;
      expect(tags["tradai.job_id"]).toBe(jobId);
      expect(tags["tradai.strategy_version"]).toMatch(/^[0-9a-f]{64}$/);
      const params = run.data.params;
      expect(params.pairs).toBe("BTC/USDT,ETH/USDT");
      const artifacts = (await mlflow.listArtifacts(String(job.mlflow_run_id)))
        .map((file) => file.path)
        .sort();
      expect(artifacts).toEqual(["backtest-result.json", "equity.svg", "trades.csv"]);
    }

    // The same idempotency key returns the same job, without running it again.
    const again = await post(base, submitBody({ idempotency_key: "flow-local-1" }));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ job_id: jobId, existing: true, status: "COMPLETED" });
  });

  it("streams the job's changes as server-sent events until it finishes", async () => {
    const submitted = await post(base, submitBody({ timerange: "20250101-20250131" }));
    const response = await fetch(`${base}/api/v1/backtests/${String(submitted.body.job_id)}/events`);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const text = await response.text();
    const events = text
      .trim()
      .split("\n\n")
      .map((block) => ({
        event: /^event: (.*)$/m.exec(block)?.[1],
        data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "null") as Record<string, unknown>,
      }));
    expect(events.at(-1)?.event).toBe("end");
    const statuses = events.filter((event) => event.event === "job").map((event) => event.data.status);
    expect(statuses.at(-1)).toBe("COMPLETED");
    expect(statuses.length).toBeGreaterThanOrEqual(2);
  });

  it("rejects bad input naming the field, and leaves no job behind", async () => {
    const before = await jobCount(base);
    const unknownStrategy = await post(base, submitBody({ strategy: "NoSuchStrategy" }));
    expect(unknownStrategy.status).toBe(400);
    expect((unknownStrategy.body.errors as { field: string }[]).map((error) => error.field)).toContain(
      "strategy",
    );
    const inverted = await post(base, submitBody({ timerange: "20250201-20250101" }));
    expect(inverted.status).toBe(400);
    expect((inverted.body.errors as { field: string }[]).map((error) => error.field)).toEqual(["timerange"]);
    const unknownPair = await post(base, submitBody({ pairs: ["NOPE/USDT", "BTC/USDT"] }));
    expect(unknownPair.status).toBe(400);
    expect(unknownPair.body.code).toBe("invalid_argument");
    expect(unknownPair.body.errors).toEqual([
      {
        field: "pairs[0]",
        message: "unknown pair NOPE/USDT",
        expected: "a market listed by binance",
        found: "NOPE/USDT",
      },
    ]);
    expect(await jobCount(base)).toBe(before);
  });

  it("uses Freqtrade's defaults (stake_amount unlimited, max_open_trades 3) when the body leaves them out", async () => {
    const submitted = await post(
      base,
      submitBody({ stake_amount: undefined, max_open_trades: undefined, timerange: "20250103-20250110" }),
    );
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
    const job = await waitForJob(base, String(submitted.body.job_id), ["COMPLETED", "FAILED"]);
    expect(job.error).toBeNull();
    expect(job.status).toBe("COMPLETED");
    expect(job.config).toMatchObject({ stake_amount: "unlimited", max_open_trades: 3 });
  });

  it("rejects an unknown strategy version, out-of-range params and an empty timerange over REST, naming field, expected and found", async () => {
    const before = await jobCount(base);
    const cases: [Record<string, unknown>, string][] = [
      [{ strategy_version: "no-such-version" }, "strategy_version"],
      [{ params: { buyRsi: 999 } }, "params.buyRsi"],
      [{ timerange: "" }, "timerange"],
    ];
    for (const [overrides, field] of cases) {
      const response = await post(base, submitBody(overrides));
      expect(response.status, JSON.stringify(response.body)).toBe(400);
      expect(response.body.code).toBe("invalid_argument");
      const errors = response.body.errors as Record<string, string>[];
      const violation = errors.find((error) => error.field === field);
      expect(violation, JSON.stringify(errors)).toBeDefined();
      expect(violation?.expected ?? "").not.toBe("");
      expect(violation?.found ?? "").not.toBe("");
    }
    expect(await jobCount(base)).toBe(before);
  });

  it("rejects the same bad input over gRPC (Connect) with INVALID_ARGUMENT and the field violations in the error", async () => {
    const client = createServiceClient(BacktestService, backtestUrl, { timeoutMs: 20_000 });
    const config = {
      strategy: "SampleStrategy",
      exchange: "binance",
      pairs: ["BTC/USDT"],
      timeframe: "5m",
      timerange: "20250101-20250115",
      stakeAmount: "100",
      maxOpenTrades: 1,
    };
    const before = await jobCount(base);
    const cases: [Record<string, unknown>, string][] = [
      [{ strategyVersion: "no-such-version" }, "strategy_version"],
      [{ params: { buyRsi: 999 } }, "params.buyRsi"],
      [{ timerange: "" }, "timerange"],
      [{ strategy: "NoSuchStrategy" }, "strategy"],
      [{ timerange: "20250201-20250101" }, "timerange"],
      [{ pairs: ["BTC/USDT", "NOPE/USDT"] }, "pairs[1]"],
    ];
    for (const [overrides, field] of cases) {
      const error = await client.submitBacktest({ config: { ...config, ...overrides } }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.InvalidArgument);
      const violation = violationsOf(error as ConnectError).find((item) => item.field === field);
      expect(violation, (error as ConnectError).message).toBeDefined();
      // The same violations as a Connect error detail (google.protobuf.Struct), not only metadata.
      const [detail] = (error as ConnectError).findDetails(StructSchema);
      const fromDetail = (toJson(StructSchema, detail!) as { violations: Record<string, string>[] })
        .violations;
      expect(fromDetail.find((item) => item.field === field)).toEqual(violation);
      if (field !== "strategy") {
        expect(violation?.expected ?? "", field).not.toBe("");
        expect(violation?.found ?? "", field).not.toBe("");
      }
      if (field === "pairs[1]")
        expect(violation).toMatchObject({ expected: "a market listed by binance", found: "NOPE/USDT" });
    }
    expect(await jobCount(base)).toBe(before);
  });

  it("cancels a queued job", async () => {
    // One worker: the first job occupies it, the second waits and is cancelled.
    const first = await post(base, submitBody({ timerange: "20250101-20250120" }));
    const second = await post(base, submitBody({ timerange: "20250102-20250120" }));
    const cancelled = (await (
      await fetch(`${base}/api/v1/backtests/${String(second.body.job_id)}`, { method: "DELETE" })
    ).json()) as Record<string, unknown>;
    expect(cancelled.status).toBe("CANCELLED");
    await waitForJob(base, String(first.body.job_id), ["COMPLETED"]);
    const later = (await (
      await fetch(`${base}/api/v1/backtests/${String(second.body.job_id)}`)
    ).json()) as Record<string, unknown>;
    expect(later.status).toBe("CANCELLED");
    const cancelAgain = await fetch(`${base}/api/v1/backtests/${String(second.body.job_id)}`, {
      method: "DELETE",
    });
    expect(cancelAgain.status).toBe(412);
  });
});

describe.runIf(redisUrl)("QUEUE executor (BullMQ on Redis, separate worker process)", () => {
  let base: string;
  beforeAll(async () => {
    const queueName = `flow-${process.pid}-${Date.now()}`;
    const stack = await startBacktestStack("queue", {
      BACKEND_EXECUTOR_MODE: "QUEUE",
      BACKEND_REDIS_URL: redisUrl ?? "",
      BACKEND_QUEUE_NAME: queueName,
    });
    base = stack.gateway.url;
    const worker = runEntry({
      entry: "services/worker/src/main.ts",
      args: ["--queue"],
      env: {
        WORKER_REDIS_URL: redisUrl ?? "",
        WORKER_QUEUE_NAME: queueName,
        WORKER_SQLITE_PATH: path.join(stack.dir, "state.db"),
        WORKER_RESULT_STORE: path.join(stack.dir, "results"),
        WORKER_STRATEGY_SERVICE_URL: strategyUrl,
        WORKER_DATA_COLLECTION_URL: dataUrl,
        WORKER_LOG_LEVEL: "warn",
        ...(mlflowUrl === undefined ? {} : { WORKER_MLFLOW_TRACKING_URI: mlflowUrl }),
        ...telemetryEnv(),
      },
    });
    running.push({
      url: "",
      port: 0,
      process: worker.process,
      output: worker.output,
      stop: async () => {
        worker.process.kill("SIGTERM");
        return null;
      },
    });
  }, 60_000);

  it("runs a submitted backtest through the queue to COMPLETED", async () => {
    const submitted = await post(base, submitBody({ pairs: ["BTC/USDT"], timerange: "20250110-20250120" }));
    expect(submitted.status).toBe(202);
    const job = await waitForJob(base, String(submitted.body.job_id), ["COMPLETED", "FAILED"]);
    expect(job.error).toBeNull();
    expect(job.status).toBe("COMPLETED");
    expect(job.executor).toBe("QUEUE");
    expect((job.summary as Record<string, number>).total_trades).toBeGreaterThanOrEqual(0);
  });

  it("keeps one trace id from the gateway through the backtest service, the queue and the worker to MLflow", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const response = await fetch(`${base}/api/v1/backtest`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: `00-${traceId}-b7ad6b7169203331-01` },
      body: JSON.stringify(submitBody({ pairs: ["ETH/USDT"], timerange: "20250112-20250118" })),
    });
    const jobId = String(((await response.json()) as { job_id: string }).job_id);
    await waitForJob(base, jobId, ["COMPLETED"]);
    const wanted = [
      ["gateway", "POST /api/v1/backtest"],
      ["backtest", "tradai.backtest.v1.BacktestService/SubmitBacktest"],
      ["worker", "worker.run_job"],
      ...(mlflowUrl === undefined ? [] : [["worker", "mlflow.log_backtest"]]),
    ];
    // Spans arrive in batches (the OTLP exporter flushes every few seconds).
    const deadline = Date.now() + 20_000;
    let inTrace = otlp.spans.filter((span) => span.traceId === traceId);
    while (
      wanted.some(
        ([service, name]) => !inTrace.some((span) => span.service === service && span.name === name),
      ) &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      inTrace = otlp.spans.filter((span) => span.traceId === traceId);
    }
    for (const [service, name] of wanted) {
      expect(
        inTrace.some((span) => span.service === service && span.name === name),
        `${service}: ${name}`,
      ).toBe(true);
    }
    const byId = new Map(inTrace.map((span) => [span.spanId, span]));
    const workerSpan = inTrace.find((span) => span.name === "worker.run_job");
    // The worker's span is a child of the backtest service's span: the context crossed the queue.
    expect(byId.get(workerSpan?.parentSpanId ?? "")?.service).toBe("backtest");
    // And the backtest service's span is a child of the gateway's client call, under its request span.
    const submitSpan = inTrace.find(
      (span) => span.name === "tradai.backtest.v1.BacktestService/SubmitBacktest",
    );
    const gatewayClient = byId.get(submitSpan?.parentSpanId ?? "");
    expect(gatewayClient?.service).toBe("gateway");
    expect(byId.get(gatewayClient?.parentSpanId ?? "")?.name).toBe("POST /api/v1/backtest");
  });
});

describe("an executor that is not configured (dev mode)", () => {
  it("answers 412 naming the missing BACKEND_* variables, before validation and EnsureData, leaving no job", async () => {
    const stack = await startBacktestStack("unconfigured", { BACKEND_EXECUTOR_MODE: "ECS" });
    // An unknown strategy and an unknown pair: had validation or EnsureData run, they would answer 400/404.
    const simulatorRequests = simulator.requests.length;
    const response = await post(
      stack.gateway.url,
      submitBody({ strategy: "NoSuchStrategy", pairs: ["NOPE/USDT"], timerange: "20240101-20240201" }),
    );
    expect(response.status).toBe(412);
    expect(response.body.detail).toBe(
      "backtests are disabled: executor ECS is not configured: expected BACKEND_ECS_CLUSTER, BACKEND_ECS_SUBNETS, BACKEND_ECS_SECURITY_GROUPS, BACKEND_ECS_TASK_DEFINITION, BACKEND_AWS_REGION to be set, got nothing",
    );
    expect((response.body.errors as { field: string }[]).map((error) => error.field)).toEqual([
      "BACKEND_ECS_CLUSTER",
      "BACKEND_ECS_SUBNETS",
      "BACKEND_ECS_SECURITY_GROUPS",
      "BACKEND_ECS_TASK_DEFINITION",
      "BACKEND_AWS_REGION",
    ]);
    const list = (await (await fetch(`${stack.gateway.url}/api/v1/backtests`)).json()) as {
      backtests: unknown[];
    };
    expect(list.backtests).toEqual([]);
    // No data was downloaded for it: the exchange was not asked anything.
    expect(simulator.requests.length).toBe(simulatorRequests);

    // The same over gRPC: FAILED_PRECONDITION, the missing variables as violations in the details.
    const client = createServiceClient(BacktestService, stack.backtest.url, { timeoutMs: 20_000 });
    const error = await client
      .submitBacktest({
        config: {
          strategy: "SampleStrategy",
          exchange: "binance",
          pairs: ["BTC/USDT"],
          timeframe: "5m",
          timerange: "20250101-20250115",
          stakeAmount: "100",
          maxOpenTrades: 1,
        },
      })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.FailedPrecondition);
    const [detail] = (error as ConnectError).findDetails(StructSchema);
    const violations = (toJson(StructSchema, detail!) as { violations: Record<string, string>[] }).violations;
    expect(violations.map((violation) => violation.field)).toEqual([
      "BACKEND_ECS_CLUSTER",
      "BACKEND_ECS_SUBNETS",
      "BACKEND_ECS_SECURITY_GROUPS",
      "BACKEND_ECS_TASK_DEFINITION",
      "BACKEND_AWS_REGION",
    ]);
    expect(violations[0]).toMatchObject({
      expected: "BACKEND_ECS_CLUSTER set for executor ECS",
      found: "nothing",
    });
    expect(await jobCount(stack.gateway.url)).toBe(0);
    expect(simulator.requests.length).toBe(simulatorRequests);
  }, 60_000);
});

describe("QUEUE executor with Redis unreachable", () => {
  it("answers 503 fast and leaves no job behind", async () => {
    const stack = await startBacktestStack("redis-down", {
      BACKEND_EXECUTOR_MODE: "QUEUE",
      BACKEND_REDIS_URL: "redis://127.0.0.1:1",
    });
    // Data the LOCAL tests already downloaded: what is timed is the queue, not a download.
    const body = submitBody({ pairs: ["BTC/USDT"], timerange: "20250110-20250120" });
    await post(stack.gateway.url, body); // warms up the connections and EnsureData's cache
    const started = Date.now();
    const response = await post(stack.gateway.url, body);
    const elapsed = Date.now() - started;
    expect(response.status, JSON.stringify(response.body)).toBe(503);
    expect(response.body.code).toBe("unavailable");
    expect(String(response.body.detail)).toContain(
      "the backtest queue (Redis at 127.0.0.1:1) is unreachable",
    );
    expect(elapsed).toBeLessThan(5_000);
    expect(await jobCount(stack.gateway.url)).toBe(0);
  }, 60_000);
});

describe("LOCAL executor after a restart of the backtest service", () => {
  it("runs the QUEUED job a stopped instance never dispatched, and fails an orphaned RUNNING one", async () => {
    // First instance: its worker pool never becomes ready (a stand-in worker that ignores jobs), so
    // the submitted job stays QUEUED when the instance stops.
    const stalledWorker = path.join(stateDir, "stalled-worker.mjs");
    writeFileSync(
      stalledWorker,
      'process.on("message", (m) => { if (m.type === "shutdown") process.exit(0); });\n',
    );
    const first = await startBacktestStack("restart", {
      BACKEND_EXECUTOR_MODE: "LOCAL",
      BACKEND_WORKER_ENTRY: stalledWorker,
    });
    const submitted = await post(first.gateway.url, submitBody({ timerange: "20250104-20250112" }));
    expect(submitted.status).toBe(202);
    const jobId = String(submitted.body.job_id);
    await first.backtest.stop();
    await first.gateway.stop();
    // A job its previous instance left RUNNING, whose worker process is gone (a pid that has exited).
    const orphanPid = spawnSync(process.execPath, ["-e", ""]).pid;
    const store = createSqliteWorkflowStateRepository({ path: path.join(first.dir, "state.db") });
    expect((await store.get(jobId))?.status).toBe("QUEUED");
    const { job: orphaned } = await store.create({
      config: (await store.get(jobId))!.config,
      executor: "LOCAL/SUBPROCESS",
    });
    await store.transition(orphaned.jobId, { to: "RUNNING", workerId: `${hostname()}:${orphanPid}` });
    await store.close();
    const orphanId = orphaned.jobId;

    // Second instance on the same store, with real workers.
    const second = await startBacktestStack("restart", { BACKEND_EXECUTOR_MODE: "LOCAL" });
    const job = await waitForJob(second.gateway.url, jobId, ["COMPLETED", "FAILED"]);
    expect(job.error).toBeNull();
    expect(job.status).toBe("COMPLETED");
    const orphan = await waitForJob(second.gateway.url, orphanId, ["FAILED", "COMPLETED"]);
    expect(orphan.status).toBe("FAILED");
    expect(orphan.error).toBe(
      `worker ${hostname()}:${orphanPid} is gone: the backtest service restarted while the job ran; submit it again to re-run it`,
    );
  }, 120_000);
});
