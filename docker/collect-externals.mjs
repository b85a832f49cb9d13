// Copies the packages that esbuild leaves external (native modules such as better-sqlite3 and
// DuckDB's bindings) and their production dependency closure from the build stage's node_modules
// into <out>/node_modules, so the runtime image carries them and nothing else.
// Usage: node docker/collect-externals.mjs <out-dir> <package> [<package> ...]
// A package that is not installed is skipped with a note: not every deployable uses every module.
// Copies whole package directories, so nested node_modules (conflicting versions) come along.
import { cpSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";

const [outDirectory, ...roots] = process.argv.slice(2);
if (outDirectory === undefined) {
  console.error("collect-externals: expected <out-dir> <package>..., got no arguments");
  process.exit(2);
}
const source = path.resolve("node_modules");
const target = path.resolve(outDirectory, "node_modules");
const seen = new Set();
const copied = [];
const queue = [...roots];
while (queue.length > 0) {
  const name = queue.shift();
  if (seen.has(name)) continue;
  seen.add(name);
  const directory = path.join(source, name);
  if (!existsSync(path.join(directory, "package.json"))) {
    // Optional platform packages (e.g. @esbuild/darwin-arm64) are absent by design.
    if (roots.includes(name)) console.log(`collect-externals: ${name} is not installed, skipped`);
    continue;
  }
  copied.push(name);
  mkdirSync(path.dirname(path.join(target, name)), { recursive: true });
  cpSync(directory, path.join(target, name), { recursive: true, dereference: true });
  const manifest = JSON.parse(readFileSync(path.join(directory, "package.json"), "utf8"));
  queue.push(
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
  );
}
console.log(`collect-externals: copied ${copied.length > 0 ? copied.join(", ") : "nothing"}`);
