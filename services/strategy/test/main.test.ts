// The real entry point: a strategies directory with a good, a broken and an endlessly looping
// strategy. The service still starts, serves the good one, logs the others with file and line,
// and exits 0 on SIGTERM.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createServiceClient } from "@tradai/common";
import { StrategyService } from "@tradai/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnService, type SpawnedService } from "../../../test/support/spawn-service";
import { dataDir, minimalStrategy } from "./helpers";

let root: string;
let running: SpawnedService;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "tradai-strategy-main-"));
  const strategies = path.join(root, "strategies");
  await mkdir(strategies);
  await writeFile(path.join(strategies, "good.ts"), minimalStrategy("Good"));
  await writeFile(
    path.join(strategies, "broken.ts"),
    minimalStrategy("Broken").replace("stoploss: -0.1,", "stoploss: ,"),
  );
  await writeFile(path.join(strategies, "loop.ts"), `while (true) {}\n${minimalStrategy("Loop")}`);
  running = await spawnService({
    entry: "services/strategy/src/main.ts",
    portVariable: "STRATEGY_SERVICE_PORT",
    env: {
      STRATEGY_SERVICE_STRATEGIES_DIR: strategies,
      STRATEGY_SERVICE_REGISTRY_DIR: path.join(root, "registry"),
      STRATEGY_SERVICE_DATA_DIR: dataDir,
      STRATEGY_SERVICE_LOAD_TIMEOUT_MS: "1000",
    },
    timeoutMs: 30_000,
  });
}, 40_000);

afterAll(async () => {
  if (running.process.exitCode === null) await running.stop();
  await rm(root, { recursive: true, force: true });
});

describe("services/strategy/src/main.ts", () => {
  it("starts despite a broken and a looping strategy, and serves the good one", async () => {
    const client = createServiceClient(StrategyService, running.url);
    const listed = await client.listStrategies({});
    expect(listed.strategies.map((strategy) => strategy.name)).toEqual(["Good"]);
    const rejected = running.output
      .map(
        (line) =>
          JSON.parse(line) as { msg?: string; file?: string; issues?: { message: string; line?: number }[] },
      )
      .filter((entry) => entry.msg === "strategy rejected");
    expect(rejected.map((entry) => entry.file).sort()).toEqual(["broken.ts", "loop.ts"]);
    const broken = rejected.find((entry) => entry.file === "broken.ts");
    expect(broken?.issues?.[0]).toMatchObject({ line: 6, message: 'Unexpected ","' });
    const loop = rejected.find((entry) => entry.file === "loop.ts");
    expect(loop?.issues?.[0]?.message).toContain("did not finish within 1000 ms");
  });

  it("reports the registry in GET /api/v1/health", async () => {
    const response = await fetch(`${running.url}/api/v1/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: "healthy",
      service: "strategy",
      dependencies: [{ name: "strategy-registry", status: "up" }],
    });
  });

  it("exits 0 on SIGTERM", async () => {
    expect(await running.stop()).toBe(0);
  });
});
