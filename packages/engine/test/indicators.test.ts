// Every indicator against golden vectors written by the real TA-Lib (PyPI `ta-lib`) and by
// qtpylib's formulas over pandas, on real candles from ../shared/data/ohlcv. See
// packages/engine/test/golden/SOURCES.md. NaN positions must match exactly; values to 1e-9 relative.

import { describe, expect, it } from "vitest";
import { IMPLS, compare } from "./golden/impls.ts";
import { goldenFiles, loadColumns, loadGolden, storedRows, type GoldenCase } from "./golden/load.ts";

const label = (c: GoldenCase): string =>
  `${c.fn}(${c.inputs.join(", ")}${Object.entries(c.params)
    .map(([k, v]) => `, ${k}=${v}`)
    .join("")})`;

for (const file of goldenFiles()) {
  const golden = loadGolden(file);
  describe(`TA-Lib golden ${golden.dataset.id} (${golden.dataset.file} rows ${golden.dataset.startRow}..${
    golden.dataset.startRow + golden.dataset.rows - 1
  })`, () => {
    const cols = loadColumns(golden);
    const rows = storedRows(golden);

    it("re-reads the very candles the golden vectors were computed from", () => {
      const ts = cols["timestamp"]!;
      expect(ts[0]).toBe(golden.dataset.firstTimestamp);
      expect(ts[ts.length - 1]).toBe(golden.dataset.lastTimestamp);
      for (const c of golden.cases)
        for (const o of Object.values(c.outputs)) expect(o.length).toBe(rows.length);
    });

    for (const c of golden.cases) {
      it(label(c), () => {
        const impl = IMPLS[c.fn];
        expect(impl, `no implementation mapped for ${c.fn}`).toBeDefined();
        const out = impl!(
          c.inputs.map((name) => cols[name]!),
          c.params,
        );
        for (const [name, expected] of Object.entries(c.outputs)) {
          const got = out[name];
          expect(got, `output ${name}`).toBeDefined();
          expect(got!.length).toBe(golden.dataset.rows);
          const bad = compare(expected, got!, rows);
          expect(bad.slice(0, 5), `${name}: ${bad.length} of ${rows.length} stored rows differ`).toEqual([]);
        }
      });
    }
  });
}
