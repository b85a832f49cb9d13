// Issue #5 audit: untrusted strategy code must not reach the worker's `process` (and through it
// the file system, child processes, workers or sockets). Every classic way out of a V8 context is
// tried from a strategy, at import, in a populate hook during the load check and during a
// look-ahead analysis; on success a probe would copy a secret file into a marker directory.
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { candlesFromRows } from "@tradai/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CompiledStrategy } from "../src/core/strategy-sandbox";
import { createEsbuildStrategyCompiler } from "../src/infrastructure/esbuild-strategy-compiler";
import { createWorkerStrategySandbox } from "../src/infrastructure/worker-strategy-sandbox";
import {
  allBlocked,
  ASYNC_PROBES,
  escapeStrategySource,
  LATE_PROBE_NAME,
  LATE_PROBE_TAGS,
  LATE_PROBE_THROW,
  LATE_PROBES,
  lateEscapeStrategySource,
  lateProbeThrowLine,
  probeReport,
  SYNC_PROBES,
  threadCount,
  threadsSettleTo,
} from "./escape-probes";
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
  await mkdir(markers);
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

// The audit after issue #5: strategy code left behind (an unhandled rejection, a finalization
// callback) ran after the answer, when the worker read an error's `.stack` in its own realm — and
// a stack hook on the context's `Error` was then called with that realm's call sites. The race
// with the main thread's terminate() makes one run unreliable: each probe runs five times.
describe("strategy code cannot run in the worker after the sandbox answered", () => {
  const RUNS = 5;

  for (const probe of LATE_PROBES) {
    it(`${probe}: neither process nor fs is reached through a load or an analysis (${RUNS} runs each)`, async () => {
      const probeMarkers = path.join(scratch, `late-${probe}`);
      await mkdir(probeMarkers);
      const late = async (label: string) => {
        const source = lateEscapeStrategySource(probeMarkers, secretPath, probe, label);
        return { source, compiled: await compile({ "late.ts": source }, "late.ts") };
      };
      for (let run = 0; run < RUNS; run++) {
        const { source, compiled } = await late(`inspect-${run}`);
        const inspected = await sandbox.inspect(compiled);
        const analysed = await sandbox.analyze((await late(`analyze-${run}`)).compiled, {
          pair: "BTC/USDT",
          candles: syntheticCandles(300),
          informative: {},
          rangeStartIndex: 50,
          params: {},
          samples: 2,
          recursive: false,
        });
        if (probe === "importThrow") {
          // Node's stack format, not the strategy's hook: the issue names the throw's line.
          const issue = {
            field: "source",
            message: `loading the strategy threw: ${LATE_PROBE_THROW}`,
            file: "late.ts",
            line: lateProbeThrowLine(source),
          };
          expect(inspected.ok).toBe(false);
          if (!inspected.ok) expect(inspected.issues[0]).toMatchObject(issue);
          expect(analysed.ok).toBe(false);
          if (!analysed.ok) expect(analysed.issues[0]).toMatchObject(issue);
        } else {
          expect(inspected.ok && inspected.inspection.description.name).toBe(LATE_PROBE_NAME);
          expect(inspected.ok && inspected.inspection.tags.length).toBe(LATE_PROBE_TAGS);
          expect(analysed.ok && analysed.hasBias).toBe(false);
        }
      }
      // A worker that outlived its answer would have written by now; none may have.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await readdir(probeMarkers)).toEqual([]);
      const after = await sandbox.inspect(
        await compile({ "after.ts": minimalStrategy("AfterLateProbe") }, "after.ts"),
      );
      expect(after.ok && after.inspection.description.name).toBe("AfterLateProbe");
    }, 240_000);
  }

  it("stops every worker after its answer: 20 loads in a row leave no thread behind", async () => {
    const compiled = await compile({ "threads.ts": minimalStrategy("Threads") }, "threads.ts");
    await sandbox.inspect(compiled);
    const before = await threadCount();
    for (let run = 0; run < 20; run++) {
      const result = await sandbox.inspect(compiled);
      expect(result.ok && result.inspection.description.name).toBe("Threads");
    }
    // Each worker waits for terminate() after answering: one left running is one more thread.
    expect(await threadsSettleTo(before + 3)).toBeLessThanOrEqual(before + 3);
  }, 120_000);
});
