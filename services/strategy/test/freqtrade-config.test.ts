// The exported Freqtrade config checked by Freqtrade itself (validate_config_schema and
// validate_config_consistency of freqtrade 2026.9, installed by ./freqtrade/install.sh), and
// ValidateConfig agreeing with Freqtrade on configs Freqtrade rejects.
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  prepareRunConfig,
  toFreqtradeConfig,
  validateRunConfig,
  type ConfigValues,
} from "../src/core/run-config";
import { CCXT_TIMEFRAMES } from "../src/core/exchange-catalog";
import { createEsbuildStrategyCompiler } from "../src/infrastructure/esbuild-strategy-compiler";
import { createWorkerStrategySandbox } from "../src/infrastructure/worker-strategy-sandbox";
import { createDirectoryStrategySource } from "../src/infrastructure/directory-strategy-source";
import type { StrategyDescription } from "@tradai/engine";
import { strategiesDir } from "./helpers";

const here = path.dirname(fileURLToPath(import.meta.url));
let python: string;
const descriptions: Record<string, StrategyDescription> = {};

/** Freqtrade's verdict on a config: "ok" or its error message. */
function freqtradeVerdict(config: Record<string, unknown>, mode = "backtest"): string {
  const result = spawnSync(python, [path.join(here, "freqtrade", "validate_config.py"), mode], {
    input: JSON.stringify(config),
    encoding: "utf8",
    timeout: 30_000,
  });
  return (result.stdout.trim().split("\n").pop() ?? "") || result.stderr;
}

beforeAll(async () => {
  python = execFileSync("bash", [path.join(here, "freqtrade", "install.sh")], {
    encoding: "utf8",
    timeout: 120_000,
  }).trim();
  const compiler = createEsbuildStrategyCompiler();
  const sandbox = createWorkerStrategySandbox();
  for (const files of await createDirectoryStrategySource(strategiesDir).loadAll()) {
    const compiled = await compiler.compile(files);
    if (!compiled.ok) throw new Error(`${files.entry} does not compile`);
    const inspected = await sandbox.inspect(compiled.compiled);
    if (!inspected.ok) throw new Error(`${files.entry} does not load`);
    descriptions[inspected.inspection.description.name] = inspected.inspection.description;
  }
  await sandbox.close();
}, 180_000);

const base: ConfigValues = {
  pairs: ["BTC/USDT", "ETH/USDT"],
  stake_amount: 100,
  timerange: "20250101-20250201",
};

describe("Freqtrade accepts the exported config", () => {
  it.each([
    ["SampleStrategy", {}],
    ["EmaCrossTrailing", { max_open_trades: 1 }],
    [
      "MeanReversionLongShort",
      { trading_mode: "futures", margin_mode: "isolated", pairs: ["BTC/USDT:USDT"] },
    ],
  ])("for %s, in backtest and dry-run mode", (name, extra) => {
    const strategy = descriptions[name] as StrategyDescription;
    const prepared = prepareRunConfig({ strategy, strategyVersion: "v", overrides: { ...base, ...extra } });
    expect(
      validateRunConfig(prepared.config, {
        strategy,
        snapshot: { timeframes: CCXT_TIMEFRAMES["binance"] ?? [] },
      }),
    ).toEqual([]);
    const exported = toFreqtradeConfig(prepared.config);
    expect(freqtradeVerdict(exported, "backtest")).toBe("ok");
    expect(freqtradeVerdict(exported, "dry_run")).toBe("ok");
  });
});

describe("ValidateConfig rejects what Freqtrade rejects, naming the field", () => {
  it.each([
    ["stoploss", { stoploss: 0.05 }],
    ["max_open_trades", { stake_amount: "unlimited", max_open_trades: -1 }],
    [
      "trailing_stop_positive_offset",
      {
        trailing_stop: true,
        trailing_stop_positive: 0.02,
        trailing_stop_positive_offset: 0.01,
        trailing_only_offset_is_reached: true,
      },
    ],
    ["stake_amount", { stake_amount: -10 }],
    ["fee", { fee: 0.5 }],
    ["tradable_balance_ratio", { tradable_balance_ratio: 1.5 }],
  ])("%s", (field, bad) => {
    const strategy = descriptions["SampleStrategy"] as StrategyDescription;
    const prepared = prepareRunConfig({ strategy, strategyVersion: "v", overrides: { ...base, ...bad } });
    const issues = validateRunConfig(prepared.config, { strategy });
    expect(issues.map((issue) => issue.field)).toContain(field);
    expect(freqtradeVerdict(toFreqtradeConfig(prepared.config))).not.toBe("ok");
  });
});
