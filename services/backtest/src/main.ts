// BacktestService (port 8001): job orchestration of the spec's backend-api (§3.1, §4).
import { pendingHandlers, registerService, runService } from "@tradai/common";
import { BacktestService } from "@tradai/proto";

await runService({
  name: "backtest",
  prefix: "BACKEND_",
  defaultPort: 8001,
  schema: {},
  env: process.env,
  async build() {
    return {
      services: [
        registerService(
          BacktestService,
          pendingHandlers(BacktestService, "backtest orchestration", "issue #6"),
        ),
      ],
    };
  },
});
