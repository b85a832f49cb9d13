// `--job` mode (ECS, Step Functions, SQS → ECS, LOCAL/DOCKER): a real worker process runs one job
// from WORKER_JOB or --job and continues the submitter's trace; before exiting it drains the MLflow
// outbox for a bounded time (real MLflow behind a proxy that is down, then up).
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import {
  createResultStore,
  createSqliteWorkflowStateRepository,
  type WorkflowStateRepository,
} from "@tradai/backtest";
import { createLogger } from "@tradai/common";
import { candlesFromRows, sampleStrategy } from "@tradai/engine";
import { createMlflowClient } from "@tradai/mlflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOtlpReceiver } from "../../../test/support/otlp-receiver";
import { exited, runEntry } from "../../../test/support/spawn-service";
import { createBacktestWork } from "../src/core/backtest-work";
import { createJobRunner } from "../src/core/job-runner";
import { createMlflowOutbox, createOutboxStore } from "../src/infrastructure/mlflow-outbox";
import { createMlflowRunTracker } from "../src/infrastructure/mlflow-run-tracker";
import { drainBeforeExit, oneShotTraceParent, runOneShotJob } from "../src/infrastructure/one-shot-job";
import { testBacktestConfig } from "../../backtest/test/support/backtest-config-fixture";

const logger = createLogger({ service: "test", level: "silent" });
const config = testBacktestConfig({ strategy: "SampleStrategy", strategy_version: "v-test", fee: 0.001 });

