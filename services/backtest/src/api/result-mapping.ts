// The stored result (the engine's Freqtrade-layout export) → GetBacktestResultResponse.
import { create } from "@bufbuild/protobuf";
import { GetBacktestResultResponseSchema, MetricSchema, type GetBacktestResultResponse } from "@tradai/proto";
import type { BacktestJob } from "../core/backtest-job";

export function resultToProto(job: BacktestJob, result: unknown): GetBacktestResultResponse {
  return create(GetBacktestResultResponseSchema, {
    jobId: job.jobId,
    metrics: job.summary.map((metric) => create(MetricSchema, metric)),
    freqtradeResultJson: JSON.stringify(result),
  });
}
