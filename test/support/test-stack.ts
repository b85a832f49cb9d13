// Starts the real peers the integration tests talk to — redis-server, PostgreSQL, moto_server and
// the MLflow server — on free loopback ports, each in a throw-away directory, and stops them again.
// scripts/install-test-deps.sh installs them; this file only finds and runs them.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import { homedir, tmpdir } from "node:os";
import path from "node:path";

export type TestDependency = "redis" | "postgres" | "moto" | "mlflow";
export const ALL_TEST_DEPENDENCIES: readonly TestDependency[] = ["redis", "postgres", "moto", "mlflow"];

/** Env variables the stack exports, one per dependency. */
export const TEST_STACK_ENV: Record<TestDependency, string> = {
  redis: "TRADAI_TEST_REDIS_URL",
  postgres: "TRADAI_TEST_POSTGRES_URL",
  moto: "TRADAI_TEST_MOTO_URL",
  mlflow: "TRADAI_TEST_MLFLOW_URL",
};

interface RunningPeer {
  name: TestDependency;
  url: string;
  process: ChildProcess;
  stop?: () => void;
}

export interface TestStack {
  env: Record<string, string>;
  stop(): Promise<void>;
}

const venvBin = (tool: string): string => {
  const cache = process.env.TRADAI_CACHE ?? path.join(homedir(), ".cache", "tradai");
  return path.join(cache, "venv", "bin", tool);
};

/** Parses TRADAI_TEST_DEPS ("all" | "none" | comma list); unknown names are an error. */
export function parseTestDependencies(value: string | undefined): TestDependency[] {
  const raw = (value ?? "all").trim();
  if (raw === "all" || raw === "") return [...ALL_TEST_DEPENDENCIES];
  if (raw === "none") return [];
  const names = raw.split(",").map((name) => name.trim());
  for (const name of names) {
    if (!ALL_TEST_DEPENDENCIES.includes(name as TestDependency)) {
      throw new Error(
        `TRADAI_TEST_DEPS: expected "all", "none" or a comma list of ${ALL_TEST_DEPENDENCIES.join(", ")}, got "${name}"`,
      );
    }
  }
  return names as TestDependency[];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(what: string, probe: () => Promise<boolean>, child: PeerProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(
        `${what} exited with code ${child.exitCode} before it was ready:\n${child.recentOutput()}`,
      );
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what} was not ready within ${timeoutMs} ms:\n${child.recentOutput()}`);
}

const tcpOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

const httpOk = async (url: string) => (await fetch(url)).ok;

/** A peer process that remembers its recent output, for start-up error messages. */
type PeerProcess = ChildProcess & { recentOutput(): string };

function run(command: string, args: string[], options: { uid?: number; gid?: number } = {}): PeerProcess {
  // detached: each peer leads its own process group, so stopping it also stops its workers
  // (mlflow's uvicorn, postgres' backends) and no pipe is left open behind it.
  const child = spawn(command, args, {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid }),
  });
  const chunks: string[] = [];
  const keep = (data: Buffer) => {
    chunks.push(data.toString());
    if (chunks.length > 200) chunks.shift();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  // A binary that cannot be started is an error event, not an exit: keep it for the message.
  child.once("error", (error) => chunks.push(`cannot start ${command}: ${error.message}\n`));
  return Object.assign(child, { recentOutput: () => chunks.join("").slice(-2000) });
}

function requireBinary(file: string, dependency: string): string {
  if (!existsSync(file)) {
    throw new Error(
      `${dependency}: expected ${file} to exist; run scripts/install-test-deps.sh (npm test does)`,
    );
  }
  return file;
}

function which(binary: string): string | undefined {
  const found = spawnSync("sh", ["-c", `command -v ${binary}`], { encoding: "utf8" }).stdout.trim();
  return found === "" ? undefined : found;
}

async function startRedis(dir: string): Promise<RunningPeer> {
  const binary = which("redis-server") ?? requireBinary("/usr/bin/redis-server", "redis");
  const port = await freePort();
  const child = run(binary, [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
  ]);
  await waitFor("redis-server", () => tcpOpen(port), child, 15_000);
  return { name: "redis", url: `redis://127.0.0.1:${port}`, process: child };
}

function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const bin = path.join(root, version, "bin");
    if (existsSync(path.join(bin, "initdb"))) return bin;
  }
  throw new Error(
    "postgres: expected /usr/lib/postgresql/<version>/bin/initdb; run scripts/install-test-deps.sh",
  );
}

