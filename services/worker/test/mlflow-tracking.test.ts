// MLflow tracking of a backtest against the real MLflow server, and what happens when MLflow is
// unreachable: the job completes, its tracking waits in the outbox, and a later drain logs it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createSqliteWorkflowStateRepository } from "@tradai/backtest";
import { createLogger } from "@tradai/common";
import { candlesFromRows, sampleStrategy, type CandleSeries } from "@tradai/engine";
import { createMlflowClient } from "@tradai/mlflow";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../../test/support/test-stack";
import { createBacktestWork } from "../src/core/backtest-work";
import { createJobRunner } from "../src/core/job-runner";
import {
  createMlflowOutbox,
  createOutboxStore,
  defaultOutboxLocation,
  type OutboxStore,
} from "../src/infrastructure/mlflow-outbox";
import { ensureBucket, listObjects } from "@tradai/aws";
import { motoClients, uniqueName } from "../../../test/support/moto-fixtures";
import { createMlflowRunTracker } from "../src/infrastructure/mlflow-run-tracker";
import { createResultStore } from "@tradai/backtest";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { testBacktestConfig } from "../../backtest/test/support/backtest-config-fixture";

const mlflowUrl = process.env.TRADAI_TEST_MLFLOW_URL;
const logger = createLogger({ service: "test", level: process.env.TEST_LOG_LEVEL ?? "silent" });
const dir = mkdtempSync(path.join(tmpdir(), "tradai-mlflow-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const seed = path.resolve(
  path.dirname(new URL(import.meta.url).pathname),
  "../../../data/seed/binance_BTC_USDT-5m.csv.gz",
);
function seedCandles(): CandleSeries {
  const rows = gunzipSync(readFileSync(seed))
    .toString("utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => line.split(",").map(Number));
  return candlesFromRows(rows);
}

const config = testBacktestConfig({ strategy: "SampleStrategy", strategy_version: "v-test", fee: 0.001 });

describe.runIf(mlflowUrl)("MLflow tracking of backtests", () => {
  const repository = createSqliteWorkflowStateRepository({ path: path.join(dir, "state.db") });
  const candles = seedCandles();
  const work = (trackerUrl: string, outboxLocation: string | OutboxStore) => {
    const tracker = createMlflowRunTracker({
      client: createMlflowClient({ baseUrl: trackerUrl, maxRetries: trackerUrl === mlflowUrl ? 3 : 0 }),
      experimentPrefix: `tradai-test-${process.pid}/`,
    });
    const outbox = createMlflowOutbox({
      store: typeof outboxLocation === "string" ? createOutboxStore(outboxLocation) : outboxLocation,
      tracker,
      repository,
      logger,
    });
    return {
      outbox,
      runner: createJobRunner({
        repository,
        workerId: "test-worker",
        logger,
        work: createBacktestWork({
          strategies: { load: async () => sampleStrategy },
          candles: { load: async () => candles },
          results: createResultStore(path.join(dir, "results")),
          tracker,
          deferTracking: (tracked) => outbox.enqueue(tracked),
          logger,
        }),
      }),
    };
  };

  it("logs params, every summary metric, tags and the three artifacts", async () => {
    const { runner } = work(mlflowUrl ?? "", path.join(dir, "outbox-a"));
    const { job } = await repository.create({ config });
    expect(
      await runner.run(
        { jobId: job.jobId, config, traceHeaders: {} },
        { signal: new AbortController().signal, reportProgress: () => undefined },
      ),
    ).toBe("completed");
    const done = await repository.get(job.jobId);
    const client = createMlflowClient({ baseUrl: mlflowUrl ?? "" });
    const run = await client.getRun(done?.mlflowRunId ?? "");
    const metrics = new Map(run.data.metrics.map((metric) => [metric.key, metric.value]));
    for (const metric of done?.summary ?? []) {
      if (Number.isFinite(metric.value))
        expect(metrics.get(metric.name), metric.name).toBeCloseTo(metric.value, 9);
    }
    expect(run.data.params.timerange).toBe("20250101-20250201");
    expect(run.data.tags["tradai.job_id"]).toBe(job.jobId);
    expect(run.info.status).toBe("FINISHED");
    const csv = new TextDecoder().decode(await client.downloadArtifact(run.info.runId, "trades.csv"));
    expect(csv.split("\n")[0]).toBe(
      "pair,is_short,open_date,close_date,open_rate,close_rate,amount,stake_amount,profit_ratio,profit_abs,exit_reason,enter_tag,leverage",
    );
    expect(csv.trim().split("\n").length - 1).toBe(metrics.get("total_trades"));
    const svg = new TextDecoder().decode(await client.downloadArtifact(run.info.runId, "equity.svg"));
    expect(svg).toMatch(/^<svg /);
  });

  it("completes the job when MLflow is down, then logs the deferred run once MLflow answers", async () => {
    const outboxDir = path.join(dir, "outbox-b");
    const down = work(`http://127.0.0.1:${await freePort()}`, outboxDir);
    const { job } = await repository.create({ config });
    expect(
      await down.runner.run(
        { jobId: job.jobId, config, traceHeaders: {} },
        { signal: new AbortController().signal, reportProgress: () => undefined },
      ),
    ).toBe("completed");
    const completed = await repository.get(job.jobId);
    expect(completed?.status).toBe("COMPLETED");
    expect(completed?.mlflowRunId).toBeUndefined();
    expect(await down.outbox.pending()).toEqual([`${job.jobId}.json`]);
    // Still down: nothing is lost, the entry stays.
    expect(await down.outbox.drain()).toBe(0);
    expect(await down.outbox.pending()).toHaveLength(1);
    // MLflow back: the same outbox directory, drained by a worker that can reach it.
    const up = work(mlflowUrl ?? "", outboxDir);
    expect(await up.outbox.drain()).toBe(1);
    expect(await up.outbox.pending()).toEqual([]);
    const annotated = await repository.get(job.jobId);
    expect(annotated?.mlflowRunId).toMatch(/^[0-9a-f]{32}$/);
    const run = await createMlflowClient({ baseUrl: mlflowUrl ?? "" }).getRun(annotated?.mlflowRunId ?? "");
    expect(run.data.tags["tradai.job_id"]).toBe(job.jobId);
  });

  it.runIf(process.env.TRADAI_TEST_MOTO_URL)(
    "keeps the deferred run in S3 beside an S3 result store, and a later worker drains and removes it",
    async () => {
      const aws = motoClients();
      try {
        const bucket = uniqueName("results").toLowerCase();
        await ensureBucket(aws.s3, bucket);
        // The worker's default outbox with WORKER_RESULT_STORE=s3://<bucket>/backtests (WORKER_MLFLOW_OUTBOX_DIR unset).
        const location = defaultOutboxLocation(`s3://${bucket}/backtests`);
        expect(location).toBe(`s3://${bucket}/backtests/mlflow-outbox/`);
        const keys = async () =>
          (await listObjects(aws.s3, { bucket, prefix: "backtests/mlflow-outbox/" })).map((item) => item.key);

        const down = work(
          `http://127.0.0.1:${await freePort()}`,
          createOutboxStore(location, () => aws),
        );
        const { job } = await repository.create({ config });
        expect(
          await down.runner.run(
            { jobId: job.jobId, config, traceHeaders: {} },
            { signal: new AbortController().signal, reportProgress: () => undefined },
          ),
        ).toBe("completed");
        expect((await repository.get(job.jobId))?.mlflowRunId).toBeUndefined();
        // The entry is an S3 object, not a file on the (ephemeral) task disk.
        expect(await keys()).toEqual([`backtests/mlflow-outbox/${job.jobId}.json`]);
        expect(await down.outbox.drain()).toBe(0);
        expect(await keys()).toHaveLength(1);

        // Another worker (a later Fargate task) on the same location, with MLflow reachable.
        const up = work(
          mlflowUrl ?? "",
          createOutboxStore(location, () => aws),
        );
        expect(await up.outbox.pending()).toEqual([`${job.jobId}.json`]);
        expect(await up.outbox.drain()).toBe(1);
        expect(await keys()).toEqual([]);
        const annotated = await repository.get(job.jobId);
        expect(annotated?.mlflowRunId).toMatch(/^[0-9a-f]{32}$/);
        const run = await createMlflowClient({ baseUrl: mlflowUrl ?? "" }).getRun(
          annotated?.mlflowRunId ?? "",
        );
        expect(run.data.tags["tradai.job_id"]).toBe(job.jobId);
      } finally {
        aws.destroy();
      }
    },
    60_000,
  );
});
