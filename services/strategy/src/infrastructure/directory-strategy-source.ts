/** Strategy files from a local directory (STRATEGY_SERVICE_STRATEGIES_DIR, default ./strategies). */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import {
  isStrategyEntry,
  isStrategyModule,
  type StrategySourceFiles,
  type StrategySourceRepository,
} from "../core/strategy-source";

/** Most files read from one strategies root; a guard against pointing it at a huge tree. */
const MAX_FILES = 2_000;

async function listFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relative: string) => {
    const entries = await readdir(path.join(root, relative), { withFileTypes: true });
    for (const entry of entries) {
      if (found.length >= MAX_FILES) return;
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const child = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile() && isStrategyModule(child)) found.push(child);
    }
  };
  await walk("");
  return found.sort();
}

export function createDirectoryStrategySource(directory: string): StrategySourceRepository {
  const root = path.resolve(directory);
  return {
    location: root,
    async loadAll(): Promise<StrategySourceFiles[]> {
      let paths: string[];
      try {
        paths = await listFiles(root);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw error;
      }
      const files: Record<string, string> = {};
      for (const file of paths) files[file] = await readFile(path.join(root, file), "utf8");
      return paths.filter(isStrategyEntry).map((entry) => ({ entry, files }));
    },
  };
}
