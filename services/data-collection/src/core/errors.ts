// Domain errors of the data-collection service, classified by what the caller should do
// (CONVENTIONS.md "Errors and config"). api/ maps `kind` to a Connect code; nothing branches on
// message text.

/** What went wrong, from the caller's point of view. */
export type DataCollectionErrorKind =
  /** The request itself is wrong (bad symbol format, inverted range, bad CSV): do not retry. */
  | "invalid-argument"
  /** The exchange, symbol or series does not exist. */
  | "not-found"
  /** Stored data is corrupt or truncated. */
  | "data-loss"
  /** The exchange or storage is unreachable / rate limited after all retries: retry later. */
  | "unavailable"
  /** Another writer holds the series lock. */
  | "aborted"
  /** The caller cancelled its own call (its AbortSignal fired). */
  | "canceled";

export interface DataCollectionErrorOptions {
  /** The request field or file the error is about, e.g. "range.start" or a partition path. */
  field?: string;
  cause?: unknown;
}

export class DataCollectionError extends Error {
  readonly kind: DataCollectionErrorKind;
  readonly field: string | undefined;

  constructor(kind: DataCollectionErrorKind, message: string, options: DataCollectionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DataCollectionError";
    this.kind = kind;
    this.field = options.field;
  }

  /** True when retrying the same call later can succeed. */
  get retryable(): boolean {
    return this.kind === "unavailable" || this.kind === "aborted";
  }
}

export function invalidArgument(field: string, message: string, cause?: unknown): DataCollectionError {
  return new DataCollectionError("invalid-argument", `${field}: ${message}`, { field, cause });
}

export function notFound(field: string, message: string, cause?: unknown): DataCollectionError {
  return new DataCollectionError("not-found", `${field}: ${message}`, { field, cause });
}

export function dataLoss(file: string, message: string, cause?: unknown): DataCollectionError {
  return new DataCollectionError("data-loss", `${file}: ${message}`, { field: file, cause });
}

export function unavailable(message: string, cause?: unknown): DataCollectionError {
  return new DataCollectionError("unavailable", message, { cause });
}

export function canceled(message: string, cause?: unknown): DataCollectionError {
  return new DataCollectionError("canceled", message, { cause });
}

export function isDataCollectionError(value: unknown): value is DataCollectionError {
  return value instanceof DataCollectionError;
}
