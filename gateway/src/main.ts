// Gateway process (port 8000). Config under GATEWAY_*; a bad value stops start-up naming it.
import {
  commonServiceFields,
  createLogger,
  describeConfig,
  integerField,
  loadConfigOrExit,
  startTelemetry,
  urlField,
} from "@tradai/common";
import { buildGateway } from "./app";
import { createServiceDirectory } from "./service-directory";

const schema = {
  ...commonServiceFields(8000),
  backtestUrl: urlField({ description: "BacktestService", default: "http://127.0.0.1:8001" }),
  dataCollectionUrl: urlField({ description: "DataCollectionService", default: "http://127.0.0.1:8002" }),
  strategyUrl: urlField({ description: "StrategyService", default: "http://127.0.0.1:8003" }),
  liveTradingUrl: urlField({ description: "TradingService (live)", default: "http://127.0.0.1:8004" }),
  dryRunTradingUrl: urlField({ description: "TradingService (dry-run)", default: "http://127.0.0.1:8005" }),
  requestTimeoutMs: integerField({ description: "deadline of calls to services", default: 30_000, min: 100 }),
  bodyLimitBytes: integerField({ description: "largest request body", default: 1024 * 1024, min: 1024 }),
};

const config = loadConfigOrExit("gateway", { prefix: "GATEWAY_", schema, env: process.env });
const telemetry = startTelemetry({
  serviceName: "gateway",
  otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
  console: config.traceConsole,
});
const logger = createLogger({ service: "gateway", level: config.logLevel });
logger.info({ config: describeConfig(schema, config) }, "starting");
const services = createServiceDirectory(
  {
    backtest: config.backtestUrl,
    dataCollection: config.dataCollectionUrl,
    strategy: config.strategyUrl,
    liveTrading: config.liveTradingUrl,
    dryRunTrading: config.dryRunTradingUrl,
  },
  config.requestTimeoutMs,
);
const app = await buildGateway({ services, logger, bodyLimit: config.bodyLimitBytes });
try {
  await app.listen({ host: config.host, port: config.port });
} catch (error) {
  if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
    logger.fatal(
      `port ${config.port} on ${config.host} is already in use: stop the other process or set GATEWAY_PORT`,
    );
    process.exit(1);
  }
  throw error;
}

const shutdown = (signal: string) => {
  logger.info({ signal }, "shutting down");
  setTimeout(() => process.exit(1), 10_000).unref();
  void app
    .close()
    .then(() => telemetry.shutdown())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
};
process.once("SIGTERM", () => shutdown("SIGTERM"));
process.once("SIGINT", () => shutdown("SIGINT"));
