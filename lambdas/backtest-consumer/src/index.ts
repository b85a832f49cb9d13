export {
  createBacktestConsumer,
  type BacktestConsumerOptions,
  type RecordOutcome,
  type SqsBatchResponse,
  type SqsEvent,
  type SqsEventRecord,
} from "./backtest-consumer";
export { handler } from "./handler";
