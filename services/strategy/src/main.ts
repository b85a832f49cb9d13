// StrategyService (port 8003): the spec's strategy-service (§3.3).
import { pendingHandlers, registerService, runService } from "@tradai/common";
import { StrategyService } from "@tradai/proto";

await runService({
  name: "strategy",
  prefix: "STRATEGY_SERVICE_",
  defaultPort: 8003,
  schema: {},
  env: process.env,
  async build() {
    return {
      services: [
        registerService(
          StrategyService,
          pendingHandlers(StrategyService, "the strategy registry", "issue #5"),
        ),
      ],
    };
  },
});
