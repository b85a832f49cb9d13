// Structured logging (pino). Every line carries the service name and, inside a request, the
// request id and the OpenTelemetry trace/span ids, so logs and traces join up.
import { AsyncLocalStorage } from "node:async_hooks";
import { trace } from "@opentelemetry/api";
import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger } from "pino";

const requestContext = new AsyncLocalStorage<{ requestId: string }>();

/** Runs `fn` with `requestId` attached to every log line written inside it. */
export function withRequestId<T>(requestId: string, fn: () => T): T {
  return requestContext.run({ requestId }, fn);
}

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

export interface LoggerOptions {
  service: string;
  /** pino level; default "info". */
  level?: string;
  /** Where to write; default stdout. Tests pass a stream to read lines back. */
  destination?: DestinationStream;
}

export function createLogger({ service, level, destination }: LoggerOptions): Logger {
  return pino(
    {
      level: level ?? "info",
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ["*.apiKey", "*.secret", "*.password", "*.authorization", "headers.authorization"],
        censor: "<redacted>",
      },
      mixin() {
        const fields: Record<string, string> = {};
        const requestId = currentRequestId();
        if (requestId !== undefined) fields.request_id = requestId;
        const spanContext = trace.getActiveSpan()?.spanContext();
        if (spanContext !== undefined) {
          fields.trace_id = spanContext.traceId;
          fields.span_id = spanContext.spanId;
        }
        return fields;
      },
    },
    destination,
  );
}
