// The error model (CONVENTIONS.md): ConnectError with a code inside every process; RFC 9457
// problem+json at the REST edge; one conversion function each way. Never a stack trace to a client.
import { Code, ConnectError } from "@connectrpc/connect";

/** What the caller should do about a failure, independent of transport. */
export type ErrorDisposition = "retryable" | "not_retryable" | "fatal";

/** A field-level problem, carried in error metadata and problem+json `errors`. */
export interface FieldViolation {
  field: string;
  message: string;
  expected?: string;
  found?: string;
}

/** A domain error with a Connect code; core/ code throws these instead of transport errors. */
export class DomainError extends Error {
  constructor(
    readonly code: Code,
    message: string,
    readonly violations: FieldViolation[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DomainError";
  }
}

export const invalidArgument = (message: string, violations: FieldViolation[] = []) =>
  new DomainError(Code.InvalidArgument, message, violations);
export const notFound = (message: string) => new DomainError(Code.NotFound, message);

const VIOLATIONS_HEADER = "tradai-violations-bin";

/**
 * Converts anything thrown into a ConnectError. ConnectErrors pass through; DomainErrors keep their
 * code and field violations (in the `tradai-violations-bin` metadata); anything else becomes
 * INTERNAL with a generic message, the original kept as `cause` for the logs.
 */
export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof DomainError) {
    const metadata = new Headers();
    if (error.violations.length > 0) {
      metadata.set(VIOLATIONS_HEADER, Buffer.from(JSON.stringify(error.violations)).toString("base64"));
    }
    return new ConnectError(error.message, error.code, metadata, undefined, error);
  }
  return new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}

/** Field violations carried by a ConnectError (set by `toConnectError`). */
export function violationsOf(error: ConnectError): FieldViolation[] {
  const raw = error.metadata.get(VIOLATIONS_HEADER);
  if (raw === null) return [];
  try {
    return JSON.parse(Buffer.from(raw, "base64").toString("utf8")) as FieldViolation[];
  } catch {
    return [];
  }
}

const HTTP_STATUS: Record<Code, number> = {
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 412,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

export function httpStatusOf(code: Code): number {
  return HTTP_STATUS[code];
}

/** RFC 9457 problem details, as served with content type application/problem+json. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  /** The Connect code in snake_case ("invalid_argument"), for clients that speak both. */
  code: string;
  errors?: FieldViolation[];
  request_id?: string;
}

const codeName = (code: Code) => Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();

/** The one REST-edge conversion: anything thrown → problem+json (no stack traces, no internals). */
export function toProblemDetails(error: unknown, instance?: string): ProblemDetails {
  const connectError = toConnectError(error);
  const status = httpStatusOf(connectError.code);
  const violations = violationsOf(connectError);
  return {
    type: `https://tradai.dev/problems/${codeName(connectError.code).replace(/_/g, "-")}`,
    title: Code[connectError.code].replace(/([a-z])([A-Z])/g, "$1 $2"),
    status,
    detail: connectError.rawMessage,
    ...(instance === undefined ? {} : { instance }),
    code: codeName(connectError.code),
    ...(violations.length > 0 ? { errors: violations } : {}),
  };
}

export function problem(
  status: number,
  code: Code,
  detail: string,
  errors?: FieldViolation[],
  /** Overrides the title (and the type derived from it) when the HTTP status names the problem better than the code, e.g. 415. */
  title?: string,
): ProblemDetails {
  return {
    type: `https://tradai.dev/problems/${title === undefined ? codeName(code).replace(/_/g, "-") : title.toLowerCase().replace(/ /g, "-")}`,
    title: title ?? Code[code].replace(/([a-z])([A-Z])/g, "$1 $2"),
    status,
    detail,
    code: codeName(code),
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

/** Classifies an error by what the caller should do (BullMQ UnrecoverableError, Step Functions Retry/Catch). */
export function dispositionOf(error: unknown): ErrorDisposition {
  const code = toConnectError(error).code;
  switch (code) {
    case Code.Unavailable:
    case Code.DeadlineExceeded:
    case Code.ResourceExhausted:
    case Code.Aborted:
      return "retryable";
    case Code.Internal:
    case Code.DataLoss:
    case Code.Unknown:
      return "fatal";
    default:
      return "not_retryable";
  }
}
