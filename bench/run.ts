// `npm run bench [name ...]`: runs the benchmarks in bench/<name>/ (each has a bench.ts entry and a
// README saying what it measures and against which baseline). Without names, lists them.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const available = readdirSync(benchDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(path.join(benchDir, entry.name, "bench.ts")))
  .map((entry) => entry.name)
  .sort();

const requested = process.argv.slice(2).filter((argument) => !argument.startsWith("-"));
const passThrough = process.argv.slice(2).filter((argument) => argument.startsWith("-"));
if (requested.length === 0) {
  console.log(
    `benchmarks: ${available.length === 0 ? "(none yet)" : available.join(", ")}\nrun one with: npm run bench -- <name> [--flags]`,
  );
  process.exit(0);
}
for (const name of requested) {
  if (!available.includes(name)) {
    console.error(`unknown benchmark "${name}": expected one of ${available.join(", ")}`);
    process.exit(2);
  }
}
for (const name of requested) {
  console.log(`\n== bench/${name}`);
  const result = spawnSync(
    process.execPath,
    ["--import", "tsx", path.join(benchDir, name, "bench.ts"), ...passThrough],
    {
      stdio: "inherit",
    },
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
}
