// Builds data/seed/: the small real dataset `npm start` loads into the embedded store on first run,
// so the README's first backtest needs no exchange access. Source: ../shared/data (real Binance
// candles; see its README). Re-run with `npx tsx scripts/make-seed-data.ts`.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const shared = process.env.TRADAI_SHARED_DIR ?? path.resolve(root, "../shared");
const START = Date.UTC(2024, 11, 1); // 2024-12-01: a month of warm-up before the README's range
const END = Date.UTC(2025, 3, 1); // 2025-04-01 (exclusive)

for (const pair of ["BTC_USDT", "ETH_USDT"]) {
  const source = path.join(shared, "data/ohlcv", `binance_${pair}-5m.csv.gz`);
  const lines = gunzipSync(readFileSync(source)).toString("utf8").trim().split("\n");
  const header = lines[0];
  const rows = lines.slice(1).filter((line) => {
    const time = Number(line.slice(0, line.indexOf(",")));
    return time >= START && time < END;
  });
  const target = path.join(root, "data/seed", `binance_${pair}-5m.csv.gz`);
  writeFileSync(target, gzipSync(`${header}\n${rows.join("\n")}\n`, { level: 9 }));
  console.log(`${path.relative(root, target)}: ${rows.length} candles`);
}
