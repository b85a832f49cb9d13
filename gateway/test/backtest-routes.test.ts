// /api/v1/backtest request validation at the gateway: a bad stake_amount is one clear field
// violation (not one per JSON-schema branch), checked before the backtest service is called; the
// list filters, paging and cancel mapped through to a real backtest service.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  createLocalSubprocessSubmitter,
  createSqliteWorkflowStateRepository,
  type BacktestConfig,
  type BacktestJobSubmitter,
  type WorkflowStateRepository,
} from "@tradai/backtest";
import { createLogger, createServiceServer, registerService, type ServiceServer } from "@tradai/common";
import { BacktestService } from "@tradai/proto";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBacktestHandlers } from "../../services/backtest/src/api/backtest-handlers";
import { createBacktestService } from "../../services/backtest/src/core/backtest-service";
import { repoRoot } from "../../test/support/spawn-service";
import { buildGateway } from "../src/app";
import { createServiceDirectory } from "../src/service-directory";

let gateway: FastifyInstance;
let base: string;

beforeAll(async () => {
  // No backend: what the gateway rejects never reaches it; what it accepts fails as unreachable.
  const unused = "http://127.0.0.1:9";
  const services = createServiceDirectory(
    {
      backtest: unused,
      dataCollection: unused,
      strategy: unused,
      liveTrading: unused,
      dryRunTrading: unused,
    },
    5_000,
  );
  gateway = await buildGateway({ services, logger: createLogger({ service: "test", level: "silent" }) });
  await gateway.listen({ host: "127.0.0.1", port: 0 });
  const address = gateway.server.address();
  base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});
afterAll(() => gateway.close());

const submit = (overrides: Record<string, unknown>) => submitTo(base, overrides);

const submitTo = (gatewayUrl: string, overrides: Record<string, unknown>) =>
  fetch(`${gatewayUrl}/api/v1/backtest`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      strategy: "SampleStrategy",
      exchange: "binance",
      pairs: ["BTC/USDT"],
      timeframe: "5m",
      timerange: "20250101-20250201",
      ...overrides,
    }),
  });

describe("POST /api/v1/backtest stake_amount", () => {
  it.each([["lots"], [-5], [0], [true], [null], [{ amount: 1 }]])(
    "rejects %j with exactly one field violation saying what is expected and what was found",
    async (value) => {
      const response = await submit({ stake_amount: value });
      expect(response.status).toBe(400);
      expect(response.headers.get("content-type")).toContain("application/problem+json");
      const body = (await response.json()) as { code: string; errors: Record<string, string>[] };
      expect(body.code).toBe("invalid_argument");
      expect(body.errors).toEqual([
        {
          field: "body.stake_amount",
          message: 'must be a positive number or "unlimited"',
          expected: 'a positive number or "unlimited"',
          found: JSON.stringify(value),
        },
      ]);
    },
  );

  it.each([[100], [0.5], ["unlimited"], [undefined]])(
    "accepts %j and hands the submission to the backtest service (unreachable here: 503)",
    async (value) => {
      const response = await submit(value === undefined ? {} : { stake_amount: value });
      expect(response.status).toBe(503);
    },
  );
});

describe("POST /api/v1/backtest max_open_trades", () => {
  it("rejects 0 (which the contract would read as unset, i.e. 3) naming the field", async () => {
    const response = await submit({ max_open_trades: 0 });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: Record<string, string>[] };
    expect(body.errors).toEqual([
      {
        field: "body.max_open_trades",
        message: "must be -1 (unlimited) or at least 1",
        expected: "-1 (unlimited) or an integer >= 1",
        found: "0",
      },
    ]);
  });

  it.each([[-1], [1], [undefined]])("passes %j on to the backtest service", async (value) => {
    const response = await submit(value === undefined ? {} : { max_open_trades: value });
    // Accepted by the gateway: the (absent) backtest service is what fails.
    expect(response.status).toBe(503);
  });
});

