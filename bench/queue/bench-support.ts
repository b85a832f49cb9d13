// Small helpers of the queue benchmark: flags, percentiles, bounded concurrency, paced submission,
// waiting with a deadline, the PASS/MISS lines, and CPU accounting per process.
import { readFileSync } from "node:fs";
import { redisConnection } from "@tradai/backtest";
import { Queue } from "bullmq";

export interface QueueBenchFlags {
  /** No-op jobs per throughput run. */
  jobs: number;
  /** Submissions in flight at once (one producer). */
  submitConcurrency: number;
  /** BullMQ worker concurrency of the in-process worker (and of the baseline worker). */
  workerConcurrency: number;
  /** Worker processes (services/worker/src/main.ts --queue) for the out-of-process run. */
  workerProcesses: number;
  /** WORKER_CONCURRENCY of each worker process. */
  processConcurrency: number;
  /** Jobs of the paced latency run. */
  latencyJobs: number;
  /** Submissions per second of the paced latency runs (one run per rate). */
  latencyRates: number[];
  /** Requests per gateway run. */
  requests: number;
  /** HTTP requests in flight at once. */
  httpConcurrency: number;
  stateStore: "sqlite" | "postgres";
  /** Real end-to-end backtests measured in (d), after one warm-up. */
  backtestRuns: number;
  /** Measurements to leave out: throughput, processes, latency, gateway, backtest. */
  skip: ReadonlySet<string>;
  /** Profile the services during the POST run (node --cpu-prof) and print where their CPU goes. */
  cpuProfile: boolean;
}

const SKIPPABLE = ["throughput", "processes", "latency", "gateway", "backtest"];

function integerFlag(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`--${name}: expected an integer in ${min}..${max}, got "${raw}"`);
  }
  return value;
}

export function parseFlags(argv: readonly string[]): QueueBenchFlags {
  const flags: QueueBenchFlags = {
    jobs: 5000,
    submitConcurrency: 64,
    workerConcurrency: 64,
    workerProcesses: 2,
    processConcurrency: 32,
    latencyJobs: 1000,
    latencyRates: [200, 1000],
    requests: 2000,
    httpConcurrency: 32,
    backtestRuns: 5,
    stateStore: "sqlite",
    skip: new Set(),
    cpuProfile: false,
  };
  const integers: Record<string, [keyof QueueBenchFlags, number, number]> = {
    jobs: ["jobs", 1, 1_000_000],
    "submit-concurrency": ["submitConcurrency", 1, 4096],
    "worker-concurrency": ["workerConcurrency", 1, 4096],
    "worker-processes": ["workerProcesses", 1, 16],
    "process-concurrency": ["processConcurrency", 1, 64],
    "latency-jobs": ["latencyJobs", 10, 1_000_000],
    requests: ["requests", 1, 1_000_000],
    "http-concurrency": ["httpConcurrency", 1, 1024],
    "backtest-runs": ["backtestRuns", 1, 100],
  };
  for (const argument of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(argument);
    if (!match) throw new Error(`expected a flag like --jobs=5000, got "${argument}"`);
    const [, name = "", value = ""] = match;
    const integer = integers[name];
    if (integer !== undefined) {
      const [key, min, max] = integer;
      (flags as unknown as Record<string, number>)[key] = integerFlag(name, value, min, max);
    } else if (name === "latency-rate") {
      flags.latencyRates = value.split(",").map((item) => integerFlag(name, item, 1, 100_000));
    } else if (name === "cpu-prof" && value === "") {
      flags.cpuProfile = true;
    } else if (name === "state-store") {
      if (value !== "sqlite" && value !== "postgres")
        throw new Error(`--state-store: expected sqlite or postgres, got "${value}"`);
      flags.stateStore = value;
    } else if (name === "skip") {
      const names = value.split(",").filter((item) => item !== "");
      for (const item of names) {
        if (!SKIPPABLE.includes(item))
          throw new Error(`--skip: expected a comma list of ${SKIPPABLE.join(", ")}, got "${item}"`);
      }
      flags.skip = new Set(names);
    } else {
      throw new Error(
        `unknown flag --${name}: expected one of ${[...Object.keys(integers), "latency-rate", "state-store", "skip", "cpu-prof"].map((flag) => `--${flag}`).join(", ")}`,
      );
    }
  }
  return flags;
}

