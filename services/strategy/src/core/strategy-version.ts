import { createHash } from "node:crypto";

/**
 * Version of a strategy: sha256 (hex) of its entry source followed by each bundled local import
 * (path and source, sorted by path). Renaming the entry file keeps the version; editing any file
 * the strategy imports changes it.
 */
export function strategyVersion(entry: string, sources: Readonly<Record<string, string>>): string {
  const hash = createHash("sha256");
  hash.update(sources[entry] ?? "");
  for (const path of Object.keys(sources).sort()) {
    if (path === entry) continue;
    hash.update(`\0${path}\0`);
    hash.update(sources[path] ?? "");
  }
  return hash.digest("hex");
}
