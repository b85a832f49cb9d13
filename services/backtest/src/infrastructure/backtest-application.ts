// The backtest service's wiring, apart from transport and config loading (main.ts): the executor
// from ExecutorFactory, whose lost or queue-failed jobs go to BacktestService.jobLost, and the
// recovery run at start-up and periodically. Tests build the service through it, so the wiring
// main.ts runs is the wiring they check.
import type { Logger } from "@tradai/common";
import type { BacktestJobSubmitter } from "../core/backtest-job-submitter";
import {
  createBacktestService,
  type BacktestServiceCore,
  type BacktestServiceDeps,
} from "../core/backtest-service";
import { ExecutorFactory, type ExecutorSettings } from "./executor-factory";

export interface BacktestApplicationOptions extends Omit<BacktestServiceDeps, "submitter"> {
  executor: ExecutorSettings;
  logger: Logger;
  /** How often QUEUE jobs are reconciled with the queue after start-up; default 5 min. */
  reconcileIntervalMs?: number;
  /** Jobs younger than this are not reconciled (a submission may be in flight); default 60 s. */
  reconcileGraceMs?: number;
}

export interface BacktestApplication {
  service: BacktestServiceCore;
  submitter: BacktestJobSubmitter;
  /**
   * Start-up recovery: LOCAL re-dispatches QUEUED jobs and fails orphaned RUNNING ones; QUEUE fails
   * the jobs the queue failed or lost while no instance listened (then again every interval).
   */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createBacktestApplication(options: BacktestApplicationOptions): BacktestApplication {
  const { executor, reconcileIntervalMs, reconcileGraceMs, ...deps } = options;
  const logger = options.logger;
  // The service needs the submitter and the submitter reports lost jobs to the service: the
  // callback looks the service up when a job is lost, after both exist.
  const wired: { service?: BacktestServiceCore } = {};
  const submitter = ExecutorFactory.createOrUnconfigured(executor, {
    logger,
    onJobLost: (jobId, reason) => wired.service?.jobLost(jobId, reason),
  });
  const core = createBacktestService({ ...deps, submitter });
  wired.service = core;
  let timer: NodeJS.Timeout | undefined;
  const reconcile = () =>
    core
      .reconcile(reconcileGraceMs)
      .then(() => undefined)
      .catch((error: unknown) => logger.error({ err: error }, "reconciling QUEUE jobs failed"));
  return {
    service: core,
    submitter,
    async start() {
      await core
        .recover()
        .catch((error: unknown) => logger.error({ err: error }, "start-up recovery of LOCAL jobs failed"));
      if (submitter.queuedJobState === undefined) return;
      await reconcile();
      timer = setInterval(() => void reconcile(), reconcileIntervalMs ?? 5 * 60_000);
      timer.unref();
    },
    async close() {
      clearInterval(timer);
      await submitter.close();
    },
  };
}
