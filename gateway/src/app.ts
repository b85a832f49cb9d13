// The REST gateway (port 8000): public /api/v1, OpenAPI 3.1 from the route schemas, a docs page,
// problem+json errors, request ids, and calls to the services through Connect clients.
import { randomUUID } from "node:crypto";
import { STATUS_CODES } from "node:http";
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from "@opentelemetry/api";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import { Code } from "@connectrpc/connect";
import { problem, toProblemDetails, withRequestId, type Logger, type FieldViolation } from "@tradai/common";
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
} from "fastify";
import { registerBacktestRoutes } from "./routes/backtest-routes";
import { registerDataRoutes } from "./routes/data-routes";
import { registerHealthRoutes } from "./routes/health-routes";
import { registerStrategyRoutes } from "./routes/strategy-routes";
import type { ServiceDirectory } from "./service-directory";

export interface GatewayOptions {
  services: ServiceDirectory;
  logger: Logger;
  version?: string;
  /** Largest request body in bytes; default 1 MiB. */
  bodyLimit?: number;
}

const headerGetter = {
  get: (carrier: Record<string, string | string[] | undefined>, key: string) => {
    const value = carrier[key];
    return Array.isArray(value) ? value[0] : value;
  },
  keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
};

function violationsFromValidation(error: FastifyError): FieldViolation[] {
  return (error.validation ?? []).map((issue) => {
    const path = issue.instancePath.replace(/^\//, "").replace(/\//g, ".");
    const missing = (issue.params as { missingProperty?: string }).missingProperty;
    const extra = (issue.params as { additionalProperty?: string }).additionalProperty;
    const field = [error.validationContext, path, missing ?? extra]
      .filter((part) => part !== undefined && part !== "")
      .join(".");
    return {
      field,
      message: extra !== undefined ? `unknown field "${extra}"` : (issue.message ?? "invalid"),
    };
  });
}

/** The status's reason phrase as RFC 9110 names it (Node 20 still says "Payload Too Large" for 413). */
function statusTitle(status: number): string | undefined {
  return status === 413 ? "Content Too Large" : STATUS_CODES[status];
}

export async function buildGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const version = options.version ?? "0.1.0";
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // No per-request log lines (each request is a trace span with its request id); errors are logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", allErrors: true } },
  });

  // JSON only: Fastify's built-in text/plain parser would hand a string to JSON body schemas (400
  // "body must be object"); without it a text/plain body gets 415 like any other non-JSON type.
  // Routes that take other types (data import) register their own parsers.
  app.removeContentTypeParser("text/plain");

  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "TradAI API",
        version,
        description:
          "Build, backtest and run algorithmic crypto-trading strategies. Errors are RFC 9457 problem+json.",
      },
      servers: [{ url: "/" }],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/api/v1/docs" });

  // One server span per request, continuing the caller's W3C trace context. The span starts in
  // onRequest (timing) and becomes the active context in preHandler: body parsing runs in the
  // socket's async context, so a context entered in onRequest would be lost for POST handlers.
  const spans = new WeakMap<object, { span: Span; parent: Context }>();
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    const parent = propagation.extract(context.active(), request.headers, headerGetter);
    const span = trace.getTracer("tradai").startSpan(
      `${request.method} ${request.routeOptions.url ?? "unmatched"}`,
      {
        kind: SpanKind.SERVER,
        attributes: { "http.request.method": request.method, "url.path": request.url },
      },
      parent,
    );
    spans.set(request, { span, parent });
    reply.raw.once("finish", () => {
      span.setAttribute("http.response.status_code", reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), () => withRequestId(request.id, () => done()));
  });
  app.addHook("preHandler", (request, _reply, done) => {
    const entry = spans.get(request);
    if (entry === undefined) return done();
    context.with(trace.setSpan(entry.parent, entry.span), () => withRequestId(request.id, () => done()));
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    let body;
    if (error.validation) {
      body = problem(
        400,
        Code.InvalidArgument,
        `invalid request: ${error.message}`,
        violationsFromValidation(error),
      );
    } else if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      body = problem(
        415,
        Code.InvalidArgument,
        `unsupported content type "${request.headers["content-type"] ?? ""}": expected application/json`,
        undefined,
        "Unsupported Media Type",
      );
    } else if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      body = problem(
        413,
        Code.ResourceExhausted,
        `request body too large: expected at most ${app.initialConfig.bodyLimit} bytes`,
        undefined,
        "Content Too Large",
      );
    } else if (
      error.code === "FST_ERR_CTP_INVALID_JSON_BODY" ||
      (error instanceof SyntaxError && error.statusCode === 400)
    ) {
      body = problem(400, Code.InvalidArgument, `malformed JSON body: ${error.message}`);
    } else if (error.code === "FST_ERR_CTP_EMPTY_JSON_BODY") {
      body = problem(400, Code.InvalidArgument, "empty JSON body: expected a JSON document");
    } else if (typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500) {
      // Any other client error (a route's own parser, Fastify): titled by its HTTP status.
      body = problem(
        error.statusCode,
        error.statusCode === 413 ? Code.ResourceExhausted : Code.InvalidArgument,
        error.message,
        undefined,
        statusTitle(error.statusCode),
      );
    } else {
      body = toProblemDetails(error);
      if (body.status >= 500) request.log.error({ err: error }, "request failed");
    }
    void reply
      .code(body.status)
      .type("application/problem+json")
      .send({ ...body, instance: request.url, request_id: request.id });
  });

  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .type("application/problem+json")
      .send({
        ...problem(404, Code.NotFound, `no route for ${request.method} ${request.url.split("?")[0]}`),
        instance: request.url,
        request_id: request.id,
      });
  });

  registerHealthRoutes(app, options.services, version);
  registerStrategyRoutes(app, options.services);
  registerBacktestRoutes(app, options.services);
  registerDataRoutes(app, options.services);
  app.get("/api/v1/openapi.json", { schema: { hide: true } }, () => app.swagger());
  return app;
}
