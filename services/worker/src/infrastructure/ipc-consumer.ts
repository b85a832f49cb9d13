// The worker side of the LOCAL/SUBPROCESS pool: jobs arrive over Node IPC from the backtest
// service's pool, one at a time; progress and completion go back the same way.
import { decodeJobMessage, type JobHandler, type PoolToWorker, type WorkerToPool } from "@tradai/backtest";
import type { Logger } from "@tradai/common";

export function runIpcConsumer(handler: JobHandler, logger: Logger): Promise<void> {
  if (process.send === undefined)
    throw new Error("--ipc needs a parent process with an IPC channel (the LOCAL worker pool)");
  const reply = (message: WorkerToPool) => process.send?.(message);
  const running = new Map<string, AbortController>();
  let shuttingDown = false;

  return new Promise((resolve) => {
    const finishIfIdle = () => {
      if (shuttingDown && running.size === 0) {
        process.off("message", onMessage);
        // No process.disconnect() here: with a reply still in flight Node 20 crashes in it
        // (kPendingMessages on a null channel); the process exits right after instead.
        resolve();
      }
    };
    const onMessage = (raw: PoolToWorker) => {
      if (raw.type === "shutdown") {
        shuttingDown = true;
        for (const controller of running.values()) controller.abort(new Error("worker shutting down"));
        finishIfIdle();
        return;
      }
      if (raw.type === "cancel") {
        running.get(raw.jobId)?.abort(new Error("cancelled"));
        return;
      }
      let jobId = "unknown";
      try {
        const message = decodeJobMessage(raw.job);
        jobId = message.jobId;
        const controller = new AbortController();
        running.set(jobId, controller);
        void handler(message, {
          signal: controller.signal,
          reportProgress: (percent, stage) =>
            reply({ type: "progress", jobId: message.jobId, percent, stage }),
        })
          .then(
            () => reply({ type: "done", jobId: message.jobId }),
            (error: unknown) =>
              reply({
                type: "done",
                jobId: message.jobId,
                error: error instanceof Error ? error.message : String(error),
              }),
          )
          .finally(() => {
            running.delete(message.jobId);
            finishIfIdle();
          });
      } catch (error) {
        logger.error({ err: error }, "bad job message from the pool");
        reply({ type: "done", jobId, error: error instanceof Error ? error.message : String(error) });
      }
    };
    process.on("message", onMessage);
    reply({ type: "ready" });
  });
}
