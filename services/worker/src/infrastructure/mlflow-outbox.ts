// MLflow unreachable must not lose a run's tracking (issue #6, "Bad input"): a backtest whose
// MLflow logging failed is written to an outbox (one JSON entry per job) and logged later by
// `drain()`, which the worker runs at start, periodically and before a one-shot worker exits.
// A drained run's id is recorded on the job. The outbox lives where the results live: a directory
// (entries written atomically) or, beside an S3 result store, an S3 prefix — a Fargate task's disk
// goes with the task, so a directory there would lose every run still waiting at exit.
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  deleteObject,
  getObjectText,
  listObjects,
  parseS3Uri,
  putObject,
  type AwsClients,
} from "@tradai/aws";
import type { Logger } from "@tradai/common";
import type { RunTracker, TrackedBacktest } from "../core/backtest-work";
import type { WorkflowStateRepository } from "../ports";

/** Where outbox entries are kept: named JSON texts. */
export interface OutboxStore {
  /** Where it is, for logs. */
  readonly location: string;
  put(name: string, text: string): Promise<void>;
  /** Entry names, oldest job first by name order. */
  list(): Promise<string[]>;
  /** undefined when the entry is gone (drained by another worker). */
  get(name: string): Promise<string | undefined>;
  remove(name: string): Promise<void>;
}

export function createDirectoryOutboxStore(directory: string): OutboxStore {
  const root = path.resolve(directory);
  return {
    location: root,
    async put(name, text) {
      await mkdir(root, { recursive: true });
      const target = path.join(root, name);
      const temporary = `${target}.${process.pid}.tmp`;
      await writeFile(temporary, text);
      await rename(temporary, target);
    },
    async list() {
      try {
        return (await readdir(root)).filter((name) => name.endsWith(".json")).sort();
      } catch {
        return [];
      }
    },
    async get(name) {
      try {
        return await readFile(path.join(root, name), "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
    },
    async remove(name) {
      await rm(path.join(root, name), { force: true });
    },
  };
}

/** An outbox under s3://bucket/prefix/ (each entry one object; S3 PUTs are atomic). */
export function createS3OutboxStore(aws: AwsClients, uri: string): OutboxStore {
  const { bucket, key } = parseS3Uri(uri.endsWith("/") ? uri : `${uri}/`);
  return {
    location: `s3://${bucket}/${key}`,
    async put(name, text) {
      await putObject(aws.s3, { bucket, key: `${key}${name}`, body: text, contentType: "application/json" });
    },
    async list() {
      const objects = await listObjects(aws.s3, { bucket, prefix: key });
      return objects
        .map((object) => object.key.slice(key.length))
        .filter((name) => name.endsWith(".json") && !name.includes("/"))
        .sort();
    },
    get: (name) => getObjectText(aws.s3, { bucket, key: `${key}${name}` }),
    async remove(name) {
      await deleteObject(aws.s3, { bucket, key: `${key}${name}` });
    },
  };
}

/** The outbox store for a location: s3://bucket/prefix/ (needs `aws`) or a directory. */
export function createOutboxStore(location: string, aws?: () => AwsClients): OutboxStore {
  if (location.startsWith("s3://")) {
    if (aws === undefined) throw new Error("an s3:// MLflow outbox needs AWS settings");
    return createS3OutboxStore(aws(), location);
  }
  return createDirectoryOutboxStore(location);
}

/**
 * The default outbox location (WORKER_MLFLOW_OUTBOX_DIR unset): beside the results —
 * <result store>/mlflow-outbox for a directory, s3://<results prefix>/mlflow-outbox/ for S3.
 */
export function defaultOutboxLocation(resultStore: string): string {
  if (resultStore.startsWith("s3://"))
    return `${resultStore.endsWith("/") ? resultStore : `${resultStore}/`}mlflow-outbox/`;
  return path.join(resultStore, "mlflow-outbox");
}

export interface MlflowOutboxOptions {
  store: OutboxStore;
  tracker: RunTracker;
  repository: WorkflowStateRepository;
  logger: Logger;
}

export interface MlflowOutbox {
  enqueue(tracked: TrackedBacktest): Promise<void>;
  /** Logs every pending run; returns how many were logged (failures stay for the next drain). */
  drain(): Promise<number>;
  pending(): Promise<string[]>;
}

export function createMlflowOutbox(options: MlflowOutboxOptions): MlflowOutbox {
  const { store } = options;
  let draining: Promise<number> | undefined;
  return {
    async enqueue(tracked) {
      const name = `${tracked.message.jobId}.json`;
      await store.put(name, JSON.stringify(tracked));
      options.logger.warn(
        { job_id: tracked.message.jobId, outbox: `${store.location}/${name}` },
        "MLflow logging deferred to the outbox",
      );
    },
    pending: () => store.list(),
    drain() {
      draining ??= (async () => {
        let logged = 0;
        try {
          let names: string[];
          try {
            names = await store.list();
          } catch (error) {
            options.logger.warn(
              { outbox: store.location, err: error },
              "cannot list the MLflow outbox; will retry",
            );
            return 0;
          }
          for (const name of names) {
            let tracked: TrackedBacktest;
            try {
              const text = await store.get(name);
              if (text === undefined) continue;
              tracked = JSON.parse(text) as TrackedBacktest;
            } catch (error) {
              options.logger.error(
                { entry: name, outbox: store.location, err: error },
                "unreadable MLflow outbox entry; left in place",
              );
              continue;
            }
            try {
              const runId = await options.tracker.logBacktest(tracked);
              await options.repository.annotate(tracked.message.jobId, { mlflowRunId: runId });
              await store.remove(name);
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