let dir: string;
let repository: WorkflowStateRepository;
let dbPath: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "tradai-one-shot-"));
  dbPath = path.join(dir, "state.db");
  repository = createSqliteWorkflowStateRepository({ path: dbPath });
});
afterAll(async () => {
  await repository.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("oneShotTraceParent", () => {
  const message = {
    jobId: "j",
    config,
    traceHeaders: { traceparent: "00-11111111111111111111111111111111-2222222222222222-01" },
  };
  it("prefers TRACEPARENT/TRACESTATE from the env (the closest parent), else the job's trace", () => {
    const fromEnv = oneShotTraceParent(message, {
      TRACEPARENT: "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01",
      TRACESTATE: "vendor=x",
    });
    expect(fromEnv.get("traceparent")).toBe("00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01");
    expect(fromEnv.get("tracestate")).toBe("vendor=x");
    const fromJob = oneShotTraceParent(message, { TRACEPARENT: "" });
    expect(fromJob.get("traceparent")).toBe("00-11111111111111111111111111111111-2222222222222222-01");
    expect(fromJob.get("tracestate")).toBeNull();
  });
});

describe("--job mode in a real worker process", () => {
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  beforeAll(async () => {
    otlp = await startOtlpReceiver();
  });
  afterAll(() => otlp.close());

  const runWorker = async (args: string[], env: Record<string, string>) => {
    const worker = runEntry({
      entry: "services/worker/src/main.ts",
      args,
      env: {
        WORKER_WORK: "noop",
        WORKER_SQLITE_PATH: dbPath,
        WORKER_LOG_LEVEL: "info",
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        TRACEPARENT: "",
        TRACESTATE: "",
        WORKER_JOB: "",
        ...env,
      },
    });
    const code = await exited(worker.process);
    return { code, output: worker.output };
  };

  it("runs the job from WORKER_JOB (the ECS path) to COMPLETED, continuing TRACEPARENT from the env", async () => {
    const { job } = await repository.create({ config });
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const parentSpanId = "00f067aa0ba902b7";
    const result = await runWorker([], {
      WORKER_JOB: JSON.stringify({ job_id: job.jobId, config, trace: {} }),
      TRACEPARENT: `00-${traceId}-${parentSpanId}-01`,
    });
    expect(result.code, result.output.join("\n")).toBe(0);
    const done = await repository.get(job.jobId);
    expect(done?.status).toBe("COMPLETED");
    expect(done?.progress).toBe(100);
    // The worker flushes its spans at exit.
    const span = otlp.spans.find((item) => item.name === "worker.run_job" && item.traceId === traceId);
    expect(span?.service).toBe("worker");
    expect(span?.parentSpanId).toBe(parentSpanId);
  }, 60_000);

  it("runs the job from --job and continues the trace carried in the job message", async () => {
    const { job } = await repository.create({ config });
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const parentSpanId = "b7ad6b7169203331";
    const result = await runWorker(
      [
        "--job",
        JSON.stringify({
          job_id: job.jobId,
          config,
          trace: { traceparent: `00-${traceId}-${parentSpanId}-01` },
        }),
      ],
      {},
    );
    expect(result.code, result.output.join("\n")).toBe(0);
    expect((await repository.get(job.jobId))?.status).toBe("COMPLETED");
    const span = otlp.spans.find((item) => item.name === "worker.run_job" && item.traceId === traceId);
    expect(span?.parentSpanId).toBe(parentSpanId);
  }, 60_000);

  it("exits 1 with the job FAILED when the job's work fails", async () => {
    const { job } = await repository.create({ config });
    // The backtest work against a strategy service that is not there: the job fails, with the reason.
    const result = await runWorker([], {
      WORKER_WORK: "backtest",
      WORKER_STRATEGY_SERVICE_URL: "http://127.0.0.1:9",
      WORKER_JOB: JSON.stringify({ job_id: job.jobId, config, trace: {} }),
    });
    expect(result.code).toBe(1);
    const failed = await repository.get(job.jobId);
    expect(failed?.status).toBe("FAILED");
    expect(failed?.error).not.toBeNull();
    expect(failed?.error ?? "").not.toBe("");
  }, 60_000);
});

/** An HTTP proxy to MLflow that answers 503 until `up` is set: MLflow down, then back. */
async function startSwitchableProxy(target: string) {
  const targetUrl = new URL(target);
  const state = { up: false };
  const server: Server = createServer((incoming, outgoing) => {
    if (!state.up) {
      incoming.resume();
      outgoing.writeHead(503, { "content-type": "text/plain" }).end("mlflow down");
      return;
    }
    const forwarded = httpRequest(
      {
        host: targetUrl.hostname,
        port: targetUrl.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: targetUrl.host },
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    forwarded.on("error", () => outgoing.writeHead(502).end());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const mlflowUrl = process.env.TRADAI_TEST_MLFLOW_URL;

describe.runIf(mlflowUrl)("MLflow outbox drained before a one-shot worker exits (real MLflow)", () => {
  const seed = path.resolve(
    path.dirname(new URL(import.meta.url).pathname),
    "../../../data/seed/binance_BTC_USDT-5m.csv.gz",
  );
  const candles = candlesFromRows(
    gunzipSync(readFileSync(seed))
      .toString("utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => line.split(",").map(Number)),
  );
  let proxy: Awaited<ReturnType<typeof startSwitchableProxy>>;
  beforeAll(async () => {
    proxy = await startSwitchableProxy(mlflowUrl ?? "");
  });
  afterAll(() => proxy.close());

  const setUp = (outboxDir: string) => {
    const tracker = createMlflowRunTracker({
      client: createMlflowClient({ baseUrl: proxy.url, maxRetries: 0 }),
      experimentPrefix: `tradai-test-${process.pid}/`,
    });
    const outbox = createMlflowOutbox({ store: createOutboxStore(outboxDir), tracker, repository, logger });
    const runner = createJobRunner({
      repository,
      workerId: "one-shot-test",
      logger,
      work: createBacktestWork({
        strategies: { load: async () => sampleStrategy },
        candles: { load: async () => candles },
        results: createResultStore(path.join(dir, "results")),
        tracker,
        deferTracking: (tracked) => outbox.enqueue(tracked),
        logger,
      }),
    });
    return { outbox, runner };
  };

  it("logs the deferred run once MLflow comes back within the drain time, and records its run id", async () => {
    proxy.state.up = false;
    const { outbox, runner } = setUp(path.join(dir, "outbox-up"));
    const { job } = await repository.create({ config });
    // MLflow comes back 2 s after the job started (while the worker is draining before its exit).
    const timer = setTimeout(() => (proxy.state.up = true), 2_000);
    try {
      const outcome = await runOneShotJob({
        runner,
        message: { jobId: job.jobId, config, traceHeaders: {} },
        env: {},
        signal: new AbortController().signal,
        outbox,
        drainTimeoutMs: 30_000,
        logger,
      });
      expect(outcome).toBe("completed");
    } finally {
      clearTimeout(timer);
    }
    expect(await outbox.pending()).toEqual([]);
    const annotated = await repository.get(job.jobId);
    expect(annotated?.status).toBe("COMPLETED");
    expect(annotated?.mlflowRunId).toMatch(/^[0-9a-f]{32}$/);
    const run = await createMlflowClient({ baseUrl: mlflowUrl ?? "" }).getRun(annotated?.mlflowRunId ?? "");
    expect(run.data.tags["tradai.job_id"]).toBe(job.jobId);
  }, 90_000);

  it("gives up after the drain time while MLflow stays down, leaving the run in the outbox", async () => {
    proxy.state.up = false;
    const { outbox, runner } = setUp(path.join(dir, "outbox-down"));
    const { job } = await repository.create({ config });
    const outcome = await runner.run(
      { jobId: job.jobId, config, traceHeaders: {} },
      { signal: new AbortController().signal, reportProgress: () => undefined },
    );
    expect(outcome).toBe("completed");
    const started = Date.now();
    const left = await drainBeforeExit({ outbox, logger, timeoutMs: 1_500, retryIntervalMs: 200 });
    const elapsed = Date.now() - started;
    expect(left).toEqual([`${job.jobId}.json`]);
    expect(elapsed).toBeGreaterThanOrEqual(1_400);
    expect(elapsed).toBeLessThan(15_000);
    expect((await repository.get(job.jobId))?.mlflowRunId).toBeUndefined();
  }, 60_000);
});
