// DataCollectionService (port 8002): the spec's data-collection service (§3.2).
import { pendingHandlers, registerService, runService } from "@tradai/common";
import { DataCollectionService } from "@tradai/proto";

await runService({
  name: "data-collection",
  prefix: "DATA_COLLECTION_",
  defaultPort: 8002,
  schema: {},
  env: process.env,
  async build() {
    return {
      services: [
        registerService(
          DataCollectionService,
          pendingHandlers(DataCollectionService, "market data collection", "issue #4"),
        ),
      ],
    };
  },
});
