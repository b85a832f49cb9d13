// `--job` mode (ECS task, Step Functions task, SQS → backtest-consumer → ECS, LOCAL/DOCKER, a
// Kubernetes Job): one job, then exit. Two things the long-running modes get for free need care here:
//   - the trace: the submitter's context arrives as TRACEPARENT/TRACESTATE in the container env (the
//     ECS overrides, the consumer Lambda) and/or in the job message's `trace` field; the job's span
//     continues it instead of starting a new trace (issue #6: one trace id from the gateway to MLflow).
//   - the MLflow outbox: a run whose logging was deferred would otherwise wait for the next worker
//     start on the same volume; the worker tries to drain it for a bounded time before it exits.
import type { BacktestJobMessage, JobContext } from "@tradai/backtest";
import { inSpan, type Logger } from "@tradai/common";
import type { JobRunner } from "../core/job-runner";

/**
 * The parent trace context of a one-shot job: TRACEPARENT (and TRACESTATE) from the env when set —
 * the closest parent, e.g. the consumer Lambda that started the task — else the job message's own.
 */
export function oneShotTraceParent(
  message: BacktestJobMessage,
  env: Record<string, string | undefined>,
): Headers {
  const headers = new Headers();
  const traceparent = env.TRACEPARENT ?? "";
  if (traceparent !== "") {
    headers.set("traceparent", traceparent);
    const tracestate = env.TRACESTATE ?? "";
    if (tracestate !== "") headers.set("tracestate", tracestate);
    return headers;
  }
  for (const [key, value] of Object.entries(message.traceHeaders)) headers.set(key, value);
  return headers;
}

/** What the one-shot path needs of the MLflow outbox. */
export interface DrainableOutbox {
  drain(): Promise<number>;
  pending(): Promise<string[]>;
}

export interface DrainBeforeExitOptions {
  outbox: DrainableOutbox;
  /** Longest the worker keeps trying; default 10 s. */
  timeoutMs?: number;
  /** Pause between two attempts; default 1 s. */
  retryIntervalMs?: number;
  logger: Logger;
}

/**
 * Drains the outbox, retrying until it is empty or `timeoutMs` passed; logs what remains (those
 * runs are logged by the next worker that starts on the same outbox directory, which must therefore
 * be a persistent volume). Returns the entries left behind.
 */
export async function drainBeforeExit(options: DrainBeforeExitOptions): Promise<string[]> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retryIntervalMs = options.retryIntervalMs ?? 1_000;
  const deadline = Date.now() + timeoutMs;
  let logged = 0;
  const pending = () => options.outbox.pending().catch(() => ["(outbox unreadable)"]);
  while ((await pending()).length > 0) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    let timer: NodeJS.Timeout | undefined;
    const attempt = await Promise.race([
      options.outbox.drain().then((count) => ({ count })),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), remaining);
      }),
    ]).finally(() => clearTimeout(timer));
    if (attempt === undefined) break;
    logged += attempt.count;
    if ((await pending()).length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(retryIntervalMs, deadline - Date.now())));
  }
  const left = await pending();
  if (logged > 0) options.logger.info({ logged }, "deferred MLflow runs logged before exit");
  if (left.length > 0)
    options.logger.warn(
      { pending: left, timeout_ms: timeoutMs },
      `${left.length} deferred MLflow run(s) still in the outbox at exit; the next worker started on the same outbox directory logs them`,
    );
  return left;
}

export interface OneShotJobOptions {
  runner: JobRunner;
  message: BacktestJobMessage;
  env: Record<string, string | undefined>;
  signal: AbortSignal;
  outbox?: DrainableOutbox;
  drainTimeoutMs?: number;
  logger: Logger;
}

/** Runs the job in a span continuing the submitter's trace, then drains the outbox; resolves with the outcome. */
export async function runOneShotJob(
  options: OneShotJobOptions,
): Promise<Awaited<ReturnType<JobRunner["run"]>>> {
  const context: JobContext = { signal: options.signal, reportProgress: () => undefined };
  const outcome = await inSpan(
    "worker.run_job",
    async (span) => {
      span.setAttribute("tradai.job_id", options.message.jobId);
      return options.runner.run(options.message, context);
    },
    oneShotTraceParent(options.message, options.env),
  );
  if (options.outbox !== undefined)
    await drainBeforeExit({
      outbox: options.outbox,
      logger: options.logger,
      ...(options.drainTimeoutMs === undefined ? {} : { timeoutMs: options.drainTimeoutMs }),
    });
  return outcome;
}
