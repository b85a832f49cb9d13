// Markets snapshots as JSON files, one per exchange (<directory>/<exchange>.json), replaced
// atomically (temporary file + rename), so a reader sees the previous snapshot or the next, never
// half of one.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { MarketsSnapshot } from "../core/exchange-client";
import type { MarketsSnapshotStore } from "../core/markets-snapshot-store";

const EXCHANGE_ID = /^[a-z0-9]+$/;

function fileOf(directory: string, exchange: string): string {
  if (!EXCHANGE_ID.test(exchange))
    throw new Error(
      `exchange: expected a ccxt exchange id (lowercase letters and digits), got ${JSON.stringify(exchange)}`,
    );
  return join(directory, `${exchange}.json`);
}

function isSnapshot(value: unknown, exchange: string): value is MarketsSnapshot {
  const candidate = value as Partial<MarketsSnapshot> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    candidate.exchange === exchange &&
    Array.isArray(candidate.markets) &&
    Array.isArray(candidate.timeframes) &&
    typeof candidate.fetchedAtMs === "number"
  );
}

export function createFileMarketsSnapshotStore(
  directory: string,
  onUnreadable?: (file: string, reason: string) => void,
): MarketsSnapshotStore {
  return {
    async load(exchange) {
      const file = fileOf(directory, exchange);
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
      try {
        const parsed: unknown = JSON.parse(text);
        if (isSnapshot(parsed, exchange)) return parsed;
        onUnreadable?.(file, `expected a markets snapshot of ${exchange}, got another shape`);
      } catch (error) {
        onUnreadable?.(file, `expected JSON, got ${(error as Error).message}`);
      }
      return undefined;
    },
    async save(snapshot) {
      const file = fileOf(directory, snapshot.exchange);
      await mkdir(directory, { recursive: true });
      const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(temporary, JSON.stringify(snapshot));
      await rename(temporary, file);
    },
  };
}
