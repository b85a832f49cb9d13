// A real Docker Engine API for tests: podman's Docker-compatible service on a private socket, with
// the settings these machines need (runc, no default ulimits, no pids limit — see
// shared/notes/verified-recipes.md). No registry is reachable, so the test image is a rootfs holding
// this machine's node binary and its libraries, imported with `podman import`.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const TEST_NODE_IMAGE = "localhost/tradai-test-node:latest";

export interface PodmanService {
  socketPath: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, input?: Buffer) {
  const result = spawnSync(command, args, { env, input, maxBuffer: 512 * 1024 * 1024 });
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(" ")} failed: ${result.stderr?.toString() ?? result.error?.message}`,
    );
  return result.stdout.toString();
}

/** Builds (once per machine) an image with /usr/bin/node and the shared libraries it links. */
function ensureNodeImage(env: NodeJS.ProcessEnv) {
  if (spawnSync("podman", ["image", "exists", TEST_NODE_IMAGE], { env }).status === 0) return;
  const rootfs = mkdtempSync(path.join(tmpdir(), "tradai-rootfs-"));
  try {
    const node = process.execPath;
    const libraries = run("ldd", [node], env).match(/\/[^\s)]+/g) ?? [];
    for (const file of [node, ...libraries]) {
      mkdirSync(path.join(rootfs, path.dirname(file)), { recursive: true });
      copyFileSync(file, path.join(rootfs, file));
    }
    if (node !== "/usr/bin/node") {
      mkdirSync(path.join(rootfs, "usr/bin"), { recursive: true });
      copyFileSync(node, path.join(rootfs, "usr/bin/node"));
    }
    chmodSync(path.join(rootfs, "usr/bin/node"), 0o755);
    mkdirSync(path.join(rootfs, "etc"), { recursive: true });
    writeFileSync(path.join(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    mkdirSync(path.join(rootfs, "tmp"), { recursive: true });
    chmodSync(path.join(rootfs, "tmp"), 0o1777);
    const tar = spawnSync("tar", ["-C", rootfs, "-c", "."], { maxBuffer: 1024 * 1024 * 1024 });
    run("podman", ["import", "-", TEST_NODE_IMAGE], env, tar.stdout);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

export async function startPodmanService(): Promise<PodmanService> {
  const dir = mkdtempSync(path.join(tmpdir(), "tradai-podman-"));
  const conf = path.join(dir, "containers.conf");
  writeFileSync(conf, '[containers]\ndefault_ulimits = []\npids_limit = 0\n[engine]\nruntime = "runc"\n');
  const env = { ...process.env, CONTAINERS_CONF: conf };
  ensureNodeImage(env);
  const socketPath = path.join(dir, "podman.sock");
  const child: ChildProcess = spawn("podman", ["system", "service", "--time=0", `unix://${socketPath}`], {
    env,
    stdio: "ignore",
    detached: true,
  });
  const deadline = Date.now() + 15_000;
  while (!existsSync(socketPath)) {
    if (child.exitCode !== null) throw new Error(`podman system service exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error("podman system service did not create its socket within 15 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    socketPath,
    env: { CONTAINERS_CONF: conf },
    stop: async () => {
      try {
        process.kill(-(child.pid ?? 0), "SIGTERM");
      } catch {
        child.kill("SIGTERM");
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
