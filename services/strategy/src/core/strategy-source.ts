/**
 * Strategy sources: a strategy file plus the local files it may import, as text. Where they come
 * from (a directory, an S3 prefix, an upload) is a port; the compiler only sees this shape.
 */

/** A strategy entry file and every local file visible to it, keyed by POSIX path relative to the root. */
export interface StrategySourceFiles {
  /** Path of the strategy file, e.g. "ema_cross.ts" or "lib/shared.ts". */
  readonly entry: string;
  /** Path → TypeScript source. Must contain `entry`. */
  readonly files: Readonly<Record<string, string>>;
}

/** Lists and reads strategy files (the directory or S3 prefix of STRATEGY_SERVICE_STRATEGIES_DIR). */
export interface StrategySourceRepository {
  /** Human-readable location, for logs ("./strategies", "s3://bucket/strategies/"). */
  readonly location: string;
  /**
   * Strategy files (top-level `*.ts`, not `*.test.ts` / `*.d.ts`) with every `.ts` file under the
   * root available for local imports.
   */
  loadAll(): Promise<StrategySourceFiles[]>;
}

/** Files under the root that are strategies: top-level TypeScript files, not tests or declarations. */
export function isStrategyEntry(path: string): boolean {
  return !path.includes("/") && path.endsWith(".ts") && !path.endsWith(".test.ts") && !path.endsWith(".d.ts");
}

/** Files that may be imported by strategies: any TypeScript file except tests and declarations. */
export function isStrategyModule(path: string): boolean {
  return path.endsWith(".ts") && !path.endsWith(".test.ts") && !path.endsWith(".d.ts");
}
