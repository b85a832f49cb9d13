// `npm start`: the embedded local stack — every service and the gateway as separate processes, with
// prefixed logs; waits for each health endpoint, prints the URLs, and stops everything cleanly on
// Ctrl-C / SIGTERM. No Docker, no Redis, no cloud.
//
// Ports: TRADAI_GATEWAY_PORT (8000), TRADAI_BACKTEST_PORT (8001), TRADAI_DATA_COLLECTION_PORT (8002),
// TRADAI_STRATEGY_PORT (8003), TRADAI_LIVE_TRADING_PORT (8004), TRADAI_DRY_RUN_TRADING_PORT (8005).
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DataCollectionService, DataFormat } from "@tradai/proto";
import { createServer } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const HOST = "127.0.0.1";

interface Component {
  name: string;
  entry: string;
  args?: string[];
  portVariable: string;
  /** Env variable the component itself reads its port from. */
  ownPortVariable: string;
  defaultPort: number;
  env?: Record<string, string>;
}

const COMPONENTS: Component[] = [
  {
    name: "backtest",
    entry: "services/backtest/src/main.ts",
    portVariable: "TRADAI_BACKTEST_PORT",
    ownPortVariable: "BACKEND_PORT",
    defaultPort: 8001,
  },
  {
    name: "data-collection",
    entry: "services/data-collection/src/main.ts",
    portVariable: "TRADAI_DATA_COLLECTION_PORT",
    ownPortVariable: "DATA_COLLECTION_PORT",
    defaultPort: 8002,
  },
  {
    name: "strategy",
    entry: "services/strategy/src/main.ts",
    portVariable: "TRADAI_STRATEGY_PORT",
    ownPortVariable: "STRATEGY_SERVICE_PORT",
    defaultPort: 8003,
  },
  {
    name: "live-trading",
    entry: "services/trading/src/main.ts",
    args: ["--mode", "live"],
    portVariable: "TRADAI_LIVE_TRADING_PORT",
    ownPortVariable: "TRADING_PORT",
    defaultPort: 8004,
  },
  {
    name: "dry-run-trading",
    entry: "services/trading/src/main.ts",
    args: ["--mode", "dry-run"],
    portVariable: "TRADAI_DRY_RUN_TRADING_PORT",
    ownPortVariable: "TRADING_PORT",
    defaultPort: 8005,
  },
  {
    name: "gateway",
    entry: "gateway/src/main.ts",
    portVariable: "TRADAI_GATEWAY_PORT",
    ownPortVariable: "GATEWAY_PORT",
    defaultPort: 8000,
  },
];

const COLORS = [36, 33, 35, 32, 34, 31];
const useColor = process.stdout.isTTY;

function portOf(component: Component): number {
  const raw = process.env[component.portVariable];
  if (raw === undefined) return component.defaultPort;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(
      `${component.portVariable}: expected an integer from 1 to 65535, got ${JSON.stringify(raw)}`,
    );
    process.exit(78);
  }
  return port;
}

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });

function formatLine(line: string): string {
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const { level, time, msg, service: _service, ...rest } = entry;
    const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : "";
    return `${String(time ?? "").slice(11, 23)} ${String(level ?? "")
      .toUpperCase()
      .padEnd(5)} ${String(msg ?? "")}${extra}`;
  } catch {
    return line;
  }
}

const ports = new Map(COMPONENTS.map((component) => [component.name, portOf(component)]));
const width = Math.max(...COMPONENTS.map((component) => component.name.length));
const children: ChildProcess[] = [];
let stopping = false;

function prefix(component: Component, index: number): string {
  const label = component.name.padEnd(width);
  return useColor ? `\x1b[${COLORS[index % COLORS.length]}m${label} |\x1b[0m` : `${label} |`;
}

function url(name: string) {
  return `http://${HOST}:${ports.get(name)}`;
}

async function stopAll(code: number): Promise<never> {
  stopping = true;
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill("SIGKILL"), 12_000);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
  process.exit(code);
}

async function waitHealthy(name: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url(name)}/api/v1/health`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${name} did not become healthy at ${url(name)}/api/v1/health within 30 s`);
}

/**
 * First run: loads data/seed/ (real Binance candles, see its SOURCES.md) into the embedded store
 * when the store does not hold them yet, so the first backtest needs no exchange access.
 */
