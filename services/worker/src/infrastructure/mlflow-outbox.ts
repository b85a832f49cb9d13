// MLflow unreachable must not lose a run's tracking (issue #6, "Bad input"): a backtest whose
// MLflow logging failed is written to an outbox directory (one JSON file per job, written
// atomically) and logged later by `drain()`, which the worker runs at start and periodically.
// A drained run's id is recorded on the job.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Logger } from "@tradai/common";
import type { RunTracker, TrackedBacktest } from "../core/backtest-work";
import type { WorkflowStateRepository } from "../ports";

export interface MlflowOutboxOptions {
  directory: string;
  tracker: RunTracker;
  repository: WorkflowStateRepository;
  logger: Logger;
}

export interface MlflowOutbox {
  enqueue(tracked: TrackedBacktest): void;
  /** Logs every pending run; returns how many were logged (failures stay for the next drain). */
  drain(): Promise<number>;
  pending(): string[];
}

export function createMlflowOutbox(options: MlflowOutboxOptions): MlflowOutbox {
  const directory = path.resolve(options.directory);
  const pending = () => {
    try {
      return readdirSync(directory)
        .filter((name) => name.endsWith(".json"))
        .sort();
    } catch {
      return [];
    }
  };
  let draining: Promise<number> | undefined;
  return {
    enqueue(tracked) {
      mkdirSync(directory, { recursive: true });
      const target = path.join(directory, `${tracked.message.jobId}.json`);
      const temporary = `${target}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify(tracked));
      renameSync(temporary, target);
      options.logger.warn(
        { job_id: tracked.message.jobId, outbox: target },
        "MLflow logging deferred to the outbox",
      );
    },
    pending,
    drain() {
      draining ??= (async () => {
        let logged = 0;
        try {
          for (const name of pending()) {
            const file = path.join(directory, name);
            let tracked: TrackedBacktest;
            try {
              tracked = JSON.parse(readFileSync(file, "utf8")) as TrackedBacktest;
            } catch (error) {
              options.logger.error({ file, err: error }, "unreadable MLflow outbox entry; left in place");
              continue;
            }
            try {
              const runId = await options.tracker.logBacktest(tracked);
              await options.repository.annotate(tracked.message.jobId, { mlflowRunId: runId });
              rmSync(file, { force: true });
              logged += 1;
            } catch (error) {
              options.logger.warn(
                { job_id: tracked.message.jobId, err: error },
                "MLflow still unreachable; will retry",
              );
              break;
            }
          }
        } finally {
          draining = undefined;
        }
        return logged;
      })();
      return draining;
    },
  };
}
