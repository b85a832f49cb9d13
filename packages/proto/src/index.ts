// The one import point for the generated contract (proto/ → buf generate → src/gen).
// Generated files are never edited: change the .proto and run `npm run generate`.
export * from "./gen/tradai/common/v1/common_pb";
export * from "./gen/tradai/data/v1/data_collection_pb";
export * from "./gen/tradai/strategy/v1/strategy_pb";
export * from "./gen/tradai/backtest/v1/backtest_pb";
export * from "./gen/tradai/trading/v1/trading_pb";
export * from "./gen/grpc/health/v1/health_pb";
export * as reflectionV1 from "./gen/grpc/reflection/v1/reflection_pb";
export * as reflectionV1alpha from "./gen/grpc/reflection/v1alpha/reflection_pb";
