// `npm start` as a user meets it (issue #2): scripts/start-stack.ts on moved ports brings every
// service up, seeds the candles, runs the README's first backtest, refuses a second start on busy
// ports naming the variable, and stops everything on Ctrl-C (SIGINT) with exit code 0.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { exited, repoRoot, runEntry } from "./support/spawn-service";
import { freePort } from "./support/test-stack";

const PORT_VARIABLES = [
  "TRADAI_GATEWAY_PORT",
  "TRADAI_BACKTEST_PORT",
  "TRADAI_DATA_COLLECTION_PORT",
  "TRADAI_STRATEGY_PORT",
  "TRADAI_LIVE_TRADING_PORT",
  "TRADAI_DRY_RUN_TRADING_PORT",
] as const;

const stateDir = mkdtempSync(path.join(tmpdir(), "tradai-start-stack-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(
  output: string[],
  text: string,
  timeoutMs: number,
  child?: ChildProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!output.some((line) => line.includes(text))) {
    const ended = child !== undefined && (child.exitCode !== null || child.signalCode !== null);
    if (ended || Date.now() > deadline)
      throw new Error(
        `no "${text}" ${ended ? `before the stack exited (${child.exitCode ?? child.signalCode})` : `within ${timeoutMs} ms`}:\n${output.join("\n")}`,
      );
    await sleep(100);
  }
}

describe("npm start (scripts/start-stack.ts)", () => {
  it("starts on moved ports, runs the README backtest, refuses busy ports and stops on SIGINT", async () => {
    const ports: Record<string, string> = {};
    for (const variable of PORT_VARIABLES) ports[variable] = String(await freePort());
    const env = {
      ...ports,
      // Keep the developer's .tradai/ out of it.
      DATA_COLLECTION_DATA_DIR: path.join(stateDir, "data"),
      STRATEGY_SERVICE_REGISTRY_DIR: path.join(stateDir, "strategies"),
      BACKEND_SQLITE_PATH: path.join(stateDir, "state", "backtests.db"),
      BACKEND_RESULT_STORE: path.join(stateDir, "results"),
    };
    const stack = runEntry({ entry: "scripts/start-stack.ts", env });
    try {
      await waitFor(stack.output, "TradAI is up", 120_000, stack.process);
      const base = `http://127.0.0.1:${ports.TRADAI_GATEWAY_PORT}`;

      const health = (await (await fetch(`${base}/api/v1/health`)).json()) as {
        status: string;
        services: { name: string; status: string; url: string }[];
      };
      expect(health.status).toBe("healthy");
      expect(health.services).toHaveLength(5);
      // Every service on its moved port, reached through the gateway.
      const movedPorts = PORT_VARIABLES.slice(1).map((variable) => `:${ports[variable]}`);
      expect(health.services.map((service) => service.url.slice(service.url.lastIndexOf(":")))).toEqual(
        expect.arrayContaining(movedPorts),
      );

      const submitted = await fetch(`${base}/api/v1/backtest`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          strategy: "SampleStrategy",
          exchange: "binance",
          pairs: ["BTC/USDT", "ETH/USDT"],
          timeframe: "5m",
          timerange: "20250101-20250301",
          stake_amount: 100,
          dry_run_wallet: 1000,
          max_open_trades: 2,
        }),
      });
      expect(submitted.status, await submitted.clone().text()).toBe(202);
      const { job_id: jobId } = (await submitted.json()) as { job_id: string };
      let job: { status: string; summary?: { total_trades: number; profit_total_abs: number } } = {
        status: "QUEUED",
      };
      for (let waited = 0; !["COMPLETED", "FAILED"].includes(job.status) && waited < 90_000; waited += 250) {
        await sleep(250);
        job = (await (await fetch(`${base}/api/v1/backtests/${jobId}`)).json()) as typeof job;
      }
      expect(job.status).toBe("COMPLETED");
      // Dev traces are on: the gateway's span of this POST and the backtest service's span of the
      // call it made print one trace id.
      const postSpan = stack.output.find((line) =>
        /^gateway\s*\|.*\[trace \w+\] POST \/api\/v1\/backtest /.test(line),
      );
      const traceId = /\[trace (\w+)\]/.exec(postSpan ?? "")?.[1];
      expect(traceId, stack.output.slice(-40).join("\n")).toBeDefined();
      expect(
        stack.output.some((line) => /^backtest\s*\|/.test(line) && line.includes(`[trace ${traceId}]`)),
      ).toBe(true);
      // The README's figures (Freqtrade-parity engine on the seeded real candles).
      expect(job.summary?.total_trades).toBe(56);
      expect(job.summary?.profit_total_abs).toBeCloseTo(-43.02, 2);

      // A second stack on the same ports stops at once, naming each busy port's variable.
      const second = runEntry({ entry: "scripts/start-stack.ts", env });
      expect(await exited(second.process)).toBe(1);
      const secondOutput = second.output.join("\n");
      for (const variable of PORT_VARIABLES) expect(secondOutput).toContain(`set ${variable} to move it`);

      stack.process.kill("SIGINT");
      expect(await exited(stack.process)).toBe(0);
      // Each of the five services drained its in-flight calls; the gateway shut down too.
      const closed = stack.output.filter((line) => line.includes('closed {"abandoned":0}'));
      expect(closed.map((line) => line.split("|")[0]?.trim()).sort()).toEqual([
        "backtest",
        "data-collection",
        "dry-run-trading",
        "live-trading",
        "strategy",
      ]);
      expect(stack.output.some((line) => /^gateway\s*\|.*shutting down/.test(line))).toBe(true);
    } finally {
      stack.process.kill("SIGKILL");
    }
  }, 240_000);

  it("stops every service when npm start gets SIGTERM (a supervisor's stop)", async () => {
    const ports: Record<string, string> = {};
    for (const variable of PORT_VARIABLES) ports[variable] = String(await freePort());
    const npm = spawn("npm", ["start"], {
      cwd: repoRoot,
      env: {
        ...process.env,
        ...ports,
        DATA_COLLECTION_DATA_DIR: path.join(stateDir, "data-2"),
        STRATEGY_SERVICE_REGISTRY_DIR: path.join(stateDir, "strategies-2"),
        BACKEND_SQLITE_PATH: path.join(stateDir, "state-2", "backtests.db"),
        BACKEND_RESULT_STORE: path.join(stateDir, "results-2"),
        TRADAI_TRACE_CONSOLE: "false",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output: string[] = [];
    for (const stream of [npm.stdout, npm.stderr])
      createInterface({ input: stream }).on("line", (line) => output.push(line));
    try {
      await waitFor(output, "TradAI is up", 120_000, npm);
      npm.kill("SIGTERM");
      await exited(npm);
      // Every port is released (the services drained and exited), not left to orphans.
      const deadline = Date.now() + 30_000;
      for (const variable of PORT_VARIABLES) {
        while (await listening(Number(ports[variable]))) {
          if (Date.now() > deadline) throw new Error(`${variable} still listening:\n${output.join("\n")}`);
          await sleep(200);
        }
      }
      expect(output.filter((line) => line.includes('closed {"abandoned":0}'))).toHaveLength(5);
    } finally {
      npm.kill("SIGKILL");
    }
  }, 240_000);
});

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