async function startPostgres(dir: string): Promise<RunningPeer> {
  const bin = postgresBinDir();
  const port = await freePort();
  const dataDir = path.join(dir, "data");
  mkdirSync(dataDir);
  // PostgreSQL refuses to run as root: run it as the postgres user when we are root.
  const isRoot = process.getuid?.() === 0;
  const user = isRoot ? spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }) : undefined;
  const uid = user ? Number(user.stdout.trim()) : undefined;
  const gid = isRoot
    ? Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim())
    : undefined;
  if (isRoot && (uid === undefined || Number.isNaN(uid)))
    throw new Error("postgres: running as root needs a 'postgres' user");
  if (uid !== undefined && gid !== undefined) {
    chownSync(dir, uid, gid);
    chownSync(dataDir, uid, gid);
  }
  const init = spawnSync(
    path.join(bin, "initdb"),
    ["-D", dataDir, "-U", "tradai", "--auth=trust", "-E", "UTF8", "--no-sync"],
    { encoding: "utf8", ...(uid === undefined ? {} : { uid, gid }) },
  );
  if (init.status !== 0) throw new Error(`postgres: initdb failed: ${init.stderr}`);
  const child = run(
    path.join(bin, "postgres"),
    [
      "-D",
      dataDir,
      "-p",
      String(port),
      "-h",
      "127.0.0.1",
      "-k",
      dir,
      "-c",
      "fsync=off",
      "-c",
      "max_connections=200",
    ],
    uid === undefined ? {} : { uid, gid },
  );
  await waitFor(
    "postgres",
    async () => {
      const ready = spawnSync(path.join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port)]);
      return ready.status === 0;
    },
    child,
    30_000,
  );
  const created = spawnSync(
    path.join(bin, "createdb"),
    ["-h", "127.0.0.1", "-p", String(port), "-U", "tradai", "tradai_test"],
    {
      encoding: "utf8",
    },
  );
  if (created.status !== 0) throw new Error(`postgres: createdb failed: ${created.stderr}`);
  return { name: "postgres", url: `postgres://tradai@127.0.0.1:${port}/tradai_test`, process: child };
}

async function startMoto(): Promise<RunningPeer> {
  const venvMoto = venvBin("moto_server");
  const binary = existsSync(venvMoto) ? venvMoto : (which("moto_server") ?? requireBinary(venvMoto, "moto"));
  const port = await freePort();
  const child = run(binary, ["-H", "127.0.0.1", "-p", String(port)]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor("moto_server", () => httpOk(`${url}/moto-api/`), child, 30_000);
  return { name: "moto", url, process: child };
}

async function startMlflow(dir: string): Promise<RunningPeer> {
  const binary = requireBinary(venvBin("mlflow"), "mlflow");
  const port = await freePort();
  const child = run(binary, [
    "server",
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--backend-store-uri",
    `sqlite:///${path.join(dir, "mlflow.db")}`,
    "--artifacts-destination",
    path.join(dir, "artifacts"),
    "--workers",
    "1",
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor("mlflow server", () => httpOk(`${url}/health`), child, 120_000);
  return { name: "mlflow", url, process: child };
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-(child.pid ?? 0), signal);
      } catch {
        child.kill(signal);
      }
    };
    const timer = setTimeout(() => signalGroup("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      signalGroup("SIGKILL"); // leftovers of the group, if any
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve();
    });
    signalGroup("SIGTERM");
  });
}

/** Starts the requested peers in parallel; on any failure stops the ones that started. */
export async function startTestStack(dependencies: readonly TestDependency[]): Promise<TestStack> {
  const root = mkdtempSync(path.join(tmpdir(), "tradai-test-stack-"));
  chmodSync(root, 0o755); // the postgres user must be able to reach its data directory
  const starters: Record<TestDependency, () => Promise<RunningPeer>> = {
    redis: () => startRedis(mkdtempSync(path.join(root, "redis-"))),
    postgres: () => startPostgres(mkdtempSync(path.join(root, "pg-"))),
    moto: () => startMoto(),
    mlflow: () => startMlflow(mkdtempSync(path.join(root, "mlflow-"))),
  };
  const results = await Promise.allSettled(dependencies.map((name) => starters[name]()));
  const peers = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const stop = async () => {
    await Promise.all(peers.map((peer) => stopProcess(peer.process)));
    rmSync(root, { recursive: true, force: true });
  };
  const failures = results.flatMap((result) => (result.status === "rejected" ? [String(result.reason)] : []));
  if (failures.length > 0) {
    await stop();
    throw new Error(`test stack failed to start:\n${failures.join("\n")}`);
  }
  const env: Record<string, string> = {};
  for (const peer of peers) env[TEST_STACK_ENV[peer.name]] = peer.url;
  return { env, stop };
}
