// The service bootstrap every service uses: its Connect handlers, grpc.health.v1.Health and server
// reflection (v1 + v1alpha) on ONE port that speaks gRPC, gRPC-Web and Connect over both h2c and
// HTTP/1.1; `GET /api/v1/health`; request ids, tracing and error conversion as interceptors; and a
// graceful close (stop accepting, drain in-flight calls, then force within the timeout).
import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2, { type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from "node:http2";
import net, { type AddressInfo, type Socket } from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Health, reflectionV1, reflectionV1alpha } from "@tradai/proto";
import { problem, toConnectError, toProblemDetails, violationsOf } from "./errors";
import { buildHealthDocument, createHealthHandlers, HealthRegistry, type DependencyCheck } from "./health";
import { withRequestId, type Logger } from "./logger";
import { HTTP2_WINDOW_BYTES, widenConnectionWindow } from "./http2-window";
import { createReflectionHandlers } from "./reflection";
import { tracingServerInterceptor } from "./telemetry";

/** A service and its handlers; methods left out answer UNIMPLEMENTED. */
export interface ServiceRegistration {
  service: DescService;
  // Handlers are checked against `service` by `registerService` below.
  handlers: Partial<ServiceImpl<DescService>>;
}

/** Pairs a generated service with its (partial) implementation, type-checked. */
export function registerService<S extends DescService>(
  service: S,
  handlers: Partial<ServiceImpl<S>>,
): ServiceRegistration {
  return { service, handlers: handlers as Partial<ServiceImpl<DescService>> };
}

/** Extra HTTP routes served beside the RPCs; return false to fall through to 404. */
export type HttpRoute = (
  request: IncomingMessage | Http2ServerRequest,
  response: ServerResponse | Http2ServerResponse,
) => boolean;

export interface ServiceServerOptions {
  /** Service name for logs, traces and the health document ("data-collection"). */
  name: string;
  /** Default "0.1.0". */
  version?: string;
  /** Default "127.0.0.1": services bind to loopback unless told otherwise (ARCHITECTURE.md §4.10). */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  logger: Logger;
  services: ServiceRegistration[];
  dependencyChecks?: DependencyCheck[];
  /** Interceptors run inside request-id, tracing and error conversion. */
  interceptors?: Interceptor[];
  httpRoutes?: HttpRoute[];
  /** Longest a graceful close waits for in-flight calls; default 10 000 ms. */
  shutdownTimeoutMs?: number;
  /** Largest request message; default 64 MiB. */
  readMaxBytes?: number;
}

export interface ServiceServer {
  readonly port: number;
  /** http://host:port */
  readonly url: string;
  readonly health: HealthRegistry;
  close(): Promise<void>;
}

/** Thrown when the port is taken, so main.ts can say which variable moves it. */
export class PortInUseError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(`port ${port} on ${host} is already in use`);
    this.name = "PortInUseError";
  }
}

const HTTP2_PREFACE = "PRI";

function requestIdInterceptor(logger: Logger): Interceptor {
  return (next) => async (request) => {
    const requestId = request.header.get("x-request-id") ?? randomUUID();
    return withRequestId(requestId, async () => {
      const started = performance.now();
      try {
        const response = await next(request);
        response.header.set("x-request-id", requestId);
        logger.debug({ rpc: request.url, duration_ms: Math.round(performance.now() - started) }, "rpc ok");
        return response;
      } catch (error) {
        const connectError = toConnectError(error);
        const fields = {
          rpc: request.url,
          code: Code[connectError.code],
          duration_ms: Math.round(performance.now() - started),
        };
        if (connectError.code === Code.Internal || connectError.code === Code.Unknown) {
          logger.error({ ...fields, err: connectError.cause ?? connectError }, "rpc failed");
        } else {
          // The caller's mistake (or an expected condition), not a fault: what and why, no stack.
          const violations = violationsOf(connectError);
          logger.info(
            {
              ...fields,
              error: connectError.rawMessage,
              ...(violations.length === 0 ? {} : { violations }),
            },
            "rpc failed",
          );
        }
        connectError.metadata.set("x-request-id", requestId);
        throw connectError;
      }
    });
  };
}

function sendJson(
  response: ServerResponse | Http2ServerResponse,
  status: number,
  body: unknown,
  contentType = "application/json",
) {
  const text = JSON.stringify(body);
  (response as ServerResponse).writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}

/**
 * connect-es percent-encodes `grpc-message` with encodeURIComponent, which also escapes printable
 * characters such as "/"; the gRPC spec escapes only bytes outside 0x20-0x7E and "%", and grpc-js
 * decodes with decodeURI, so "BTC/USDT" reached grpc-js clients as "BTC%2FUSDT". Re-encode per spec.
 */
