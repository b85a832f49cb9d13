// The handlers once over a real HTTP/1.1 socket on port 0 (Connect protocol), end to end.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { DataCollectionService, SyncPhase } from "@tradai/proto";
import { describe, expect, it } from "vitest";
import { createDataCollectionHandlers } from "../src/api/data-collection-handlers";
import { createHarness } from "./support/harness";

describe("DataCollectionService over a socket", () => {
  it("streams a sync and serves the stored candles", async () => {
    const harness = await createHarness({ nowMs: Date.UTC(2025, 7, 1) });
    const server = createServer(
      connectNodeAdapter({
        routes: (router) =>
          router.service(DataCollectionService, createDataCollectionHandlers({ service: harness.service })),
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const client = createClient(
        DataCollectionService,
        createConnectTransport({
          baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          httpVersion: "1.1",
        }),
      );
      const range = {
        start: timestampFromMs(Date.UTC(2025, 6, 1)),
        end: timestampFromMs(Date.UTC(2025, 6, 1, 12)),
      };
      const phases: SyncPhase[] = [];
      for await (const event of client.syncOhlcv({
        exchange: "binance",
        symbols: ["SOL/USDT", "BTC/USDT"],
        timeframe: "5m",
        range,
      }))
        phases.push(event.phase);
      expect(phases.filter((phase) => phase === SyncPhase.DONE).length).toBe(2);
      let count = 0;
      for await (const response of client.getOhlcv({
        series: { exchange: "binance", symbol: "SOL/USDT", timeframe: "5m" },
        range,
      })) {
        count += response.batch?.timestampsMs.length ?? 0;
      }
      expect(count).toBe(144);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await harness.close();
    }
  });
});
