// Runs a service's real entry point (main.ts) as a child process on a free port, the way
// `npm start` and the containers do, and hands back its URL once it listens.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface SpawnedService {
  url: string;
  port: number;
  process: ChildProcess;
  /** Every line the process printed so far (stdout and stderr). */
  output: string[];
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface SpawnOptions {
  entry: string;
  args?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
}

export function runEntry({ entry, args = [], env = {} }: SpawnOptions): {
  process: ChildProcess;
  output: string[];
} {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, entry), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on("line", (line) => output.push(line));
  }
  return { process: child, output };
}

export const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });

/** The port from a service's "listening" log line or fastify's "Server listening at" line. */
function listeningPort(line: string): number | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: string; port?: number };
    if (entry.msg === "listening" && typeof entry.port === "number") return entry.port;
    const fastify = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(entry.msg ?? "");
    return fastify ? Number(fastify[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Starts `entry` with its port variable set to 0 and waits for the "listening" log line. */
export async function spawnService(
  options: SpawnOptions & { portVariable: string },
): Promise<SpawnedService> {
  const { process: child, output } = runEntry({
    ...options,
    env: { ...options.env, [options.portVariable]: "0" },
  });
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let port: number | undefined;
  while (port === undefined) {
    port = output.map(listeningPort).find((found) => found !== undefined);
    if (port !== undefined) break;
    if (child.exitCode !== null)
      throw new Error(
        `${options.entry} exited with ${child.exitCode} before listening:\n${output.join("\n")}`,
      );
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${options.entry} did not listen in time:\n${output.join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    process: child,
    output,
    stop: async () => {
      child.kill("SIGTERM");
      return exited(child);
    },
  };
}