function grpcPercentEncode(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function normalizeGrpcMessage(response: ServerResponse | Http2ServerResponse) {
  const fix = (headers: unknown) => {
    if (headers === null || typeof headers !== "object") return;
    const record = headers as Record<string, unknown>;
    const value = record["grpc-message"];
    if (typeof value !== "string") return;
    try {
      record["grpc-message"] = grpcPercentEncode(decodeURIComponent(value));
    } catch {
      // not percent-encoded by connect-es: leave it alone
    }
  };
  const target = response as unknown as {
    writeHead: (...args: unknown[]) => unknown;
    addTrailers: (headers: unknown) => void;
  };
  const writeHead = target.writeHead.bind(response);
  target.writeHead = (...args: unknown[]) => {
    fix(args[1]);
    return writeHead(...args);
  };
  const addTrailers = target.addTrailers.bind(response);
  target.addTrailers = (headers: unknown) => {
    fix(headers);
    addTrailers(headers);
  };
}

export async function createServiceServer(options: ServiceServerOptions): Promise<ServiceServer> {
  const { logger } = options;
  const host = options.host ?? "127.0.0.1";
  const version = options.version ?? "0.1.0";
  const startedAt = Date.now();
  const registry = new HealthRegistry(options.services.map((registration) => registration.service.typeName));
  const reflection = createReflectionHandlers([
    ...options.services.map((registration) => registration.service),
    Health,
  ]);

  const healthRoute: HttpRoute = (request, response) => {
    const url = request.url ?? "";
    if (request.method !== "GET" || !(url === "/api/v1/health" || url.startsWith("/api/v1/health?")))
      return false;
    void buildHealthDocument({
      service: options.name,
      version,
      startedAt,
      registry,
      checks: options.dependencyChecks ?? [],
    }).then(
      (document) => sendJson(response, document.status === "unhealthy" ? 503 : 200, document),
      (error: unknown) => sendJson(response, 500, toProblemDetails(error), "application/problem+json"),
    );
    return true;
  };
  const routes = [healthRoute, ...(options.httpRoutes ?? [])];

  const handler = connectNodeAdapter({
    routes(router) {
      for (const registration of options.services)
        router.service(registration.service, registration.handlers);
      router.service(Health, createHealthHandlers(registry));
      router.service(reflectionV1.ServerReflection, reflection.v1);
      router.service(reflectionV1alpha.ServerReflection, reflection.v1alpha);
    },
    interceptors: [requestIdInterceptor(logger), tracingServerInterceptor, ...(options.interceptors ?? [])],
    readMaxBytes: options.readMaxBytes ?? 64 * 1024 * 1024,
    fallback(request, nodeResponse) {
      const response = nodeResponse as ServerResponse; // the adapter's response is one of http's or http2's
      for (const route of routes) if (route(request, response)) return;
      sendJson(
        response,
        404,
        problem(404, Code.NotFound, `no route for ${request.method} ${request.url}`),
        "application/problem+json",
      );
    },
  });

  let inFlight = 0;
  let draining = false;
  const drained: Array<() => void> = [];
  const tracked = (
    request: IncomingMessage | Http2ServerRequest,
    response: ServerResponse | Http2ServerResponse,
  ) => {
    inFlight += 1;
    normalizeGrpcMessage(response);
    if (draining && "setHeader" in response && !response.headersSent && request.httpVersionMajor === 1) {
      (response as ServerResponse).setHeader("connection", "close");
    }
    response.once("close", () => {
      inFlight -= 1;
      if (inFlight === 0) for (const resolve of drained.splice(0)) resolve();
    });
    handler(request, response);
  };

  const h1 = http.createServer(tracked);
  const h2 = http2.createServer({ settings: { initialWindowSize: HTTP2_WINDOW_BYTES } }, tracked);
  const sockets = new Set<Socket>();
  const sessions = new Set<Http2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    // The connection window starts at 64 KiB whatever the settings say: widen it, or a large request
    // (a strategy upload, an import) waits for a WINDOW_UPDATE round trip every 64 KiB.
    widenConnectionWindow(session);
    session.once("close", () => sessions.delete(session));
  });

  // One port, two protocols: an h2c connection starts with the HTTP/2 preface "PRI * HTTP/2.0";
  // an HTTP/1.1 request never starts with "PRI".
  const listener = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (head.length < HTTP2_PREFACE.length) return;
      socket.off("data", onData);
      socket.pause();
      socket.unshift(head);
      if (head.subarray(0, 3).toString("latin1") === HTTP2_PREFACE) {
        // http2 picks up the unshifted bytes itself; resuming here would hand them to nobody.
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
  });

  await new Promise<void>((resolve, reject) => {
    listener.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? new PortInUseError(host, options.port) : error),
    );
    listener.listen(options.port, host, () => resolve());
  });
  const port = (listener.address() as AddressInfo).port;
  logger.info(
    { host, port, services: options.services.map((registration) => registration.service.typeName) },
    "listening",
  );

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const timeoutMs = options.shutdownTimeoutMs ?? 10_000;
      draining = true;
      registry.setAllNotServing();
      listener.close();
      for (const session of sessions) session.close();
      h1.closeIdleConnections();
      if (inFlight > 0) {
        logger.info({ in_flight: inFlight }, "draining in-flight calls");
        await Promise.race([
          new Promise<void>((resolve) => drained.push(resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
        ]);
      }
      for (const socket of sockets) socket.destroy();
      logger.info({ abandoned: inFlight }, "closed");
    })();
    return closing;
  };
  return { port, url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`, health: registry, close };
}

/**
 * Fills the methods a service does not implement yet with UNIMPLEMENTED errors that name the
 * capability and the issue that delivers it (issue #2 §4: allowed only until that issue lands).
 */
export function pendingHandlers<S extends DescService>(
  service: S,
  capability: string,
  issue: string,
): ServiceImpl<S> {
  const handlers: Record<string, () => never> = {};
  for (const method of service.methods) {
    handlers[method.localName] = () => {
      throw new ConnectError(
        `${service.name}.${method.name}: ${capability} is not implemented yet (${issue})`,
        Code.Unimplemented,
      );
    };
  }
  return handlers as unknown as ServiceImpl<S>;
}
