// A moto_server that handles one request at a time, for tests of conditional writes.
//
// Why: `moto_server` runs werkzeug with threaded=True and moto's DynamoDB backend takes no lock,
// so two concurrent UpdateItem calls with a ConditionExpression can both pass their condition —
// observed here: two of six racing claims "won" on the suite's moto. Real DynamoDB applies
// conditional writes to one item one at a time (that is the guarantee the repository relies on),
// and a single-threaded moto reproduces exactly that. Same moto, same Python, same API.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { homedir } from "node:os";
import path from "node:path";

export interface SerialMotoServer {
  url: string;
  stop(): Promise<void>;
}

function motoPython(): string {
  const cache = process.env.TRADAI_CACHE ?? path.join(homedir(), ".cache", "tradai");
  const venvPython = path.join(cache, "venv", "bin", "python");
  return existsSync(venvPython) ? venvPython : "python3";
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const SCRIPT = `
import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
run_simple("127.0.0.1", int(sys.argv[1]), DomainDispatcherApplication(create_backend_app), threaded=False)
`;

export async function startSerialMotoServer(timeoutMs = 30_000): Promise<SerialMotoServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(motoPython(), ["-c", SCRIPT, String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve();
        return;
      }
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill("SIGTERM");
    });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serial moto_server exited (${child.exitCode}): ${stderr}`);
    try {
      const response = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return { url, stop };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `serial moto_server: expected it to answer within ${timeoutMs} ms, got no answer: ${stderr}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
