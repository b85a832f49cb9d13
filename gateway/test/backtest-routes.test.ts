// /api/v1/backtest request validation at the gateway: a bad stake_amount is one clear field
// violation (not one per JSON-schema branch), checked before the backtest service is called.
import { createLogger } from "@tradai/common";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

const submit = (overrides: Record<string, unknown>) =>
  fetch(`${base}/api/v1/backtest`, {
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
