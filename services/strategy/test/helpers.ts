// Shared test fixtures: repo paths, the real shared candles and small strategy sources.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const strategiesDir = path.join(repoRoot, "strategies");
/** Real Binance candles (shared/data/README.md); TRADAI_SHARED_DIR overrides the location. */
export const dataDir = path.join(
  process.env.TRADAI_SHARED_DIR ?? path.resolve(repoRoot, "../shared"),
  "data",
  "ohlcv",
);

export function readStrategy(file: string): string {
  return readFileSync(path.join(strategiesDir, file), "utf8");
}

export const SERIES_HELPER = readStrategy("lib/series.ts");

/** A strategy source from test/fixtures/. */
export function readFixture(file: string): string {
  return readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", file), "utf8");
}

/** A minimal valid strategy; `body` replaces its hooks when given. */
export function minimalStrategy(name: string, extra = "", hooks?: string): string {
  return `import { defineStrategy, intParameter } from "@tradai/engine";

export default defineStrategy({
  name: "${name}",
  timeframe: "5m",
  stoploss: -0.1,
  parameters: { window: intParameter({ default: 10, low: 2, high: 50 }) },${extra}
${
  hooks ??
  `  populateIndicators(frame) {
    frame.set("double", frame.close.map((value) => value * 2));
  },
  populateEntryTrend() {},
  populateExitTrend() {},`
}
});
`;
}
