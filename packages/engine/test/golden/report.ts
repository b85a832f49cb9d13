// How close our indicators are to the golden vectors, case by case: rows equal to the last bit and
// the largest relative difference. A development tool for TA-Lib upgrades, not a test:
//
//   npx tsx packages/engine/test/golden/report.ts [--all]
//
// Without --all only the outputs that are not bit-identical are listed.

import { IMPLS } from "./impls.ts";
import { goldenFiles, loadColumns, loadGolden, storedRows } from "./load.ts";

const showAll = process.argv.includes("--all");
for (const file of goldenFiles()) {
  const g = loadGolden(file);
  const cols = loadColumns(g);
  const rows = storedRows(g);
  for (const c of g.cases) {
    const out = IMPLS[c.fn]!(
      c.inputs.map((n) => cols[n]!),
      c.params,
    );
    for (const [name, expected] of Object.entries(c.outputs)) {
      const got = out[name]!;
      let exact = 0;
      let values = 0;
      let maxRel = 0;
      for (let j = 0; j < rows.length; j++) {
        const e = expected[j];
        const v = got[rows[j]!]!;
        if (e === null || e === undefined) continue;
        values++;
        if (e === v) exact++;
        else maxRel = Math.max(maxRel, Math.abs(v - e) / Math.max(Math.abs(e), Math.abs(v)));
      }
      if (showAll || exact < values) {
        const params = JSON.stringify(c.params);
        console.log(
          `${g.dataset.id} ${c.fn} ${params} ${c.inputs.join(",")} ${name}: ${exact}/${values} bit-identical, max rel diff ${maxRel.toExponential(2)}`,
        );
      }
    }
  }
}