// The list filters and cancel through the gateway to a real backtest service (core, handlers, a
// SQLite store, a LOCAL/SUBPROCESS pool of real workers running no-op jobs).
describe("/api/v1/backtests against a real backtest service", () => {
  const config: BacktestConfig = {
    strategy: "Alpha",
    strategy_version: "v1",
    exchange: "binance",
    pairs: ["BTC/USDT"],
    timeframe: "5m",
    timerange: "20250101-20250201",
    stake_amount: 100,
    dry_run_wallet: 1000,
    max_open_trades: 1,
    params: {},
    stake_currency: "USDT",
    timeframe_detail: "",
  };
  const day = (n: number) => Date.UTC(2025, 0, n);
  let dir: string;
  let clockMs: number | undefined;
  let repository: WorkflowStateRepository;
  let pool: BacktestJobSubmitter;
  let server: ServiceServer;
  let realGateway: FastifyInstance;
  let url: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "tradai-gateway-backtests-"));
    const dbPath = path.join(dir, "state.db");
    repository = createSqliteWorkflowStateRepository({ path: dbPath, clock: () => clockMs ?? Date.now() });
    const logger = createLogger({ service: "test", level: "silent" });
    pool = createLocalSubprocessSubmitter({
      workerEntry: path.join(repoRoot, "services/worker/src/main.ts"),
      workers: 1,
      env: {
        WORKER_WORK: "noop",
        WORKER_NOOP_DELAY_MS: "120000",
        WORKER_SQLITE_PATH: dbPath,
        WORKER_LOG_LEVEL: "warn",
      },
      logger,
      onJobLost: () => undefined,
    });
    const service = createBacktestService({
      repository,
      submitter: pool,
      strategies: { validate: async () => ({ violations: [], version: "v1", startupCandles: 0 }) },
      marketData: { ensure: async () => undefined, unlistedPairs: async () => [] },
      results: { read: async () => null },
      logger,
    });
    server = await createServiceServer({
      name: "backtest",
      port: 0,
      logger,
      services: [registerService(BacktestService, createBacktestHandlers(service))],
    });
    realGateway = await buildGateway({
      services: createServiceDirectory(
        {
          backtest: server.url,
          dataCollection: "http://127.0.0.1:9",
          strategy: "http://127.0.0.1:9",
          liveTrading: "http://127.0.0.1:9",
          dryRunTrading: "http://127.0.0.1:9",
        },
        10_000,
      ),
      logger,
    });
    await realGateway.listen({ host: "127.0.0.1", port: 0 });
    const address = realGateway.server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    // Five jobs a day apart: Alpha on days 1, 2, 3 (day 2 cancelled), Beta on days 4, 5.
    for (const [name, strategy, n] of [
      ["a1", "Alpha", 1],
      ["a2", "Alpha", 2],
      ["a3", "Alpha", 3],
      ["b4", "Beta", 4],
      ["b5", "Beta", 5],
    ] as const) {
      clockMs = day(n);
      ids[name] = (await repository.create({ config: { ...config, strategy } })).job.jobId;
    }
    await repository.transition(ids.a2 ?? "", { to: "CANCELLED", error: "cancelled by request" });
    clockMs = undefined;
  }, 60_000);
  afterAll(async () => {
    await realGateway?.close();
    await server?.close();
    await pool?.close();
    await repository?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const list = async (query: string) => {
    const response = await fetch(`${url}/api/v1/backtests?${query}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      backtests: { job_id: string; status: string; created_at: string }[];
      next_page_token: string | null;
    };
    return { ids: body.backtests.map((job) => job.job_id), next: body.next_page_token, body };
  };

  it("filters by strategy and by status, newest first", async () => {
    expect((await list("strategy=Alpha")).ids).toEqual([ids.a3, ids.a2, ids.a1]);
    expect((await list("strategy=Beta")).ids).toEqual([ids.b5, ids.b4]);
    expect((await list("strategy=Alpha&status=CANCELLED")).ids).toEqual([ids.a2]);
    expect((await list("strategy=Alpha&status=QUEUED")).ids).toEqual([ids.a3, ids.a1]);
    expect((await list("strategy=Nobody")).ids).toEqual([]);
  });

  it("filters by creation time: created_after inclusive, created_before exclusive", async () => {
    const iso = (n: number) => new Date(day(n)).toISOString();
    const range = `created_after=${iso(2)}&created_before=${iso(5)}`;
    expect((await list(`created_after=${iso(2)}&created_before=${iso(6)}`)).ids).toEqual([
      ids.b5,
      ids.b4,
      ids.a3,
      ids.a2,
    ]);
    expect((await list(range)).ids).toEqual([ids.b4, ids.a3, ids.a2]);
    expect((await list(`created_before=${iso(2)}`)).ids).toEqual([ids.a1]);
    const { body } = await list(`created_after=${iso(1)}&created_before=${iso(2)}`);
    expect(body.backtests[0]?.created_at).toBe(iso(1));
  });

  it("pages with page_size and page_token until next_page_token is null", async () => {
    const range = `created_before=${new Date(day(6)).toISOString()}`;
    const first = await list(`${range}&page_size=2`);
    expect(first.ids).toEqual([ids.b5, ids.b4]);
    expect(first.next).toEqual(expect.any(String));
    const second = await list(`${range}&page_size=2&page_token=${encodeURIComponent(first.next ?? "")}`);
    expect(second.ids).toEqual([ids.a3, ids.a2]);
    const third = await list(`${range}&page_size=2&page_token=${encodeURIComponent(second.next ?? "")}`);
    expect(third.ids).toEqual([ids.a1]);
    expect(third.next).toBeNull();
  });

  it("rejects a bad filter naming the query field", async () => {
    const response = await fetch(`${url}/api/v1/backtests?status=DONE`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { field: string }[] };
    expect(body.errors.map((error) => error.field)).toEqual(["querystring.status"]);
  });

  it("cancels a RUNNING job over HTTP: 200 CANCELLED, it stays CANCELLED, a second cancel is 412", async () => {
    const submitted = await submitTo(url, { strategy: "Runner" });
    expect(submitted.status).toBe(202);
    const jobId = ((await submitted.json()) as { job_id: string }).job_id;
    for (let deadline = Date.now() + 30_000; ;) {
      const job = (await (await fetch(`${url}/api/v1/backtests/${jobId}`)).json()) as { status: string };
      if (job.status === "RUNNING") break;
      if (Date.now() > deadline) throw new Error(`job ${jobId} is ${job.status}, expected RUNNING`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const cancelled = await fetch(`${url}/api/v1/backtests/${jobId}`, { method: "DELETE" });
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({
      job_id: jobId,
      status: "CANCELLED",
      error: "cancelled by request",
    });
    // The worker sees it and stops; the job stays CANCELLED (not COMPLETED, not FAILED).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const later = (await (await fetch(`${url}/api/v1/backtests/${jobId}`)).json()) as Record<string, unknown>;
    expect(later).toMatchObject({ status: "CANCELLED", error: "cancelled by request" });
    const again = await fetch(`${url}/api/v1/backtests/${jobId}`, { method: "DELETE" });
    expect(again.status).toBe(412);
  }, 60_000);
});
