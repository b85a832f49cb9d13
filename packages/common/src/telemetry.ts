// OpenTelemetry: started first in every process — runService and the gateway/worker mains call
// startTelemetry right after reading their config, before building stores, clients or servers (no
// module-patching instrumentations are registered, so module load order does not matter) — and W3C
// trace context propagated by Connect interceptors on client and server.
// OTLP exporter when OTEL_EXPORTER_OTLP_ENDPOINT is set; a readable console exporter in dev.
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion?: string;
  /** OTLP/HTTP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT); unset → no OTLP export. */
  otlpEndpoint?: string;
  /** Print finished spans as one readable line each (dev); default false. */
  console?: boolean;
  /** Extra processors (tests use an in-memory exporter). */
  spanProcessors?: SpanProcessor[];
}

export interface Telemetry {
  shutdown(): Promise<void>;
}

/** One readable line per finished span: "trace <id> span <name> 12.3ms OK". */
class ReadableConsoleExporter implements SpanExporter {
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const span of spans) {
      const [seconds, nanos] = span.duration;
      const ms = (seconds * 1e3 + nanos / 1e6).toFixed(1);
      const status = span.status.code === SpanStatusCode.ERROR ? `ERROR ${span.status.message ?? ""}` : "OK";
      process.stderr.write(
        `[trace ${span.spanContext().traceId.slice(0, 8)}] ${span.name} ${ms}ms ${status} span=${span.spanContext().spanId}\n`,
      );
    }
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export function startTelemetry(options: TelemetryOptions): Telemetry {
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (options.otlpEndpoint !== undefined && options.otlpEndpoint !== "") {
    const url = options.otlpEndpoint.replace(/\/$/, "") + "/v1/traces";
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url })));
  }
  if (options.console === true) processors.push(new SimpleSpanProcessor(new ReadableConsoleExporter()));
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: options.serviceVersion ?? "0.0.0",
    }),
    spanProcessors: processors,
    textMapPropagator: new W3CTraceContextPropagator(),
    instrumentations: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

const tracer = () => trace.getTracer("tradai");

const headerSetter = { set: (carrier: Headers, key: string, value: string) => carrier.set(key, value) };
const headerGetter = {
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
  keys: (carrier: Headers) => [...carrier.keys()],
};

function endSpan(span: Span, error?: unknown) {
  if (error !== undefined) {
    const connectError = ConnectError.from(error);
    span.setAttribute("rpc.grpc.status_code", connectError.code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: connectError.rawMessage });
  } else {
    span.setAttribute("rpc.grpc.status_code", 0);
  }
  span.end();
}

/** Client side: one CLIENT span per call, its context injected as `traceparent` into the request headers. */
export const tracingClientInterceptor: Interceptor = (next) => async (request) => {
  const span = tracer().startSpan(`${request.service.typeName}/${request.method.name}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      "rpc.system": "connect_rpc",
      "rpc.service": request.service.typeName,
      "rpc.method": request.method.name,
    },
  });
  propagation.inject(trace.setSpan(context.active(), span), request.header, headerSetter);
  try {
    const response = await context.with(trace.setSpan(context.active(), span), () => next(request));
    if (!response.stream) endSpan(span);
    else span.end();
    return response;
  } catch (error) {
    endSpan(span, error);
    throw error;
  }
};

/** Server side: extracts the caller's trace context and runs the handler inside a SERVER span. */
export const tracingServerInterceptor: Interceptor = (next) => async (request) => {
  const parent = propagation.extract(context.active(), request.header, headerGetter);
  const span = tracer().startSpan(
    `${request.service.typeName}/${request.method.name}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        "rpc.system": "connect_rpc",
        "rpc.service": request.service.typeName,
        "rpc.method": request.method.name,
      },
    },
    parent,
  );
  try {
    const response = await context.with(trace.setSpan(parent, span), () => next(request));
    endSpan(span);
    return response;
  } catch (error) {
    endSpan(span, error);
    throw error;
  }
};

/** Runs `fn` inside a new span (the worker, queue consumers and gateway routes use it). */
export async function inSpan<T>(
  name: string,
  fn: (span: Span) => Promise<T>,
  parentHeaders?: Headers,
): Promise<T> {
  const parent = parentHeaders
    ? propagation.extract(context.active(), parentHeaders, headerGetter)
    : context.active();
  const span = tracer().startSpan(name, {}, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    span.end();
  }
}

/** Trace context of the active span as W3C headers (for BullMQ job data, SQS attributes, ECS overrides). */
export function currentTraceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}
