// The service bootstrap over real sockets: the same port answers Connect (HTTP/1.1), gRPC (h2c),
// gRPC-Web and @grpc/grpc-js — the standard gRPC stack — plus health, reflection (grpcurl) and a
// graceful drain on close.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { DataCollectionService } from "@tradai/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServiceClient } from "../src/clients";
import { createLogger } from "../src/logger";
import { createServiceServer, registerService, type ServiceServer } from "../src/server";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const silent = createLogger({ service: "test", level: "silent" });

let server: ServiceServer;
let releaseSlowCall: () => void = () => undefined;

beforeAll(async () => {
  server = await createServiceServer({
    name: "data-collection",
    port: 0,
    logger: silent,
    services: [
      registerService(DataCollectionService, {
        listMarkets: (request) => ({ exchange: `echo:${request.exchange}`, timeframes: ["1m", "5m"] }),
        ensureData: async () => {
          await new Promise<void>((resolve) => (releaseSlowCall = resolve));
          return { candlesFetched: 7n };
        },
        getDatasetMetadata: () => {
          throw new ConnectError("no series binance BTC/USDT 1h", Code.NotFound);
        },
      }),
    ],
    dependencyChecks: [
      { name: "store", check: () => Promise.resolve() },
      { name: "exchange", check: () => Promise.reject(new Error("exchange unreachable")), critical: false },
    ],
  });
});

afterAll(() => server.close());

