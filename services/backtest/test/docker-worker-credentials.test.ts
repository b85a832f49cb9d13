// LOCAL/DOCKER worker containers get the service's AWS credentials (a container, unlike a worker
// process, inherits nothing): the container create request the executor sends to the Docker Engine
// API, built the way main.ts builds it (loaded BACKEND_* config → executorSettingsFrom → ExecutorFactory).
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { createLogger, loadConfig } from "@tradai/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backtestConfigSchema } from "../src/infrastructure/backtest-config";
import { ExecutorFactory, executorSettingsFrom } from "../src/infrastructure/executor-factory";
import { testBacktestConfig } from "./support/backtest-config-fixture";

const config = testBacktestConfig({ strategy_version: "v1" });

/** A Docker Engine API stand-in on a unix socket: records create requests; containers exit 0. */
async function startEngine(socketPath: string) {
  const created: { Image: string; Env: string[] }[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const url = request.url ?? "";
      if (request.method === "POST" && url.includes("/containers/create")) {
        created.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as { Image: string; Env: string[] });
        response
          .writeHead(201, { "content-type": "application/json" })
          .end(JSON.stringify({ Id: "f".repeat(64) }));
      } else if (url.endsWith("/wait")) {
        response.writeHead(200, { "content-type": "application/json" }).end('{"StatusCode":0}');
      } else {
        response.writeHead(204).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { created, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("LOCAL/DOCKER worker containers", () => {
  let dir: string;
  let engine: Awaited<ReturnType<typeof startEngine>>;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "tradai-docker-env-"));
    engine = await startEngine(path.join(dir, "docker.sock"));
  });
  afterAll(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const submitWith = async (hostEnv: Record<string, string | undefined>) => {
    const settings = loadConfig({
      prefix: "BACKEND_",
      schema: backtestConfigSchema,
      env: {
        BACKEND_EXECUTOR_MODE: "LOCAL",
        BACKEND_LOCAL_EXECUTION_MODE: "DOCKER",
        BACKEND_WORKER_IMAGE: "tradai/worker:test",
        BACKEND_DOCKER_SOCKET: path.join(dir, "docker.sock"),
        BACKEND_RESULT_STORE: "s3://results-bucket/backtests/",
      },
    });
    const created = ExecutorFactory.create(executorSettingsFrom(settings, hostEnv), {
      logger: createLogger({ service: "test", level: "silent" }),
      onJobLost: () => undefined,
    });
    if (!created.ok) throw created.error;
    try {
      await created.submitter.submit({ jobId: `job-${engine.created.length}`, config, traceHeaders: {} });
    } finally {
      await created.submitter.close();
    }
    const request = engine.created.at(-1);
    expect(request?.Image).toBe("tradai/worker:test");
    return new Map(
      (request?.Env ?? []).map((entry) => [
        entry.slice(0, entry.indexOf("=")),
        entry.slice(entry.indexOf("=") + 1),
      ]),
    );
  };

  it("forwards the service's AWS credentials, session token, region and profile into the container", async () => {
    const env = await submitWith({
      AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "secret/example",
      AWS_SESSION_TOKEN: "token=with=equals",
      AWS_REGION: "eu-central-1",
      AWS_PROFILE: "tradai-dev",
      HOME: "/home/service",
      BACKEND_PORT: "8001",
    });
    expect(env.get("AWS_ACCESS_KEY_ID")).toBe("AKIAEXAMPLE");
    expect(env.get("AWS_SECRET_ACCESS_KEY")).toBe("secret/example");
    expect(env.get("AWS_SESSION_TOKEN")).toBe("token=with=equals");
    expect(env.get("AWS_REGION")).toBe("eu-central-1");
    expect(env.get("AWS_PROFILE")).toBe("tradai-dev");
    // Only those: nothing else of the service's environment leaks into the container.
    expect(env.has("HOME")).toBe(false);
    expect(env.has("BACKEND_PORT")).toBe(false);
    // Beside the worker's own settings.
    expect(env.get("WORKER_RESULT_STORE")).toBe("s3://results-bucket/backtests/");
  });

  it("sets no AWS variable the service does not have (unset or empty)", async () => {
    const env = await submitWith({ AWS_ACCESS_KEY_ID: "", AWS_REGION: "us-east-1" });
    expect([...env.keys()].filter((key) => key.startsWith("AWS_"))).toEqual(["AWS_REGION"]);
  });
});
