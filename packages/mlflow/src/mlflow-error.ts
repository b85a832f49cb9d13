// Errors from the MLflow REST API carry MLflow's error_code ("RESOURCE_DOES_NOT_EXIST",
// "INVALID_PARAMETER_VALUE", ...) and message, so callers branch on the code, never on text.

export class MlflowError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    /** HTTP status; 0 when no response arrived (network error or timeout). */
    readonly status: number,
    /** MLflow's error_code, or "NETWORK_ERROR" / "HTTP_<status>" when the body had none. */
    readonly errorCode: string,
    readonly mlflowMessage: string,
    options?: { cause?: unknown },
  ) {
    super(
      `MLflow ${method} ${path} failed: ${status === 0 ? "" : `${status} `}${errorCode}: ${mlflowMessage}`,
      options,
    );
    this.name = "MlflowError";
  }

  /** Worth retrying: a network error, 429 or 5xx. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

export function isMlflowError(error: unknown, errorCode?: string): error is MlflowError {
  return error instanceof MlflowError && (errorCode === undefined || error.errorCode === errorCode);
}

export const RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST";
export const RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS";
export const INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE";
