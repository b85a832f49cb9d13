/** Registry on the local disk: <dir>/<name>/<version>.json (default ./.tradai/strategies). */
import { constants } from "node:fs";
import { access, mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { StoredStrategyVersion, StrategyRegistryStore } from "../core/strategy-registry-store";

export function createFileStrategyRegistryStore(directory: string): StrategyRegistryStore {
  const root = path.resolve(directory);
  const fileOf = (name: string, version: string) => path.join(root, name, `${version}.json`);
  const cache = new Map<string, StoredStrategyVersion>();

  async function read(name: string, version: string): Promise<StoredStrategyVersion | undefined> {
    const key = `${name}/${version}`;
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    try {
      const record = JSON.parse(await readFile(fileOf(name, version), "utf8")) as StoredStrategyVersion;
      cache.set(key, record);
      return record;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async function list(directoryPath: string): Promise<string[]> {
    try {
      return await readdir(directoryPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
  }

  return {
    location: root,
    async put(record) {
      if ((await read(record.name, record.version)) !== undefined) return false;
      const target = fileOf(record.name, record.version);
      await mkdir(path.dirname(target), { recursive: true });
      // Write then rename: a reader never sees a half-written version.
      const temporary = `${target}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(temporary, JSON.stringify(record), "utf8");
      await rename(temporary, target);
      cache.set(`${record.name}/${record.version}`, record);
      return true;
    },
    get: read,
    async listVersions(name) {
      const files = (await list(path.join(root, name))).filter((file) => /^[0-9a-f]{64}\.json$/.test(file));
      const records = await Promise.all(files.map((file) => read(name, file.slice(0, -5))));
      return records.filter((record): record is StoredStrategyVersion => record !== undefined);
    },
    async listNames() {
      const entries = await list(root);
      return entries.filter((entry) => !entry.startsWith(".")).sort();
    },
    async ping() {
      await mkdir(root, { recursive: true });
      await access(root, constants.W_OK);
    },
  };
}
