// One contract for every WorkflowStateRepository (CONVENTIONS.md "one contract suite per
// interface"), run against real engines: SQLite (a temp file), PostgreSQL
// (TRADAI_TEST_POSTGRES_URL, a random schema per test) and DynamoDB (moto:
// a single-threaded moto_server, a random table per test — see support/serial-moto-server.ts).
// Engines whose URL (TRADAI_TEST_POSTGRES_URL, TRADAI_TEST_MOTO_URL) is not set are skipped.
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { Code } from "@connectrpc/connect";
import { DomainError } from "@tradai/common";
import type { BacktestConfig, BacktestJob } from "../src/core/backtest-job";
import {
  JobConflictError,
  JobNotFoundError,
  type WorkflowStateRepository,
} from "../src/core/workflow-state-repository";
import { WORKFLOW_STATE_FIXTURES, type RepositoryPair } from "./support/workflow-state-fixtures";

const config = (strategy = "SampleStrategy", overrides: Partial<BacktestConfig> = {}): BacktestConfig => ({
  strategy,
  strategy_version: "",
  exchange: "binance",
  pairs: ["BTC/USDT", "ETH/USDT"],
  timeframe: "5m",
  timerange: "20240101-20240301",
  stake_amount: "unlimited",
  dry_run_wallet: 1000,
  max_open_trades: 3,
  fee: 0.001,
  params: { buy_rsi: 30, use_ema: true, nested: { periods: [9, 21] } },
  stake_currency: "USDT",
  timeframe_detail: "",
  ...overrides,
});

/** Expects the promise to reject with a JobConflictError and returns it. */
async function conflictOf(promise: Promise<unknown>): Promise<JobConflictError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(JobConflictError);
  return error as JobConflictError;
}

const START = Date.UTC(2026, 0, 1, 12, 0, 0);

