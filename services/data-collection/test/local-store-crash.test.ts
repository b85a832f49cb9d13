import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { candleCount, createCandles } from "../src/core/candles";
import { createLocalMarketDataStore } from "../src/infrastructure/store/create-market-data-store";

const childScript = fileURLToPath(new URL("./support/store-writer-child.ts", import.meta.url));
const key = { exchange: "binance", symbol: "BTC/USDT", timeframe: "1m" };
const seriesDirectory = (root: string): string => join(root, "binance", "BTC%2FUSDT", "1m");
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("local store crash safety", () => {
  it("keeps the previous data intact when a writer is killed with SIGKILL mid-write", async () => {
    const directory = await mkdtemp(join(tmpdir(), "tradai-crash-"));
    const count = 300_000;
    const lockFile = join(seriesDirectory(directory), ".lock");
    const lockExists = (): Promise<boolean> =>
      stat(lockFile).then(
        () => true,
        () => false,
      );
    const reader = createLocalMarketDataStore({ directory, verifyChecksums: "always" });
    try {
      // A kill at a random moment can land between two writes (lock released); such an attempt
      // still has to leave intact data, but does not count as a mid-write kill. Each new writer
      // also has to take over the lock a killed one left behind.
      let killedMidWrite = 0;
      for (let attempt = 0; attempt < 8 && killedMidWrite < 2; attempt++) {
        const { lastCommitted, lockLeft } = await killWriterAtRandom(directory, count, lockExists);
        if (lockLeft) killedMidWrite += 1;
        const stored = await reader.read(key);
        expect(candleCount(stored)).toBe(count);
        // Every candle comes from one version: the last committed one or the one being committed.
        const version = stored.close[0] ?? 0;
        expect([lastCommitted, lastCommitted + 1]).toContain(version);
        expect(stored.close.every((value) => value === version)).toBe(true);
        expect(stored.volume.every((value) => value === version)).toBe(true);
      }
      // The lock file left behind proves a kill landed inside a write.
      expect(killedMidWrite).toBeGreaterThanOrEqual(1);

      // The dead writer's lock is stale: a new writer takes it over and sweeps its leftovers.
      const writer = createLocalMarketDataStore({ directory, lock: { timeoutMs: 5_000 } });
      const one = createCandles(1);
      one.timestamps[0] = Date.UTC(2024, 0, 1);
      one.close[0] = -1;
      await writer.write(key, one);
      expect(
        (await reader.read(key, { startMs: Date.UTC(2024, 0, 1), endMs: Date.UTC(2024, 0, 1, 0, 1) }))
          .close[0],
      ).toBe(-1);
      const leftovers = (await readdir(seriesDirectory(directory))).filter(
        (file) => file.includes(".tmp-") || file.startsWith(".lock"),
      );
      expect(leftovers).toEqual([]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it("waits for a live writer's lock and gives up with an aborted error naming the lock", async () => {
    const directory = await mkdtemp(join(tmpdir(), "tradai-lock-"));
    try {
      const store = createLocalMarketDataStore({ directory, lock: { timeoutMs: 300 } });
      await store.write(key, createCandlesAt(Date.UTC(2024, 0, 1)));
      // A live process (this one's parent, always alive) holds the lock.
      const lockFile = join(seriesDirectory(directory), ".lock");
      await writeFile(
        lockFile,
        JSON.stringify({
          pid: process.ppid,
          host: (await import("node:os")).hostname(),
          acquiredAt: new Date().toISOString(),
        }),
      );
      const error = await store
        .write(key, createCandlesAt(Date.UTC(2024, 0, 2)))
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ kind: "aborted" });
      // Named relative to the store (the message reaches clients), not by the server's path.
      expect((error as Error).message).toContain(
        "binance/BTC%2FUSDT/1m/.lock: series is locked by another writer",
      );
      expect((error as Error).message).not.toContain(directory);
      await rm(lockFile);
      await store.write(key, createCandlesAt(Date.UTC(2024, 0, 2)));
      expect((await store.info(key))?.count).toBe(2);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

function createCandlesAt(timestampMs: number) {
  const candles = createCandles(1);
  candles.timestamps[0] = timestampMs;
  return candles;
}

/** Starts a writer child, waits for two commits and a write in progress, then SIGKILLs it. */
async function killWriterAtRandom(
  directory: string,
  count: number,
  lockExists: () => Promise<boolean>,
): Promise<{ lastCommitted: number; lockLeft: boolean }> {
  const child = spawn(process.execPath, ["--import", "tsx", childScript, directory, String(count)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise((resolve) => child.once("close", resolve));
  try {
    let committed = 0;
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      for (const match of chunk.toString().matchAll(/committed (\d+)/g)) committed = Number(match[1]);
    });
    for (let waited = 0; committed < 2 && waited < 20_000; waited += 20) await sleep(20);
    expect(committed, stderr).toBeGreaterThanOrEqual(2);
    // Aim inside a write: wait for the lock file, then a random few milliseconds.
    for (let tries = 0; tries < 200 && !(await lockExists()); tries++) await sleep(1);
    await sleep(Math.floor(Math.random() * 10));
    child.kill("SIGKILL");
    await exited;
    return { lastCommitted: committed, lockLeft: await lockExists() };
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
}