describe("one port, every protocol", () => {
  it("answers the Connect protocol over HTTP/1.1", async () => {
    const client = createClient(
      DataCollectionService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
    );
    const response = await client.listMarkets({ exchange: "binance" });
    expect(response.exchange).toBe("echo:binance");
    expect(response.timeframes).toEqual(["1m", "5m"]);
  });

  it("answers gRPC over h2c", async () => {
    const client = createClient(DataCollectionService, createGrpcTransport({ baseUrl: server.url }));
    expect((await client.listMarkets({ exchange: "kraken" })).exchange).toBe("echo:kraken");
  });

  it("answers gRPC-Web over HTTP/1.1", async () => {
    const client = createClient(
      DataCollectionService,
      createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" }),
    );
    expect((await client.listMarkets({ exchange: "okx" })).exchange).toBe("echo:okx");
  });

  it("interoperates with @grpc/grpc-js using the .proto files, not our generated code", async () => {
    const definition = protoLoader.loadSync(
      ["tradai/data/v1/data_collection.proto", "grpc/health/v1/health.proto"],
      {
        includeDirs: [path.join(repoRoot, "proto")],
        longs: String,
        enums: String,
        defaults: true,
      },
    );
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      tradai: { data: { v1: { DataCollectionService: grpc.ServiceClientConstructor } } };
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    const target = server.url.replace("http://", "");
    const data = new loaded.tradai.data.v1.DataCollectionService(target, grpc.credentials.createInsecure());
    const health = new loaded.grpc.health.v1.Health(target, grpc.credentials.createInsecure());
    const call = <T>(client: grpc.Client, method: string, request: object) =>
      new Promise<T>((resolve, reject) => {
        (
          client as unknown as Record<
            string,
            (r: object, cb: (e: grpc.ServiceError | null, v: T) => void) => void
          >
        )[method]!(request, (error, value) => (error ? reject(error) : resolve(value)));
      });
    try {
      expect(await call<{ exchange: string }>(data, "ListMarkets", { exchange: "bybit" })).toMatchObject({
        exchange: "echo:bybit",
      });
      expect(
        await call<{ status: string }>(health, "Check", { service: "tradai.data.v1.DataCollectionService" }),
      ).toEqual({
        status: "SERVING",
      });
      const notFound = await call(data, "GetDatasetMetadata", {}).catch((error: grpc.ServiceError) => error);
      expect((notFound as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
      expect((notFound as grpc.ServiceError).details).toBe("no series binance BTC/USDT 1h");
      const missing = await call(data, "CheckFreshness", {}).catch((error: grpc.ServiceError) => error);
      expect((missing as grpc.ServiceError).code).toBe(grpc.status.UNIMPLEMENTED);
    } finally {
      data.close();
      health.close();
    }
  });
});

describe("server reflection", () => {
  const grpcurl = path.join(process.env.GOPATH ?? path.join(homedir(), "go"), "bin", "grpcurl");

  // Async on purpose: the server under test runs in this process, a blocking exec would starve it.
  const run = async (args: string[]) =>
    (await promisify(execFile)(grpcurl, args, { encoding: "utf8" })).stdout;

  it("lets grpcurl list and describe services without proto files", async () => {
    expect(
      existsSync(grpcurl),
      `expected grpcurl at ${grpcurl}; scripts/install-test-deps.sh installs it`,
    ).toBe(true);
    const target = server.url.replace("http://", "");
    const list = await run(["-plaintext", target, "list"]);
    expect(list.trim().split("\n")).toEqual([
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
      "tradai.data.v1.DataCollectionService",
    ]);
    const described = await run(["-plaintext", target, "describe", "tradai.common.v1.OhlcvBatch"]);
    expect(described).toContain("repeated int64 timestamps_ms = 1;");
    const called = await run([
      "-plaintext",
      "-d",
      '{"exchange":"binance"}',
      target,
      "tradai.data.v1.DataCollectionService/ListMarkets",
    ]);
    expect(JSON.parse(called)).toEqual({ exchange: "echo:binance", timeframes: ["1m", "5m"] });
  });
});

describe("HTTP health document", () => {
  it("reports status, version, uptime and each dependency check", async () => {
    const response = await fetch(`${server.url}/api/v1/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: "degraded", service: "data-collection", version: "0.1.0" });
    expect(body.dependencies).toEqual([
      { name: "store", status: "up", latency_ms: expect.any(Number) },
      { name: "exchange", status: "down", latency_ms: expect.any(Number), error: "exchange unreachable" },
    ]);
  });

  it("answers unknown paths with problem+json 404", async () => {
    const response = await fetch(`${server.url}/nope`);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({
      status: 404,
      code: "not_found",
      detail: "no route for GET /nope",
    });
  });
});

describe("graceful close", () => {
  it("drains an in-flight call, then refuses new connections", async () => {
    const drainServer = await createServiceServer({
      name: "drain",
      port: 0,
      logger: silent,
      services: [
        registerService(DataCollectionService, {
          ensureData: async () => {
            await new Promise((resolve) => setTimeout(resolve, 400));
            return { candlesFetched: 42n };
          },
        }),
      ],
    });
    const client = createClient(DataCollectionService, createGrpcTransport({ baseUrl: drainServer.url }));
    const inFlight = client.ensureData({ exchange: "binance" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = drainServer.close();
    const response = await inFlight;
    expect(response.candlesFetched).toBe(42n);
    await closing;
    const after = createClient(
      DataCollectionService,
      createConnectTransport({ baseUrl: drainServer.url, httpVersion: "1.1" }),
    );
    await expect(after.listMarkets({})).rejects.toMatchObject({ code: Code.Unavailable });
  });

  it("reports a stream the stopping server cut off as UNAVAILABLE to service clients (h2c)", async () => {
    const stopping = await createServiceServer({
      name: "stopping",
      port: 0,
      logger: silent,
      shutdownTimeoutMs: 100,
      services: [
        registerService(DataCollectionService, {
          async *getOhlcv() {
            yield { batch: { count: 1 } };
            // Never finishes by itself: the server's drain deadline cuts it.
            await new Promise((resolve) => setTimeout(resolve, 30_000).unref());
          },
        }),
      ],
    });
    const client = createServiceClient(DataCollectionService, stopping.url);
    const received: number[] = [];
    const reading = (async () => {
      for await (const response of client.getOhlcv({})) received.push(response.batch?.count ?? -1);
    })();
    while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await stopping.close();
    const error = await reading.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(received).toEqual([1]);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
  });

  it("answers a call started before close on the shared server too", async () => {
    const client = createClient(
      DataCollectionService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
    );
    const pending = client.ensureData({});
    await new Promise((resolve) => setTimeout(resolve, 50));
    releaseSlowCall();
    expect((await pending).candlesFetched).toBe(7n);
  });
});
