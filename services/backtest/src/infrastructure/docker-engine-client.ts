// A small client for the Docker Engine API over its unix socket (Docker, or podman's
// Docker-compatible service): just what the LOCAL/DOCKER executor needs.
import http from "node:http";

export interface DockerEngineClientOptions {
  /** e.g. /var/run/docker.sock */
  socketPath: string;
  /** API version prefix; default "v1.41" (Docker 20.10+, podman 4). */
  apiVersion?: string;
}

export class DockerEngineError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = "DockerEngineError";
  }
}

export interface ContainerSpec {
  name: string;
  image: string;
  cmd: string[];
  env: Record<string, string>;
  workingDir?: string;
  /** host:container[:ro] */
  binds?: string[];
  networkMode?: string;
  labels?: Record<string, string>;
  user?: string;
}

export function createDockerEngineClient(options: DockerEngineClientOptions) {
  const prefix = `/${options.apiVersion ?? "v1.41"}`;
  const request = (
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = 30_000,
  ): Promise<{ status: number; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = http.request(
        {
          socketPath: options.socketPath,
          method,
          path: prefix + path,
          headers: payload ? { "content-type": "application/json", "content-length": payload.length } : {},
          timeout: timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () =>
            resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }),
          );
          response.on("error", reject);
        },
      );
      req.on("timeout", () =>
        req.destroy(new Error(`Docker API ${method} ${path}: no answer within ${timeoutMs} ms`)),
      );
      req.on("error", reject);
      req.end(payload);
    });
  const expectOk = async (method: string, path: string, body?: unknown, timeoutMs?: number) => {
    const response = await request(method, path, body, timeoutMs);
    if (response.status >= 400) {
      let message = response.body.toString("utf8");
      try {
        message = (JSON.parse(message) as { message?: string }).message ?? message;
      } catch {
        // plain text
      }
      throw new DockerEngineError(
        response.status,
        `Docker API ${method} ${path}: ${response.status} ${message}`,
      );
    }
    return response.body;
  };

  return {
    async ping(): Promise<void> {
      await expectOk("GET", "/_ping", undefined, 2_000);
    },
    async createContainer(spec: ContainerSpec): Promise<string> {
      const body = await expectOk("POST", `/containers/create?name=${encodeURIComponent(spec.name)}`, {
        Image: spec.image,
        Cmd: spec.cmd,
        Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
        WorkingDir: spec.workingDir,
        Labels: spec.labels ?? {},
        User: spec.user,
        HostConfig: { Binds: spec.binds ?? [], NetworkMode: spec.networkMode ?? "host" },
      });
      return (JSON.parse(body.toString("utf8")) as { Id: string }).Id;
    },
    async startContainer(id: string): Promise<void> {
      await expectOk("POST", `/containers/${encodeURIComponent(id)}/start`);
    },
    /** Resolves with the exit code once the container stops. */
    async waitContainer(id: string): Promise<number> {
      const body = await expectOk(
        "POST",
        `/containers/${encodeURIComponent(id)}/wait`,
        undefined,
        24 * 3600_000,
      );
      return (JSON.parse(body.toString("utf8")) as { StatusCode: number }).StatusCode;
    },
    async killContainer(id: string, signal = "SIGTERM"): Promise<void> {
      await expectOk("POST", `/containers/${encodeURIComponent(id)}/kill?signal=${signal}`);
    },
    /** The container's output (stdout and stderr, demultiplexed), last `tail` lines. */
    async logs(id: string, tail = 50): Promise<string> {
      const raw = await expectOk(
        "GET",
        `/containers/${encodeURIComponent(id)}/logs?stdout=1&stderr=1&tail=${tail}`,
      );
      // Docker's multiplexed stream: 8-byte header (stream, 0, 0, 0, size32) per frame.
      let out = "";
      let offset = 0;
      while (offset + 8 <= raw.length && (raw[offset] === 1 || raw[offset] === 2) && raw[offset + 1] === 0) {
        const size = raw.readUInt32BE(offset + 4);
        out += raw.subarray(offset + 8, offset + 8 + size).toString("utf8");
        offset += 8 + size;
      }
      return offset === 0 ? raw.toString("utf8") : out;
    },
    /** Whether the container exists and runs; false when it exited or is gone. */
    async isRunning(id: string): Promise<boolean> {
      try {
        const body = await expectOk("GET", `/containers/${encodeURIComponent(id)}/json`);
        return (
          (JSON.parse(body.toString("utf8")) as { State?: { Running?: boolean } }).State?.Running === true
        );
      } catch (error) {
        if (error instanceof DockerEngineError && error.statusCode === 404) return false;
        throw error;
      }
    },
    async removeContainer(id: string): Promise<void> {
      await expectOk("DELETE", `/containers/${encodeURIComponent(id)}?force=true`);
    },
  };
}

export type DockerEngineClient = ReturnType<typeof createDockerEngineClient>;
