// TradingService: one image, two modes (ARCHITECTURE.md §2): `--mode live` on port 8004,
// `--mode dry-run` on port 8005. The mode comes from --mode or TRADING_MODE.
import { enumField, pendingHandlers, registerService, runService } from "@tradai/common";
import { TradingService } from "@tradai/proto";

const modeArgument = process.argv.indexOf("--mode");
const env = { ...process.env };
if (modeArgument !== -1) env.TRADING_MODE = process.argv[modeArgument + 1] ?? "";
const mode = env.TRADING_MODE === "live" ? "live" : "dry-run";

await runService({
  name: mode === "live" ? "live-trading" : "dry-run-trading",
  prefix: "TRADING_",
  defaultPort: mode === "live" ? 8004 : 8005,
  schema: {
    mode: enumField(["live", "dry-run"], {
      description: "live orders or the dry-run fill simulator",
      default: "dry-run",
    }),
  },
  env,
  async build() {
    return {
      services: [
        registerService(
          TradingService,
          pendingHandlers(TradingService, "live and dry-run trading", "issue: trading"),
        ),
      ],
    };
  },
});