async function seedMarketData(): Promise<void> {
  const client = createClient(
    DataCollectionService,
    createConnectTransport({ baseUrl: url("data-collection"), httpVersion: "1.1" }),
  );
  const seedDir = path.join(root, "data/seed");
  for (const file of readdirSync(seedDir)
    .filter((name) => name.endsWith(".csv.gz"))
    .sort()) {
    const match = /^(\w+)_([A-Z0-9]+)_([A-Z0-9]+)-(\w+)\.csv\.gz$/.exec(file);
    if (!match) continue;
    const [, exchange = "", base = "", quote = "", timeframe = ""] = match;
    const symbol = `${base}/${quote}`;
    const content = gunzipSync(readFileSync(path.join(seedDir, file)));
    const rows = content.toString("latin1").trimEnd().split("\n").length - 1;
    const stored = await client.getDatasetMetadata({ exchange, symbol, timeframe });
    if (Number(stored.series[0]?.count ?? 0n) >= rows) continue;
    const imported = await client.importData({
      series: { exchange, symbol, timeframe },
      format: DataFormat.CSV,
      content,
    });
    console.log(
      `seeded ${exchange} ${symbol} ${timeframe}: ${imported.candlesImported} candles from data/seed/${file}`,
    );
  }
}

async function main() {
  const busy: string[] = [];
  for (const component of COMPONENTS) {
    const port = ports.get(component.name) ?? component.defaultPort;
    if (!(await portFree(port)))
      busy.push(
        `${component.name}: port ${port} is already in use (set ${component.portVariable} to move it)`,
      );
  }
  if (busy.length > 0) {
    console.error(`cannot start the stack:\n  ${busy.join("\n  ")}`);
    process.exit(1);
  }

  const serviceUrls = {
    GATEWAY_BACKTEST_URL: url("backtest"),
    GATEWAY_DATA_COLLECTION_URL: url("data-collection"),
    GATEWAY_STRATEGY_URL: url("strategy"),
    GATEWAY_LIVE_TRADING_URL: url("live-trading"),
    GATEWAY_DRY_RUN_TRADING_URL: url("dry-run-trading"),
  };
  // The backtest service calls these two (and hands them to its workers); moved ports move them.
  const backtestUrls = {
    BACKEND_STRATEGY_SERVICE_URL: url("strategy"),
    BACKEND_DATA_COLLECTION_URL: url("data-collection"),
  };
  COMPONENTS.forEach((component, index) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(root, component.entry), ...(component.args ?? [])],
      {
        cwd: root,
        env: {
          // Dev traces: one readable line per finished span (TRADAI_TRACE_CONSOLE=false turns them
          // off; a component's own <PREFIX>TRACE_CONSOLE wins).
          [component.ownPortVariable.replace(/PORT$/, "TRACE_CONSOLE")]:
            process.env.TRADAI_TRACE_CONSOLE === "false" ? "false" : "true",
          ...process.env,
          ...(component.name === "gateway" ? serviceUrls : {}),
          ...(component.name === "backtest" ? backtestUrls : {}),
          // The backtest service's LOCAL workers inherit its environment: their spans print too.
          ...(component.name === "backtest" && process.env.TRADAI_TRACE_CONSOLE !== "false"
            ? { WORKER_TRACE_CONSOLE: process.env.WORKER_TRACE_CONSOLE ?? "true" }
            : {}),
          ...component.env,
          [component.ownPortVariable]: String(ports.get(component.name)),
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    children.push(child);
    const tag = prefix(component, index);
    for (const stream of [child.stdout, child.stderr]) {
      if (stream)
        createInterface({ input: stream }).on("line", (line) =>
          process.stdout.write(`${tag} ${formatLine(line)}\n`),
        );
    }
    child.once("exit", (code, signal) => {
      if (stopping) return;
      console.error(`${tag} exited (${signal ?? `code ${code}`}); stopping the stack`);
      void stopAll(1);
    });
  });

  process.once("SIGINT", () => void stopAll(0));
  process.once("SIGTERM", () => void stopAll(0));
  // A parent that dies without passing a signal on (a shell wrapper killed by a supervisor) must not
  // leave the services holding their ports: when we are re-parented, stop everything.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent && !stopping) void stopAll(0);
  }, 1_000).unref();

  const deadline = Date.now() + 30_000;
  try {
    await Promise.all(COMPONENTS.map((component) => waitHealthy(component.name, deadline)));
  } catch (error) {
    console.error(String(error instanceof Error ? error.message : error));
    await stopAll(1);
  }
  try {
    await seedMarketData();
  } catch (error) {
    console.error(
      `could not seed the market-data store: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const lines = COMPONENTS.map((component) => `  ${component.name.padEnd(width)}  ${url(component.name)}`);
  console.log(
    `\nTradAI is up.\n${lines.join("\n")}\n\n  REST API     ${url("gateway")}/api/v1  (docs: ${url("gateway")}/api/v1/docs)\n  gRPC         grpcurl -plaintext ${HOST}:${ports.get("data-collection")} list\n\nCtrl-C stops everything.\n`,
  );
}

await main();
