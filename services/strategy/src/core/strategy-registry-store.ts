/**
 * Persistence port of the strategy registry. A stored version is immutable: the same name and
 * version always hold the same sources, so implementations may cache reads forever.
 */
import type { StrategyDescription } from "@tradai/engine";

export interface StoredStrategyVersion {
  readonly name: string;
  /** sha256 (hex) of the sources (see `strategyVersion`). */
  readonly version: string;
  /** Entry file path, e.g. "ema_cross.ts". */
  readonly fileName: string;
  /** ISO 8601 time of first registration. */
  readonly registeredAt: string;
  /** Entry and bundled local imports: path → source. */
  readonly sources: Readonly<Record<string, string>>;
  readonly description: StrategyDescription;
  readonly tags: readonly string[];
}

export interface StrategyRegistryStore {
  readonly location: string;
  /** Stores a version; false (and nothing written) when that name and version already exist. */
  put(record: StoredStrategyVersion): Promise<boolean>;
  get(name: string, version: string): Promise<StoredStrategyVersion | undefined>;
  /** Every stored version of `name` (any order). */
  listVersions(name: string): Promise<StoredStrategyVersion[]>;
  listNames(): Promise<string[]>;
  /** Resolves when the store is reachable (the health check). */
  ping(): Promise<void>;
}
