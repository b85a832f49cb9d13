// The state store contract the worker writes to (defined by the backtest service, shared here).
export {
  JobConflictError,
  type BacktestJob,
  type JobMetric,
  type WorkflowStateRepository,
} from "@tradai/backtest";