/** The q-th percentile (0..100) by nearest rank; NaN for no samples. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((q / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] as number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

export const formatLatency = (summary: LatencySummary) =>
  `p50 ${summary.p50.toFixed(1)} ms, p95 ${summary.p95.toFixed(1)} ms, p99 ${summary.p99.toFixed(1)} ms, max ${summary.max.toFixed(1)} ms (${summary.count} samples)`;

/** Runs `task(0..count-1)` with at most `concurrency` in flight; rejects on the first failure. */
export async function runBounded(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const index = next++;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}

/**
 * Open-loop pacing: job i starts at `start + i / rate` seconds whatever the earlier jobs do (so a
 * slow system shows up as latency, not as a lower offered rate). Resolves when all have finished.
 */
export async function runPaced(
  count: number,
  ratePerSecond: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  const start = performance.now();
  const pending: Promise<void>[] = [];
  let next = 0;
  while (next < count) {
    const due = Math.floor(((performance.now() - start) / 1000) * ratePerSecond) + 1;
    while (next < Math.min(count, due)) pending.push(task(next++));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
}

/** Polls `probe` every `intervalMs` until it returns true; throws naming `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  probe: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not done within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface TargetCheck {
  name: string;
  measured: string;
  target: string;
  pass: boolean;
  /** How far off, when missed ("2.4x short"). */
  gap?: string;
}

export function targetLine(check: TargetCheck): string {
  const verdict = check.pass ? "PASS" : "MISS";
  return `${verdict}  ${check.name}: ${check.measured} (target ${check.target})${check.pass || check.gap === undefined ? "" : ` — ${check.gap}`}`;
}

export const rate = (count: number, ms: number) => (count / ms) * 1000;
export const fixed = (value: number, digits = 0) =>
  value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux; NaN elsewhere). */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at state; utime/stime are 14/15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks / CLOCK_TICKS) * 1000;
  } catch {
    return Number.NaN;
  }
}

/** sysconf(_SC_CLK_TCK): 100 on every Linux Node runs on. */
const CLOCK_TICKS = 100;

/** CPU time (user + system) Redis has used so far, in ms (INFO cpu). */
export async function redisCpuMs(redisUrl: string): Promise<number> {
  const queue = new Queue("bench-cpu-probe", { connection: redisConnection(redisUrl) });
  try {
    const info = await (await queue.client).info();
    const value = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, "m").exec(info)?.[1] ?? NaN);
    return (value("used_cpu_user") + value("used_cpu_sys")) * 1000;
  } finally {
    await queue.close();
  }
}

/** Snapshots CPU of named processes (and of this one, and Redis) to report CPU per unit of work. */
export async function cpuMeter(
  redisUrl: string,
  pids: () => Record<string, number>,
): Promise<() => Promise<Record<string, number>>> {
  const read = async () => {
    const own = process.cpuUsage();
    const values: Record<string, number> = {
      "bench process": (own.user + own.system) / 1000,
      redis: await redisCpuMs(redisUrl),
    };
    for (const [name, pid] of Object.entries(pids())) values[name] = processCpuMs(pid);
    return values;
  };
  const before = await read();
  return async () => {
    const after = await read();
    return Object.fromEntries(
      Object.entries(after).map(([name, value]) => [name, value - (before[name] ?? Number.NaN)]),
    );
  };
}

/** "bench process 0.21 ms, redis 0.08 ms, … = 0.40 ms CPU per job" */
export function cpuLine(used: Record<string, number>, units: number, unit: string): string {
  const entries = Object.entries(used).filter(([, ms]) => Number.isFinite(ms));
  const total = entries.reduce((sum, [, ms]) => sum + ms, 0);
  const parts = entries.map(([name, ms]) => `${name} ${((ms / units) * 1000).toFixed(0)} µs`);
  return `CPU per ${unit}: ${parts.join(", ")} = ${((total / units) * 1000).toFixed(0)} µs (2 cores → ≤ ${fixed((2 * 1e3 * units) / total)} ${unit}s/s if CPU-bound)`;
}
