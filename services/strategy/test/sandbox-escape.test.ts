// Issue #5 audit: untrusted strategy code must not reach the worker's `process` (and through it
// the file system, child processes, workers or sockets). Every classic way out of a V8 context is
// tried from a strategy, at import, in a populate hook during the load check and during a
// look-ahead analysis; on success a probe would copy a secret file into a marker directory.
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { candlesFromRows } from "@tradai/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CompiledStrategy } from "../src/core/strategy-sandbox";
import { createEsbuildStrategyCompiler } from "../src/infrastructure/esbuild-strategy-compiler";
import { createWorkerStrategySandbox } from "../src/infrastructure/worker-strategy-sandbox";
import { allBlocked, ASYNC_PROBES, escapeStrategySource, probeReport, SYNC_PROBES } from "./escape-probes";
import { minimalStrategy } from "./helpers";

const compiler = createEsbuildStrategyCompiler();
const sandbox = createWorkerStrategySandbox({ loadTimeoutMs: 20_000, analysisTimeoutMs: 30_000 });
let scratch: string;
let markers: string;
let secretPath: string;
const SECRET = "tradai-test-secret-7d1f";

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "tradai-sandbox-escape-"));
  markers = path.join(scratch, "markers");
  secretPath = path.join(scratch, "secret.txt");
  await writeFile(secretPath, SECRET);
  await import("node:fs/promises").then((fs) => fs.mkdir(markers));
});
afterAll(async () => {
  await sandbox.close();
  await rm(scratch, { recursive: true, force: true });
});

async function compile(files: Record<string, string>, entry: string): Promise<CompiledStrategy> {
  const compiled = await compiler.compile({ entry, files });
  if (!compiled.ok) throw new Error(`compile failed: ${JSON.stringify(compiled.issues)}`);
  return compiled.compiled;
}

function syntheticCandles(count: number) {
  const start = Date.UTC(2025, 0, 1);
  return candlesFromRows(
    Array.from({ length: count }, (_, index) => {
      const price = 100 + Math.sin(index / 7) * 5;
      return [start + index * 300_000, price, price + 1, price - 1, price + 0.5, 10];
    }),
  );
}

describe("strategy code cannot leave its V8 context", () => {
  it("reaches neither process nor fs through any host-realm object while loading", async () => {
    const compiled = await compile({ "escaper.ts": escapeStrategySource(markers, secretPath) }, "escaper.ts");
    const result = await sandbox.inspect(compiled);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]).toMatchObject({ field: "populateIndicators", file: "escaper.ts" });
    expect(probeReport(result.issues)).toEqual(allBlocked([...SYNC_PROBES, ...ASYNC_PROBES]));
    expect(JSON.stringify(result.issues)).not.toContain(SECRET);
    expect(await readdir(markers)).toEqual([]);
  }, 60_000);

  it("reaches neither process nor fs during a look-ahead analysis (candles copied into the context)", async () => {
    const compiled = await compile({ "escaper.ts": escapeStrategySource(markers, secretPath) }, "escaper.ts");
    const result = await sandbox.analyze(compiled, {
      pair: "BTC/USDT",
      candles: syntheticCandles(300),
      informative: {},
      rangeStartIndex: 50,
      params: {},
      samples: 2,
      recursive: false,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(probeReport(result.issues)).toEqual(allBlocked([...SYNC_PROBES, ...ASYNC_PROBES]));
    expect(await readdir(markers)).toEqual([]);
  }, 60_000);

  it("rejects a literal dynamic import at compile time, naming the line", async () => {
    const source = `export const loaded = import("node:fs");\n${minimalStrategy("LiteralImport")}`;
    const result = await compiler.compile({ entry: "literal.ts", files: { "literal.ts": source } });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues[0]).toMatchObject({ file: "literal.ts", line: 1 });
      expect(result.issues[0]?.message).toContain('import "node:fs": expected "@tradai/engine"');
    }
  });

  it("rejects an answer the strategy forged by patching the harness's JSON (a name that is a path)", async () => {
    const forged = JSON.stringify({
      ok: true,
      task: "inspect",
      description: { name: "../../escape", timeframe: "5m", parameters: [] },
      tags: [],
    });
    const source = `${minimalStrategy("Forger")}
const realStringify = JSON.stringify;
JSON.stringify = ((value: unknown, ...rest: any[]) =>
  (value as any)?.task === "inspect" ? ${JSON.stringify(forged)} : realStringify(value, ...rest)) as typeof JSON.stringify;
`;
    const result = await sandbox.inspect(await compile({ "forger.ts": source }, "forger.ts"));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues[0]?.message).toContain('strategy name "../../escape"');
      expect(result.issues[0]?.found).toBe('strategy name "../../escape"');
    }
  });

  it("keeps serving after every attempt", async () => {
    const result = await sandbox.inspect(
      await compile({ "after.ts": minimalStrategy("AfterEscape") }, "after.ts"),
    );
    expect(result.ok && result.inspection.description.name).toBe("AfterEscape");
  });
});
