/**
 * The QUEUE executor and the submission path under load (issue 6 item 7), each figure with a
 * baseline measured in the same run:
 *   (a) end-to-end no-op jobs/s: submit N jobs the way BacktestService does (record QUEUED → BullMQ
 *       add → annotate) → worker (claim RUNNING → no-op → COMPLETED) → all COMPLETED in the state
 *       store; worker in this process, then as worker processes. Baseline: the same N jobs through a
 *       bare BullMQ Queue/Worker pair with no state store.
 *   (b) submit → RUNNING latency (submit call → started_at in the state store), paced submissions.
 *       Baseline: submit → processor start of the bare BullMQ pair at the same pace.
 *   (c) POST /api/v1/backtest submissions/s through the gateway, all services real.
 *       Baseline: GET /api/v1/health through the same gateway.
 *   (d) a real backtest (SampleStrategy, BTC/USDT 5m, 2025) POST → COMPLETED with the LOCAL executor
 *       and the MLflow server. Baseline: the same backtest with the engine alone in this process.
 * Then PASS/MISS against the issue's targets. Starts its own redis-server (and PostgreSQL with
 * --state-store=postgres) on free loopback ports and stops everything at the end.
 *
 *   npm run bench -- queue [--jobs=5000] [--submit-concurrency=64] [--worker-concurrency=64]
 *     [--worker-processes=2] [--process-concurrency=32] [--latency-jobs=1000] [--latency-rate=200,1000]
 *     [--requests=2000] [--http-concurrency=32] [--state-store=sqlite|postgres]
 *     [--backtest-runs=5] [--skip=throughput,processes,latency,gateway,backtest] [--cpu-prof]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { startTestStack, type TestStack } from "../../test/support/test-stack";
import { monotonicMicros, summarizeProfiles } from "./cpu-profile-summary";
import {
  cpuLine,
  cpuMeter,
  fixed,
  formatLatency,
  parseFlags,
  targetLine,
  type LatencySummary,
  type TargetCheck,
} from "./bench-support";
import { parseTimerange } from "../../services/backtest/src/core/timerange";
import { YEAR_BODY, engineBaseline, runEndToEnd } from "./backtest-runs";
import {
  SUBMIT_BODY,
  callOnce,
  runLoad,
  startGatewayStack,
  type GatewayStack,
  type HttpCall,
} from "./gateway-runs";
import {
  measureStoreCost,
  runBareBullmq,
  runQueue,
  type QueueEnvironment,
  type ThroughputResult,
} from "./queue-runs";

const TARGET_JOBS_PER_SECOND = 3_000;
const TARGET_P50_MS = 25;
const TARGET_SUBMISSIONS_PER_SECOND = 1_000;
const TARGET_BACKTEST_MS = 2_000;

const flags = parseFlags(process.argv.slice(2));
const loadAverage = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");
const checks: TargetCheck[] = [];
const line = (text = "") => console.log(text);
const ratio = (ours: number, baseline: number) => `${(ours / baseline).toFixed(2)}x`;

function throughputLine(label: string, result: ThroughputResult, baseline?: ThroughputResult) {
  line(
    `  ${label.padEnd(44)} ${fixed(result.jobsPerSecond).padStart(7)} jobs/s  (${fixed(result.ms)} ms)` +
      (baseline === undefined ? "" : `  = ${ratio(result.jobsPerSecond, baseline.jobsPerSecond)} baseline`),
  );
}

function cpuOf(result: ThroughputResult) {
  line(`    ${cpuLine(result.cpu, result.jobs, "job")}`);
}

function submitStepsLine(result: ThroughputResult) {
  const steps = result.submitSteps;
  if (steps === undefined) return;
  const per = (ms: number) => `${((ms / result.jobs) * 1000).toFixed(0)} µs`;
  line(
    `    submission wall time per job (in flight, not CPU): create ${per(steps.create)}, BullMQ add ${per(steps.add)}, annotate ${per(steps.annotate)}`,
  );
}

const throughputCheck = (name: string, result: ThroughputResult): TargetCheck => ({
  name,
  measured: `${fixed(result.jobsPerSecond)} jobs/s`,
  target: `≥ ${fixed(TARGET_JOBS_PER_SECOND)} jobs/s`,
  pass: result.jobsPerSecond >= TARGET_JOBS_PER_SECOND,
  gap: `${fixed(TARGET_JOBS_PER_SECOND - result.jobsPerSecond)} jobs/s short (${(TARGET_JOBS_PER_SECOND / result.jobsPerSecond).toFixed(2)}x needed)`,
});

async function throughput(env: QueueEnvironment) {
  line(
    `\n(a) end-to-end no-op jobs through QUEUE: ${flags.jobs} jobs, ${flags.submitConcurrency} submissions in flight, state store ${env.store.kind}`,
  );
  // Warm-up (JIT, connections, SQLite file creation), not reported.
  await runBareBullmq(env, 500, { concurrency: flags.submitConcurrency }, flags.workerConcurrency);
  await runQueue(
    env,
    500,
    { concurrency: flags.submitConcurrency },
    { kind: "in-process", concurrency: flags.workerConcurrency },
    "warmup",
  );

  const baseline = await runBareBullmq(
    env,
    flags.jobs,
    { concurrency: flags.submitConcurrency },
    flags.workerConcurrency,
  );
  throughputLine(`baseline: bare BullMQ, worker concurrency ${flags.workerConcurrency}`, baseline);
  cpuOf(baseline);
  const inProcess = await runQueue(
    env,
    flags.jobs,
    { concurrency: flags.submitConcurrency },
    { kind: "in-process", concurrency: flags.workerConcurrency },
    "inprocess",
  );
  throughputLine(`QUEUE, in-process worker, concurrency ${flags.workerConcurrency}`, inProcess, baseline);
  cpuOf(inProcess);
  submitStepsLine(inProcess);
  if (inProcess.latency !== undefined)
    line(`    submit → RUNNING under this burst (queueing included): ${formatLatency(inProcess.latency)}`);
  checks.push(throughputCheck("end-to-end no-op jobs/s (in-process worker)", inProcess));

  if (!flags.skip.has("processes")) {
    const processes = await runQueue(
      env,
      flags.jobs,
      { concurrency: flags.submitConcurrency },
      { kind: "processes", count: flags.workerProcesses, concurrency: flags.processConcurrency },
      "processes",
    );
    throughputLine(
      `QUEUE, ${flags.workerProcesses} worker processes × concurrency ${flags.processConcurrency}`,
      processes,
      baseline,
    );
    cpuOf(processes);
    submitStepsLine(processes);
    checks.push(
      throughputCheck(`end-to-end no-op jobs/s (${flags.workerProcesses} worker processes)`, processes),
    );
  }

  const quiet = await runQueue(
    env,
    flags.jobs,
    { concurrency: flags.submitConcurrency },
    { kind: "in-process", concurrency: flags.workerConcurrency, withoutProgress: true },
    "noprogress",
  );
  line(
    `  profile: in-process again, the no-op reporting no progress (no progress write, no BullMQ updateProgress): ${fixed(quiet.jobsPerSecond)} jobs/s = ${ratio(quiet.jobsPerSecond, inProcess.jobsPerSecond)} the in-process run`,
  );
  line(`    ${cpuLine(quiet.cpu, quiet.jobs, "job")}`);

  const costJobs = Math.min(flags.jobs, 2000);
  const cost = await measureStoreCost(env, costJobs);
  const perJob =
    cost.createMicros + cost.annotateMicros + cost.runningMicros + cost.progressMicros + cost.completedMicros;
  line(
    `  profile: state store alone, ${costJobs} jobs one write at a time (µs per write): create ${cost.createMicros.toFixed(0)}, annotate ${cost.annotateMicros.toFixed(0)}, RUNNING ${cost.runningMicros.toFixed(0)}, progress ${cost.progressMicros.toFixed(0)}, COMPLETED ${cost.completedMicros.toFixed(0)}`,
  );
  line(
    `    = ${perJob.toFixed(0)} µs of state-store work per job → at most ${fixed(1e6 / perJob)} jobs/s from one thread doing only these writes`,
  );
}

async function latency(env: QueueEnvironment) {
  for (const latencyRate of flags.latencyRates) {
    line(
      `\n(b) submit → RUNNING latency: ${flags.latencyJobs} no-op jobs paced at ${latencyRate} submissions/s (open loop), in-process worker`,
    );
    const baseline = await runBareBullmq(
      env,
      flags.latencyJobs,
      { ratePerSecond: latencyRate },
      flags.workerConcurrency,
    );
    const baselineLatency = baseline.pickupLatency as LatencySummary;
    line(`  baseline: bare BullMQ add → processor start   ${formatLatency(baselineLatency)}`);
    const ours = await runQueue(
      env,
      flags.latencyJobs,
      { ratePerSecond: latencyRate },
      { kind: "in-process", concurrency: flags.workerConcurrency },
      `latency${latencyRate}`,
    );
    const oursLatency = ours.latency as LatencySummary;
    line(`  QUEUE: submit call → started_at (RUNNING)     ${formatLatency(oursLatency)}`);
    line(
      `    p50 = ${ratio(Math.max(oursLatency.p50, 0.5), Math.max(baselineLatency.p50, 0.5))} baseline p50; p99 = ${ratio(Math.max(oursLatency.p99, 0.5), Math.max(baselineLatency.p99, 0.5))} baseline p99 (timestamps in whole ms; 0 ms counts as 0.5)`,
    );
    checks.push({
      name: `submit → RUNNING p50 at ${latencyRate} submissions/s`,
      measured: `${oursLatency.p50.toFixed(1)} ms`,
      target: `< ${TARGET_P50_MS} ms`,
      pass: oursLatency.p50 < TARGET_P50_MS,
      gap: `${(oursLatency.p50 - TARGET_P50_MS).toFixed(1)} ms over`,
    });
  }
}

async function gateway(redisUrl: string) {
  line(
    `\n(c) gateway: ${flags.requests} requests per run, ${flags.httpConcurrency} in flight, keep-alive, loopback; services: gateway, backtest (QUEUE, SQLite), strategy, data-collection, Redis`,
  );
  let stack: GatewayStack | undefined;
  const profileDir = flags.cpuProfile
    ? mkdtempSync(path.join(tmpdir(), "tradai-bench-queue-prof-"))
    : undefined;
  let postWindow: [number, number] | undefined;
  try {
    const started = performance.now();
    stack = await startGatewayStack({
      executor: { mode: "QUEUE", redisUrl },
      ...(profileDir === undefined ? {} : { cpuProfileDir: profileDir }),
    });
    line(`  stack up in ${fixed(performance.now() - started)} ms: ${stack.gatewayUrl}`);
    const submit = {
      method: "POST" as const,
      path: "/api/v1/backtest",
      body: SUBMIT_BODY,
      expect: [202],
    };
    const health = { method: "GET" as const, path: "/api/v1/health", expect: [200] };
    const backtestHealth = { method: "GET" as const, path: "/api/v1/health?service=backtest", expect: [200] };
    const first = await callOnce(stack.gatewayUrl, submit);
    line(`  warm-up submission (downloads the candles once): ${first.body.slice(0, 120)}`);
    const warmup = Math.min(200, flags.requests);
    await runLoad(stack.gatewayUrl, health, warmup, Math.min(8, flags.httpConcurrency));
    await runLoad(stack.gatewayUrl, submit, warmup, Math.min(8, flags.httpConcurrency));
    const exchangeBefore = stack.exchangeRequests();

    const pids = stack.pids;
    const measure = async (call: HttpCall) => {
      const meter = await cpuMeter(redisUrl, () => pids);
      const result = await runLoad(stack?.gatewayUrl ?? "", call, flags.requests, flags.httpConcurrency);
      return { ...result, cpu: await meter() };
    };
    const baseline = await measure(health);
    line(
      `  baseline: GET /api/v1/health (gateway + 5 Health calls)    ${fixed(baseline.perSecond).padStart(6)} req/s   latency ${formatLatency(baseline.latency)}`,
    );
    line(`    ${cpuLine(baseline.cpu, baseline.requests, "request")}`);
    const oneHop = await measure(backtestHealth);
    line(
      `  baseline: GET /api/v1/health?service=backtest (1 hop)      ${fixed(oneHop.perSecond).padStart(6)} req/s   latency ${formatLatency(oneHop.latency)}`,
    );
    line(`    ${cpuLine(oneHop.cpu, oneHop.requests, "request")}`);
    const postStart = monotonicMicros();
    const ours = await measure(submit);
    postWindow = [postStart, monotonicMicros()];
    line(
      `  POST /api/v1/backtest → 202 QUEUED                         ${fixed(ours.perSecond).padStart(6)} req/s   latency ${formatLatency(ours.latency)}`,
    );
    line(`    ${cpuLine(ours.cpu, ours.requests, "request")}`);
    line(
      `    = ${ratio(ours.perSecond, baseline.perSecond)} the health baseline, ${ratio(ours.perSecond, oneHop.perSecond)} the one-hop health baseline`,
    );
    const exchangeCalls = stack.exchangeRequests() - exchangeBefore;
    line(
      `    exchange (simulator) requests during the measured runs: ${exchangeCalls} (EnsureData found the range covered)`,
    );
    checks.push({
      name: "POST /api/v1/backtest submissions/s through the gateway",
      measured: `${fixed(ours.perSecond)} submissions/s`,
      target: `≥ ${fixed(TARGET_SUBMISSIONS_PER_SECOND)}/s`,
      pass: ours.perSecond >= TARGET_SUBMISSIONS_PER_SECOND,
      gap: `${fixed(TARGET_SUBMISSIONS_PER_SECOND - ours.perSecond)}/s short (${(TARGET_SUBMISSIONS_PER_SECOND / ours.perSecond).toFixed(2)}x needed)`,
    });
  } finally {
    await stack?.stop();
  }
  if (profileDir !== undefined && postWindow !== undefined && stack !== undefined) {
    printProfiles(profileDir, postWindow, stack.pids);
    rmSync(profileDir, { recursive: true, force: true });
  }
}

async function realBacktest(mlflowUrl: string) {
  const body = YEAR_BODY;
  line(
    `\n(d) a real backtest end to end: ${body.strategy}, ${body.pairs.join(",")} ${body.timeframe}, ${body.timerange}, ${flags.backtestRuns} runs one after the other; LOCAL/SUBPROCESS executor (1 worker process), SQLite, MLflow server, gateway → backtest → worker`,
  );
  let stack: GatewayStack | undefined;
  try {
    const started = performance.now();
    stack = await startGatewayStack({ executor: { mode: "LOCAL", workers: 1 }, mlflowUrl });
    line(`  stack up in ${fixed(performance.now() - started)} ms: ${stack.gatewayUrl}, MLflow ${mlflowUrl}`);
    const run = (runs: number) =>
      runEndToEnd({
        gatewayUrl: stack?.gatewayUrl ?? "",
        mlflowUrl,
        body,
        runs,
        pollMs: 5,
        deadlineMs: 120_000,
      });
    const first = await run(1);
    line(
      `  first run (includes the one-time download of the year from the exchange simulator, ${stack.exchangeRequests()} requests, and the worker's first strategy compile): ${fixed(first.latency.max)} ms`,
    );
    const exchangeBefore = stack.exchangeRequests();
    const measured = await run(flags.backtestRuns);
    const accepted = measured.runs.map((entry) => entry.acceptedMs);
    const sample = measured.runs[0];
    line(
      `  POST → COMPLETED (MLflow run logged): ${formatLatency(measured.latency)}; POST answered in ${fixed(Math.min(...accepted))}–${fixed(Math.max(...accepted))} ms`,
    );
    line(
      `    runs: ${measured.runs.map((entry) => `${fixed(entry.ms)} ms (queued ${fixed(entry.queuedMs)}, running ${fixed(entry.runningMs)})`).join(", ")}`,
    );
    line(
      `    ${sample?.trades ?? 0} trades per run; MLflow runs FINISHED with ${sample?.mlflowMetrics ?? 0} metrics each; exchange requests during the measured runs: ${stack.exchangeRequests() - exchangeBefore}`,
    );
    const { range } = parseTimerange(body.timerange);
    const engine = engineBaseline(body, range?.startMs ?? 0, range?.endMs ?? 0);
    line(
      `  baseline: the engine alone in this process (${engine.candles.toLocaleString("en-US")} candles already in memory: analyze, simulate, statistics): cold ${fixed(engine.coldMs)} ms, warm ${fixed(engine.warmMs)} ms, ${engine.trades} trades`,
    );
    line(
      `    → orchestration (HTTP, validation, state store, worker IPC, candle stream, result store, MLflow) adds ${fixed(measured.latency.p50 - engine.warmMs)} ms at p50`,
    );
    checks.push({
      name: "a real backtest (sample strategy, 1 pair, 1 year of 5m) POST → COMPLETED, LOCAL, MLflow included",
      measured: `p50 ${fixed(measured.latency.p50)} ms, max ${fixed(measured.latency.max)} ms`,
      target: `< ${fixed(TARGET_BACKTEST_MS)} ms`,
      pass: measured.latency.max < TARGET_BACKTEST_MS,
      gap: `${fixed(measured.latency.max - TARGET_BACKTEST_MS)} ms over`,
    });
  } finally {
    await stack?.stop();
  }
}

function printProfiles(directory: string, window: [number, number], pids: Record<string, number>) {
  line(`  CPU profile of the services during the POST run (self time, sampled):`);
  // Worker threads (tsx's loader, logging) write their own near-empty profiles: leave them out.
  const summaries = summarizeProfiles(directory, window[0], window[1]).filter(
    (summary) => summary.sampledMs >= 100,
  );
  for (const summary of summaries) {
    const pid = Number(/\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(summary.file)?.[1]);
    const name = Object.entries(pids).find(([, value]) => value === pid)?.[0] ?? `pid ${pid}`;
    const share = (ms: number) => `${((ms / summary.sampledMs) * 100).toFixed(0)}%`;
    line(`    ${name}: ${fixed(summary.sampledMs)} ms sampled`);
    line(
      `      by package: ${summary.byPackage
        .slice(0, 8)
        .map(([item, ms]) => `${item} ${share(ms)}`)
        .join(", ")}`,
    );
    line(
      `      top functions: ${summary.byFunction
        .slice(0, 10)
        .map(([item, ms]) => `${item} ${share(ms)}`)
        .join(", ")}`,
    );
  }
}

const directory = mkdtempSync(path.join(tmpdir(), "tradai-bench-queue-"));
let peers: TestStack | undefined;
const benchStart = performance.now();
try {
  line(
    `machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? "unknown CPU"}), node ${process.version}, load average ${loadAverage()} (other work on the box skews every figure)`,
  );
  peers = await startTestStack([
    "redis",
    ...(flags.stateStore === "postgres" ? (["postgres"] as const) : []),
    ...(flags.skip.has("backtest") ? [] : (["mlflow"] as const)),
  ]);
  const redisUrl = peers.env.TRADAI_TEST_REDIS_URL as string;
  const env: QueueEnvironment = {
    redisUrl,
    store: {
      kind: flags.stateStore,
      directory,
      ...(peers.env.TRADAI_TEST_POSTGRES_URL === undefined
        ? {}
        : { postgresUrl: peers.env.TRADAI_TEST_POSTGRES_URL }),
    },
  };
  line(`redis-server at ${redisUrl}${env.store.postgresUrl === undefined ? "" : `, PostgreSQL started`}`);
  if (!flags.skip.has("throughput")) await throughput(env);
  if (!flags.skip.has("latency")) await latency(env);
  if (!flags.skip.has("gateway")) await gateway(redisUrl);
  if (!flags.skip.has("backtest")) await realBacktest(peers.env.TRADAI_TEST_MLFLOW_URL as string);

  line(`\ntargets (issue 6, 2 cores):`);
  for (const check of checks) line(`  ${targetLine(check)}`);
  line(`\ntotal ${fixed((performance.now() - benchStart) / 1000, 1)} s, load average now ${loadAverage()}`);
} finally {
  await peers?.stop();
  rmSync(directory, { recursive: true, force: true });
}
