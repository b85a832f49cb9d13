// LOCAL/DOCKER executor: each job runs in a fresh container of the worker image, started through
// the Docker Engine API (the spec's compose override mounts the Docker socket into the backend for
// this). The job travels in the command line (`--job <json>`), like the ECS container override.
// A container that exits non-zero without finishing its job is reported lost, with its last logs.
import type { Logger } from "@tradai/common";
import {
  encodeJobMessage,
  type BacktestJobMessage,
  type BacktestJobSubmitter,
  type SubmissionReceipt,
} from "../core/backtest-job-submitter";
import { createDockerEngineClient, DockerEngineError } from "./docker-engine-client";

export interface LocalDockerSubmitterOptions {
  /** Docker socket; default /var/run/docker.sock. */
  socketPath?: string;
  /** The worker image, e.g. "tradai/worker:latest". */
  image: string;
  /** Command before `--job <json>`; default ["node", "dist/main.mjs"] (the worker image's entry). */
  command?: string[];
  workingDir?: string;
  /** Env for the worker container (state store, data dir, MLflow URI, ...). */
  env?: Record<string, string>;
  binds?: string[];
  /** Default "host", so loopback URLs of the local stack work inside the container. */
  networkMode?: string;
  user?: string;
  logger: Logger;
  /** Called when a job's container exits non-zero (the service marks the job FAILED if it still runs). */
  onJobLost(jobId: string, reason: string): Promise<void> | void;
}

export function createLocalDockerSubmitter(options: LocalDockerSubmitterOptions): BacktestJobSubmitter {
  const docker = createDockerEngineClient({ socketPath: options.socketPath ?? "/var/run/docker.sock" });
  const containers = new Map<string, string>();
  const watching = new Set<Promise<void>>();

  const watch = (jobId: string, id: string) => {
    const done = (async () => {
      try {
        const exitCode = await docker.waitContainer(id);
        if (exitCode !== 0) {
          const logs = await docker.logs(id, 20).catch(() => "");
          await options.onJobLost(
            jobId,
            `worker container exited with code ${exitCode}: ${logs.trim().split("\n").slice(-3).join(" | ")}`,
          );
        }
        await docker.removeContainer(id).catch(() => undefined);
      } catch (error) {
        options.logger.warn({ job_id: jobId, err: error }, "lost track of the job's container");
      } finally {
        containers.delete(jobId);
      }
    })();
    watching.add(done);
    void done.finally(() => watching.delete(done));
  };

  return {
    executor: "LOCAL/DOCKER",
    async submit(message: BacktestJobMessage): Promise<SubmissionReceipt> {
      const name = `tradai-job-${message.jobId}`;
      let id: string;
      try {
        id = await docker.createContainer({
          name,
          image: options.image,
          cmd: [
            ...(options.command ?? ["node", "dist/main.mjs"]),
            "--job",
            JSON.stringify(encodeJobMessage(message)),
          ],
          env: options.env ?? {},
          ...(options.workingDir === undefined ? {} : { workingDir: options.workingDir }),
          binds: options.binds ?? [],
          networkMode: options.networkMode ?? "host",
          labels: { "tradai.job_id": message.jobId, "tradai.component": "worker" },
          ...(options.user === undefined ? {} : { user: options.user }),
        });
      } catch (error) {
        if (error instanceof DockerEngineError && error.statusCode === 409) {
          // Already created for this job (a resubmission): idempotent.
          return { executor: "LOCAL/DOCKER", reference: name };
        }
        throw error;
      }
      await docker.startContainer(id);
      containers.set(message.jobId, id);
      watch(message.jobId, id);
      return { executor: "LOCAL/DOCKER", reference: id };
    },
    async cancel(jobId: string, reference?: string): Promise<void> {
      const id = containers.get(jobId) ?? reference;
      if (id !== undefined) await docker.killContainer(id).catch(() => undefined);
    },
    // The job's container (recorded reference, else its name) still runs.
    isWorkerAlive: (job) =>
      docker.isRunning(
        job.executionId !== undefined && /^[0-9a-f]{12,64}$/.test(job.executionId)
          ? job.executionId
          : `tradai-job-${job.jobId}`,
      ),
    check: () => docker.ping(),
    async close(): Promise<void> {
      await Promise.race([Promise.all(watching), new Promise((resolve) => setTimeout(resolve, 100))]);
    },
  };
}
