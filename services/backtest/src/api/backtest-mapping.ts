// Translation between the wire (proto tradai.backtest.v1) and the domain (core/backtest-job).
import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { invalidArgument } from "@tradai/common";
import {
  BacktestConfigSchema,
  BacktestJobSchema,
  JobStatus as ProtoJobStatus,
  MetricSchema,
  type BacktestConfig as ProtoBacktestConfig,
  type BacktestJob as ProtoBacktestJob,
} from "@tradai/proto";
import type { BacktestConfig, BacktestJob, JobStatus, JsonValue } from "../core/backtest-job";

const STATUS_TO_PROTO: Record<JobStatus, ProtoJobStatus> = {
  QUEUED: ProtoJobStatus.QUEUED,
  RUNNING: ProtoJobStatus.RUNNING,
  COMPLETED: ProtoJobStatus.COMPLETED,
  FAILED: ProtoJobStatus.FAILED,
  CANCELLED: ProtoJobStatus.CANCELLED,
};

export function statusToProto(status: JobStatus): ProtoJobStatus {
  return STATUS_TO_PROTO[status];
}

export function statusFromProto(status: ProtoJobStatus): JobStatus | undefined {
  return (Object.keys(STATUS_TO_PROTO) as JobStatus[]).find((key) => STATUS_TO_PROTO[key] === status);
}

/** max_open_trades when the request leaves it unset. */
export const DEFAULT_MAX_OPEN_TRADES = 3;

/** stake_amount: a positive number in the stake currency, or "unlimited". */
export function parseStakeAmount(raw: string): number | "unlimited" {
  if (raw === "unlimited") return "unlimited";
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || value <= 0) {
    throw invalidArgument("invalid stake_amount", [
      {
        field: "stake_amount",
        message: "invalid stake_amount",
        expected: 'a positive number or "unlimited"',
        found: JSON.stringify(raw),
      },
    ]);
  }
  return value;
}

export function configFromProto(config: ProtoBacktestConfig | undefined): BacktestConfig {
  if (config === undefined) {
    throw invalidArgument("config is required", [
      { field: "config", message: "missing", expected: "a backtest config", found: "nothing" },
    ]);
  }
  return {
    strategy: config.strategy,
    strategy_version: config.strategyVersion,
    exchange: config.exchange,
    pairs: [...config.pairs],
    timeframe: config.timeframe,
    timerange: config.timerange,
    stake_amount: parseStakeAmount(config.stakeAmount === "" ? "unlimited" : config.stakeAmount),
    dry_run_wallet: config.dryRunWallet === 0 ? 1000 : config.dryRunWallet,
    // Unset (0) → 3, Freqtrade's default config (and the strategy service's run-config default):
    // -1 (unlimited) would be rejected together with the default stake_amount "unlimited".
    max_open_trades: config.maxOpenTrades === 0 ? DEFAULT_MAX_OPEN_TRADES : config.maxOpenTrades,
    ...(config.fee === undefined ? {} : { fee: config.fee }),
    params: (config.params ?? {}) as Record<string, JsonValue>,
    stake_currency: config.stakeCurrency === "" ? "USDT" : config.stakeCurrency,
    timeframe_detail: config.timeframeDetail,
  };
}

export function configToProto(config: BacktestConfig): ProtoBacktestConfig {
  return create(BacktestConfigSchema, {
    strategy: config.strategy,
    strategyVersion: config.strategy_version,
    exchange: config.exchange,
    pairs: config.pairs,
    timeframe: config.timeframe,
    timerange: config.timerange,
    stakeAmount: String(config.stake_amount),
    dryRunWallet: config.dry_run_wallet,
    maxOpenTrades: config.max_open_trades,
    ...(config.fee === undefined ? {} : { fee: config.fee }),
    params: config.params as JsonObject,
    stakeCurrency: config.stake_currency,
    timeframeDetail: config.timeframe_detail,
  });
}

export function jobToProto(job: BacktestJob): ProtoBacktestJob {
  return create(BacktestJobSchema, {
    jobId: job.jobId,
    status: statusToProto(job.status),
    config: configToProto(job.config),
    progress: job.progress,
    stage: job.stage,
    createdAt: timestampFromMs(job.createdAt.getTime()),
    ...(job.startedAt === undefined ? {} : { startedAt: timestampFromMs(job.startedAt.getTime()) }),
    ...(job.finishedAt === undefined ? {} : { finishedAt: timestampFromMs(job.finishedAt.getTime()) }),
    summary: job.summary.map((metric) => create(MetricSchema, metric)),
    error: job.error ?? "",
    executor: job.executor ?? "",
    mlflowRunId: job.mlflowRunId ?? "",
    idempotencyKey: job.idempotencyKey ?? "",
  });
}