describe.each(WORKFLOW_STATE_FIXTURES)("WorkflowStateRepository on $name", (fixture) => {
  let pair: RepositoryPair;
  let repository: WorkflowStateRepository;
  let peer: WorkflowStateRepository;
  let now = START;
  const clock = () => now;

  beforeEach(async (context) => {
    if (fixture.unavailable !== undefined) {
      context.skip(fixture.unavailable);
      return;
    }
    now = START;
    pair = await fixture.open(clock);
    repository = pair.repository;
    peer = pair.peer;
  });

  afterEach(async () => {
    if (fixture.unavailable === undefined) await pair.dispose();
  });

  afterAll(async () => {
    await fixture.teardown?.();
  });

  it("creates a QUEUED job and reads it back field for field", async () => {
    const { job, existing } = await repository.create({ config: config(), executor: "LOCAL" });
    expect(existing).toBe(false);
    expect(job.status).toBe("QUEUED");
    expect(job.jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(job.createdAt.getTime()).toBe(START);
    expect(job.progress).toBe(0);
    expect(job.attempts).toBe(0);
    expect(job.executor).toBe("LOCAL");
    const read = await peer.get(job.jobId);
    expect(read).toEqual(job);
    expect(read?.config).toEqual(config());
    expect(await repository.get("no-such-job")).toBeUndefined();
  });

  it("returns the existing job for a repeated idempotency key, and only then", async () => {
    const first = await repository.create({ config: config(), idempotencyKey: "client-key-1" });
    now += 1000;
    const second = await peer.create({ config: config("OtherStrategy"), idempotencyKey: "client-key-1" });
    expect(second.existing).toBe(true);
    expect(second.job.jobId).toBe(first.job.jobId);
    expect(second.job.config.strategy).toBe("SampleStrategy");
    expect(second.job.idempotencyKey).toBe("client-key-1");
    const other = await repository.create({ config: config(), idempotencyKey: "client-key-2" });
    const unkeyed = [
      await repository.create({ config: config() }),
      await repository.create({ config: config() }),
    ];
    const ids = new Set([first.job.jobId, other.job.jobId, ...unkeyed.map((result) => result.job.jobId)]);
    expect(ids.size).toBe(4);
    expect((await repository.list()).jobs).toHaveLength(4);
  });

  it("finds a job by idempotency key, and deletes a job freeing its key", async () => {
    const { job } = await repository.create({ config: config(), idempotencyKey: "refused-key" });
    const other = (await repository.create({ config: config() })).job;
    expect((await peer.findByIdempotencyKey("refused-key"))?.jobId).toBe(job.jobId);
    expect(await peer.findByIdempotencyKey("unknown-key")).toBeUndefined();

    expect(await peer.delete(job.jobId)).toBe(true);
    expect(await repository.delete(job.jobId)).toBe(false);
    expect(await repository.get(job.jobId)).toBeUndefined();
    expect(await repository.findByIdempotencyKey("refused-key")).toBeUndefined();
    expect(await repository.delete(other.jobId)).toBe(true);
    expect((await repository.list()).jobs).toEqual([]);

    const again = await repository.create({ config: config("Again"), idempotencyKey: "refused-key" });
    expect(again.existing).toBe(false);
    expect(again.job.jobId).not.toBe(job.jobId);
  });

  it("gives one job to concurrent submissions with the same idempotency key", async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        (index % 2 === 0 ? repository : peer).create({ config: config(), idempotencyKey: "raced-key" }),
      ),
    );
    expect(new Set(results.map((result) => result.job.jobId)).size).toBe(1);
    expect(results.filter((result) => !result.existing)).toHaveLength(1);
    expect((await repository.list()).jobs).toHaveLength(1);
  });

  it("settles each of many concurrent creates on its own: one duplicate job id fails, the rest are stored", async () => {
    const first = await repository.create({ config: config(), jobId: "job-fixed-id" });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, index) =>
        repository.create(
          index === 5
            ? { config: config(), jobId: first.job.jobId }
            : { config: config(`Strategy${index}`), idempotencyKey: `key-${index % 6}` },
        ),
      ),
    );
    expect(outcomes[5]?.status).toBe("rejected");
    const stored = outcomes.filter((outcome) => outcome.status === "fulfilled");
    expect(stored).toHaveLength(11);
    // Keys 0-4 are used twice and key 5 once (index 5 is the duplicate id): six new jobs, five repeats.
    const created = stored.filter((outcome) => !outcome.value.existing);
    expect(created).toHaveLength(6);
    expect((await repository.list()).jobs).toHaveLength(7);
    expect((await repository.get(first.job.jobId))?.config?.strategy).toBe("SampleStrategy");
  });

  it("runs the happy path QUEUED → RUNNING → COMPLETED with progress, summary and result", async () => {
    const { job } = await repository.create({ config: config() });
    now += 500;
    const running = await peer.transition(job.jobId, { to: "RUNNING", workerId: "worker-a" });
    expect(running.status).toBe("RUNNING");
    expect(running.workerId).toBe("worker-a");
    expect(running.startedAt?.getTime()).toBe(START + 500);
    expect(running.attempts).toBe(1);
    expect(running.version).toBe(job.version + 1);

    now += 500;
    const progressed = await repository.updateProgress(job.jobId, {
      progress: 42.5,
      stage: "simulating",
      workerId: "worker-a",
    });
    expect(progressed.progress).toBe(42.5);
    expect(progressed.stage).toBe("simulating");
    expect(progressed.updatedAt.getTime()).toBe(START + 1000);

    now += 500;
    const summary = [
      { name: "profit_total", value: 0.1234 },
      { name: "profit_factor", value: Number.POSITIVE_INFINITY },
      { name: "sortino", value: Number.NEGATIVE_INFINITY },
      { name: "calmar", value: Number.NaN },
    ];
    const completed = await peer.transition(job.jobId, {
      to: "COMPLETED",
      workerId: "worker-a",
      summary,
      resultUri: "s3://results/job.json",
    });
    expect(completed.status).toBe("COMPLETED");
    expect(completed.progress).toBe(100);
    expect(completed.finishedAt?.getTime()).toBe(START + 1500);
    expect(completed.resultUri).toBe("s3://results/job.json");
    const read = await repository.get(job.jobId);
    expect(read?.summary).toEqual(summary);
    expect(read?.status).toBe("COMPLETED");
  });

  it("refuses moves the lifecycle does not allow, naming expected and actual status", async () => {
    const { job } = await repository.create({ config: config() });
    const early = await conflictOf(repository.transition(job.jobId, { to: "COMPLETED" }));
    expect(early.code).toBe(Code.FailedPrecondition);
    expect(early.expectedStatuses).toEqual(["RUNNING"]);
    expect(early.actualStatus).toBe("QUEUED");
    expect(early.message).toContain("expected status RUNNING, got QUEUED");

    await repository.transition(job.jobId, { to: "RUNNING", workerId: "w1" });
    await repository.transition(job.jobId, { to: "FAILED", error: "data missing for BTC/USDT" });
    const afterFinal = await conflictOf(repository.transition(job.jobId, { to: "CANCELLED" }));
    expect(afterFinal.actualStatus).toBe("FAILED");
    await conflictOf(repository.transition(job.jobId, { to: "RUNNING", workerId: "w2" }));
    await conflictOf(repository.updateProgress(job.jobId, { progress: 10 }));
    const read = await repository.get(job.jobId);
    expect(read?.status).toBe("FAILED");
    expect(read?.error).toBe("data missing for BTC/USDT");
  });

  it("validates requests: FAILED needs an error, RUNNING a worker, progress 0..100", async () => {
    const { job } = await repository.create({ config: config() });
    await expect(repository.transition(job.jobId, { to: "RUNNING" })).rejects.toThrow(/worker_id: expected/);
    await repository.transition(job.jobId, { to: "RUNNING", workerId: "w1" });
    await expect(repository.transition(job.jobId, { to: "FAILED" })).rejects.toThrow(/error: expected/);
    const outOfRange = await repository
      .updateProgress(job.jobId, { progress: 101 })
      .catch((error: unknown) => error);
    expect(outOfRange).toBeInstanceOf(DomainError);
    expect((outOfRange as DomainError).code).toBe(Code.InvalidArgument);
    expect((outOfRange as DomainError).message).toBe("progress: expected a number in 0..100, got 101");
    expect((await repository.get(job.jobId))?.status).toBe("RUNNING");
  });

  it("cancels a QUEUED job, and a RUNNING one so that its worker is told to stop", async () => {
    const queued = (await repository.create({ config: config() })).job;
    const cancelledEarly = await repository.transition(queued.jobId, {
      to: "CANCELLED",
      error: "user request",
    });
    expect(cancelledEarly.status).toBe("CANCELLED");
    expect(cancelledEarly.error).toBe("user request");
    await conflictOf(peer.transition(queued.jobId, { to: "RUNNING", workerId: "late-worker" }));

    const running = (await repository.create({ config: config() })).job;
    await peer.transition(running.jobId, { to: "RUNNING", workerId: "w1" });
    await repository.transition(running.jobId, { to: "CANCELLED" });
    const progressConflict = await conflictOf(
      peer.updateProgress(running.jobId, { progress: 50, workerId: "w1" }),
    );
    expect(progressConflict.actualStatus).toBe("CANCELLED");
    expect(progressConflict.message).toContain("cannot report progress");
    const completeConflict = await conflictOf(
      peer.transition(running.jobId, { to: "COMPLETED", workerId: "w1" }),
    );
    expect(completeConflict.actualStatus).toBe("CANCELLED");
  });

  it("fails a QUEUED job that could not be launched", async () => {
    const { job } = await repository.create({ config: config() });
    now += 100;
    const failed = await peer.transition(job.jobId, { to: "FAILED", error: "RunTask: no capacity" });
    expect(failed.status).toBe("FAILED");
    expect(failed.error).toBe("RunTask: no capacity");
    expect(failed.finishedAt?.getTime()).toBe(START + 100);
    expect(failed.startedAt).toBeUndefined();
    expect(failed.attempts).toBe(0);
  });

  it("only lets the worker holding a job finish it; a requeued job is claimed again", async () => {
    const { job } = await repository.create({ config: config() });
    await repository.transition(job.jobId, { to: "RUNNING", workerId: "w1" });
    const wrongWorker = await conflictOf(peer.transition(job.jobId, { to: "COMPLETED", workerId: "w2" }));
    expect(wrongWorker.message).toContain("expected worker w2, got w1");
    await conflictOf(peer.updateProgress(job.jobId, { progress: 5, workerId: "w2" }));

    const requeued = await repository.transition(job.jobId, {
      to: "QUEUED",
      workerId: "w1",
      error: "worker w1 stalled",
    });
    expect(requeued.status).toBe("QUEUED");
    expect(requeued.workerId).toBeUndefined();
    const reclaimed = await peer.transition(job.jobId, { to: "RUNNING", workerId: "w2" });
    expect(reclaimed.attempts).toBe(2);
    expect(reclaimed.workerId).toBe("w2");
    await conflictOf(repository.transition(job.jobId, { to: "COMPLETED", workerId: "w1" }));
    const done = await peer.transition(job.jobId, { to: "COMPLETED", workerId: "w2" });
    expect(done.status).toBe("COMPLETED");
  });

  it("narrows the allowed source status with `from`", async () => {
    const { job } = await repository.create({ config: config() });
    await repository.transition(job.jobId, { to: "RUNNING", workerId: "w1" });
    const conflict = await conflictOf(repository.transition(job.jobId, { to: "CANCELLED", from: "QUEUED" }));
    expect(conflict.expectedStatuses).toEqual(["QUEUED"]);
    expect(conflict.actualStatus).toBe("RUNNING");
    await expect(repository.transition(job.jobId, { to: "COMPLETED", from: "QUEUED" })).rejects.toThrow(
      /from: expected a subset of RUNNING/,
    );
  });

  it("reports unknown jobs as not found", async () => {
    const error = await repository
      .transition("missing-job", { to: "CANCELLED" })
      .catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(JobNotFoundError);
    expect((error as JobNotFoundError).code).toBe(Code.NotFound);
    await expect(repository.annotate("missing-job", { executor: "ECS" })).rejects.toBeInstanceOf(
      JobNotFoundError,
    );
    await expect(repository.updateProgress("missing-job", { progress: 1 })).rejects.toBeInstanceOf(
      JobNotFoundError,
    );
  });

  it("annotates executor, execution handle and MLflow run id without touching the status", async () => {
    const { job } = await repository.create({ config: config() });
    const annotated = await peer.annotate(job.jobId, {
      executor: "ECS",
      executionId: "arn:aws:ecs:us-east-1:123456789012:task/tradai/abc",
    });
    expect(annotated.status).toBe("QUEUED");
    await repository.transition(job.jobId, { to: "RUNNING", workerId: "w1" });
    await repository.transition(job.jobId, { to: "COMPLETED", workerId: "w1" });
    await repository.annotate(job.jobId, { mlflowRunId: "0123456789abcdef" });
    const read = await peer.get(job.jobId);
    expect(read?.executor).toBe("ECS");
    expect(read?.executionId).toBe("arn:aws:ecs:us-east-1:123456789012:task/tradai/abc");
    expect(read?.mlflowRunId).toBe("0123456789abcdef");
    expect(read?.status).toBe("COMPLETED");
  });

  it("lists newest first with strategy, status and creation-time filters", async () => {
    const created: BacktestJob[] = [];
    for (let index = 0; index < 8; index++) {
      now = START + index * 60_000;
      created.push((await repository.create({ config: config(index % 2 === 0 ? "Alpha" : "Beta") })).job);
    }
    const [job0, job1, job2, job3] = created as [BacktestJob, BacktestJob, BacktestJob, BacktestJob];
    await repository.transition(job0.jobId, { to: "RUNNING", workerId: "w" });
    await repository.transition(job2.jobId, { to: "CANCELLED" });
    await repository.transition(job3.jobId, { to: "RUNNING", workerId: "w" });

    const all = await peer.list();
    expect(all.jobs.map((job) => job.jobId)).toEqual(created.map((job) => job.jobId).reverse());
    expect(all.nextPageToken).toBeUndefined();

    const alpha = await peer.list({ strategy: "Alpha" });
    expect(alpha.jobs.map((job) => job.createdAt.getTime())).toEqual(
      [6, 4, 2, 0].map((i) => START + i * 60_000),
    );

    const running = await peer.list({ status: "RUNNING" });
    expect(running.jobs.map((job) => job.jobId)).toEqual([job3.jobId, job0.jobId]);
    const finishedOrRunning = await peer.list({ status: ["RUNNING", "CANCELLED"], strategy: "Alpha" });
    expect(finishedOrRunning.jobs.map((job) => job.jobId)).toEqual([job2.jobId, job0.jobId]);

    // [START + 1 min, START + 4 min): jobs 1, 2, 3 — from inclusive, to exclusive.
    const window = await peer.list({
      createdFrom: new Date(START + 60_000),
      createdTo: new Date(START + 4 * 60_000),
    });
    expect(window.jobs.map((job) => job.jobId)).toEqual([job3.jobId, job2.jobId, job1.jobId]);
    const beta = await peer.list({ strategy: "Beta", createdFrom: new Date(START + 2 * 60_000) });
    expect(beta.jobs.map((job) => job.createdAt.getTime())).toEqual([7, 5, 3].map((i) => START + i * 60_000));
  });

  it("pages with a cursor: every job exactly once, ties on creation time included", async () => {
    const ids: string[] = [];
    for (let index = 0; index < 11; index++) {
      now = START + Math.floor(index / 3) * 1000; // three jobs share each millisecond
      ids.push((await repository.create({ config: config(index % 3 === 0 ? "Alpha" : "Beta") })).job.jobId);
    }
    const seen: BacktestJob[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await peer.list({ pageSize: 4, ...(pageToken === undefined ? {} : { pageToken }) });
      seen.push(...result.jobs);
      pageToken = result.nextPageToken;
      if (pageToken === undefined) break;
    }
    expect(seen).toHaveLength(11);
    expect(new Set(seen.map((job) => job.jobId))).toEqual(new Set(ids));
    const times = seen.map((job) => job.createdAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));

    const betaPages: string[] = [];
    pageToken = undefined;
    for (let page = 0; page < 10; page++) {
      const result = await repository.list({
        strategy: "Beta",
        pageSize: 3,
        ...(pageToken === undefined ? {} : { pageToken }),
      });
      betaPages.push(...result.jobs.map((job) => job.jobId));
      pageToken = result.nextPageToken;
      if (pageToken === undefined) break;
    }
    expect(betaPages.sort()).toEqual(ids.filter((_, index) => index % 3 !== 0).sort());
  });

  it("finds sparse matches among more jobs than one read returns", async () => {
    const rare: string[] = [];
    for (let index = 0; index < 130; index++) {
      now = START + index;
      const strategy = [5, 60, 125].includes(index) ? "Rare" : "Common";
      const { job } = await repository.create({ config: config(strategy) });
      if (strategy === "Rare") rare.unshift(job.jobId);
    }
    const first = await peer.list({ strategy: "Rare", pageSize: 2 });
    expect(first.jobs.map((job) => job.jobId)).toEqual(rare.slice(0, 2));
    expect(first.nextPageToken).toBeDefined();
    const second = await peer.list({ strategy: "Rare", pageSize: 2, pageToken: first.nextPageToken });
    expect(second.jobs.map((job) => job.jobId)).toEqual(rare.slice(2));
    expect(second.nextPageToken).toBeUndefined();
  });

  it("rejects a bad page token or page size, naming the field", async () => {
    await expect(repository.list({ pageToken: "not-a-token" })).rejects.toThrow(
      'page_token: expected a token returned by a previous page, got "not-a-token"',
    );
    await expect(repository.list({ pageSize: 0 })).rejects.toThrow(
      "page_size: expected an integer in 1..1000, got 0",
    );
  });

  it("lets exactly one of many racing workers claim a job, and one of two racing writers complete it", async () => {
    for (let round = 0; round < 3; round++) {
      const { job } = await repository.create({ config: config() });
      const workers = Array.from({ length: 6 }, (_, index) => `worker-${round}-${index}`);
      const claims = await Promise.allSettled(
        workers.map((workerId, index) =>
          (index % 2 === 0 ? repository : peer).transition(job.jobId, { to: "RUNNING", workerId }),
        ),
      );
      const winners = claims.flatMap((claim) => (claim.status === "fulfilled" ? [claim.value] : []));
      expect(winners).toHaveLength(1);
      for (const claim of claims) {
        if (claim.status === "rejected") expect(claim.reason).toBeInstanceOf(JobConflictError);
      }
      const holder = winners[0]?.workerId;
      expect((await repository.get(job.jobId))?.workerId).toBe(holder);
      expect((await repository.get(job.jobId))?.attempts).toBe(1);

      // The holder's redelivered twin and the holder both try to finish: one COMPLETED, one conflict.
      const finishes = await Promise.allSettled([
        repository.transition(job.jobId, {
          to: "COMPLETED",
          workerId: holder,
          summary: [{ name: "a", value: 1 }],
        }),
        peer.transition(job.jobId, { to: "FAILED", workerId: holder, error: "twin failed" }),
      ]);
      const finished = finishes.filter((finish) => finish.status === "fulfilled");
      expect(finished).toHaveLength(1);
      const loser = finishes.find((finish) => finish.status === "rejected");
      expect(loser?.status === "rejected" ? loser.reason : undefined).toBeInstanceOf(JobConflictError);
      const final = await peer.get(job.jobId);
      expect(final?.status).toBe(finished[0]?.status === "fulfilled" ? finished[0].value.status : "none");
      expect(final?.version).toBe(3);
    }
  });
});
