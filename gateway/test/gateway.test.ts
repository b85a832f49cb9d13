// The gateway over real HTTP in front of real (in-process) service servers: aggregated health with
// a service going down, problem+json at the edge, OpenAPI/docs, and one trace across gateway →
// service spans.
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import {
  createLogger,
  createServiceServer,
  pendingHandlers,
  registerService,
  startTelemetry,
  type ServiceServer,
  type Telemetry,
} from "@tradai/common";
import { BacktestService, DataCollectionService, StrategyService, TradingService } from "@tradai/proto";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildGateway } from "../src/app";
import { createServiceDirectory, type ServiceUrls } from "../src/service-directory";

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
const logger = createLogger({ service: "test", level: "silent" });
const servers: Partial<Record<keyof ServiceUrls, ServiceServer>> = {};
let gateway: FastifyInstance;
let base: string;

beforeAll(async () => {
  telemetry = startTelemetry({
    serviceName: "gateway-test",
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const start = (
    name: string,
    service:
      typeof BacktestService | typeof DataCollectionService | typeof StrategyService | typeof TradingService,
  ) =>
    createServiceServer({
      name,
      port: 0,
      logger,
      services: [registerService(service, pendingHandlers(service, "test", "issue #0"))],
    });
  servers.backtest = await start("backtest", BacktestService);
  servers.dataCollection = await start("data-collection", DataCollectionService);
  servers.strategy = await start("strategy", StrategyService);
  servers.liveTrading = await start("live-trading", TradingService);
  servers.dryRunTrading = await start("dry-run-trading", TradingService);
  const urls = Object.fromEntries(
    Object.entries(servers).map(([key, server]) => [key, server.url]),
  ) as unknown as ServiceUrls;
  gateway = await buildGateway({ services: createServiceDirectory(urls, 5_000), logger, bodyLimit: 2048 });
  await gateway.listen({ host: "127.0.0.1", port: 0 });
  const address = gateway.server.address();
  base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

afterAll(async () => {
  await gateway.close();
  await Promise.all(Object.values(servers).map((server) => server.close()));
  await telemetry.shutdown();
});

beforeEach(() => exporter.reset());

describe("GET /api/v1/health", () => {
  it("reports every service up, with latency", async () => {
    const response = await fetch(`${base}/api/v1/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      status: string;
      services: { name: string; status: string; latency_ms: number }[];
    };
    expect(body.status).toBe("healthy");
    expect(body.services.map((service) => [service.name, service.status])).toEqual([
      ["backtest", "up"],
      ["data-collection", "up"],
      ["strategy", "up"],
      ["live-trading", "up"],
      ["dry-run-trading", "up"],
    ]);
    for (const service of body.services) expect(service.latency_ms).toBeGreaterThan(0);
  });

  it("continues one trace from the gateway through each service", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    await fetch(`${base}/api/v1/health?service=strategy`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const spans = exporter.getFinishedSpans();
    const gatewaySpan = spans.find(
      (span) => span.kind === SpanKind.SERVER && span.name === "GET /api/v1/health",
    );
    const clientSpan = spans.find(
      (span) => span.kind === SpanKind.CLIENT && span.name === "grpc.health.v1.Health/Check",
    );
    const serviceSpan = spans.find(
      (span) => span.kind === SpanKind.SERVER && span.name === "grpc.health.v1.Health/Check",
    );
    expect(gatewaySpan?.spanContext().traceId).toBe(traceId);
    expect(gatewaySpan?.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    expect(clientSpan?.spanContext().traceId).toBe(traceId);
    expect(clientSpan?.parentSpanContext?.spanId).toBe(gatewaySpan?.spanContext().spanId);
    expect(serviceSpan?.spanContext().traceId).toBe(traceId);
    expect(serviceSpan?.parentSpanContext?.spanId).toBe(clientSpan?.spanContext().spanId);
  });

  it("reports a stopped service as down and the whole as degraded", async () => {
    await servers.dataCollection!.close();
    const response = await fetch(`${base}/api/v1/health`);
    const body = (await response.json()) as {
      status: string;
      services: { name: string; status: string; error?: string }[];
    };
    expect(body.status).toBe("degraded");
    const down = body.services.filter((service) => service.status === "down");
    expect(down.map((service) => service.name)).toEqual(["data-collection"]);
    expect(down[0]?.error).toMatch(/ECONNREFUSED|unavailable|socket hang up/i);
  });
});

describe("problem+json at the edge", () => {
  const post = (body: string, contentType = "application/json") =>
    fetch(`${base}/api/v1/strategies/validate`, {
      method: "POST",
      headers: { "content-type": contentType },
      body,
    });

  it("answers malformed JSON with 400", async () => {
    const response = await post('{"file_name": "a.ts", ');
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({
      status: 400,
      code: "invalid_argument",
      detail: expect.stringMatching(/^malformed JSON body/),
    });
  });

  it("names every invalid or missing field", async () => {
    const response = await post(JSON.stringify({ file_name: "no extension", extra: 1 }));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { field: string }[] };
    expect(body.errors.map((error) => error.field).sort()).toEqual([
      "body.extra",
      "body.file_name",
      "body.source",
    ]);
  });

  it.each(["application/x-www-form-urlencoded", "text/plain", "text/plain; charset=utf-8"])(
    "answers a %s body with 415 Unsupported Media Type",
    async (contentType) => {
      const response = await post(JSON.stringify({ file_name: "a.ts", source: "x" }), contentType);
      expect(response.status).toBe(415);
      expect(await response.json()).toMatchObject({
        type: "https://tradai.dev/problems/unsupported-media-type",
        title: "Unsupported Media Type",
        status: 415,
        detail: expect.stringContaining(contentType.split(";")[0] as string),
      });
    },
  );

  it("answers an oversized body with 413", async () => {
    const response = await post(JSON.stringify({ file_name: "a.ts", source: "x".repeat(5000) }));
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({
      title: "Content Too Large",
      status: 413,
      detail: expect.stringContaining("2048 bytes"),
    });
  });

  it("answers an unknown route with 404 and a request id", async () => {
    const response = await fetch(`${base}/api/v1/nothing-here`, { headers: { "x-request-id": "req-123" } });
    expect(response.status).toBe(404);
    expect(response.headers.get("x-request-id")).toBe("req-123");
    expect(await response.json()).toMatchObject({
      status: 404,
      request_id: "req-123",
      detail: "no route for GET /api/v1/nothing-here",
    });
  });

  it("maps a service's Connect error to problem+json", async () => {
    const response = await post(JSON.stringify({ file_name: "a.ts", source: "export default {}" }));
    expect(response.status).toBe(501);
    expect(await response.json()).toMatchObject({
      status: 501,
      code: "unimplemented",
      detail: expect.stringContaining("ValidateStrategy"),
    });
  });
});

describe("API description", () => {
  it("serves an OpenAPI 3.1 document generated from the route schemas", async () => {
    const document = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: { required: string[] } }> } }>
      >;
    };
    expect(document.openapi).toBe("3.1.0");
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(["/api/v1/health", "/api/v1/strategies/validate"]),
    );
    expect(
      document.paths["/api/v1/strategies/validate"]?.post?.requestBody?.content["application/json"]?.schema
        .required,
    ).toEqual(["file_name", "source"]);
  });

  it("serves a docs page", async () => {
    const response = await fetch(`${base}/api/v1/docs/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("swagger-ui");
  });
});
