import { hostname } from "node:os";
import { open, readFile, rename, stat, unlink } from "node:fs/promises";
import { DataCollectionError } from "../../core/errors";

export interface FileLockOptions {
  /** Give up after this long. Default 30 000 ms. */
  timeoutMs?: number;
  /**
   * A lock file without a readable owner (its writer died between create and write) is stale
   * once older than this. Default 10 000 ms.
   */
  unreadableStaleMs?: number;
}

interface LockOwner {
  pid: number;
  host: string;
  acquiredAt: string;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An exclusive lock file (O_CREAT|O_EXCL) holding the owner's pid and host. A lock whose owner
 * process on this host is gone (e.g. killed with SIGKILL) is stale and taken over.
 */
export async function acquireFileLock(
  path: string,
  options: FileLockOptions = {},
  /** How errors name the lock (default `path`); errors reach clients, so no absolute paths. */
  displayName = path,
): Promise<() => Promise<void>> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const unreadableStaleMs = options.unreadableStaleMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  const owner: LockOwner = { pid: process.pid, host: hostname(), acquiredAt: new Date().toISOString() };
  let lastOwner = "unknown";
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, "wx");
      try {
        await handle.writeFile(JSON.stringify(owner));
      } finally {
        await handle.close();
      }
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let stale = false;
    try {
      const text = await readFile(path, "utf8");
      const current = JSON.parse(text) as Partial<LockOwner>;
      lastOwner = `pid ${current.pid} on ${current.host}`;
      stale = current.host === owner.host && typeof current.pid === "number" && !isProcessAlive(current.pid);
    } catch {
      const info = await stat(path).catch(() => undefined);
      stale = info !== undefined && Date.now() - info.mtimeMs > unreadableStaleMs;
    }
    if (stale) {
      // Rename first so two processes cannot both remove the stale lock and then each other's.
      const aside = `${path}.stale-${process.pid}-${attempt}`;
      await rename(path, aside)
        .then(() => unlink(aside))
        .catch(() => undefined);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new DataCollectionError(
        "aborted",
        `${displayName}: series is locked by another writer (${lastOwner}); gave up after ${timeoutMs} ms`,
        { field: displayName },
      );
    }
    await sleep(Math.min(200, 10 + attempt * 5));
  }
}
