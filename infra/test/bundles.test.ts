// The images' build step, run here: every service entry point that exists is bundled with the
// esbuild options its Dockerfile uses, and the bundle must parse as an ES module. The strategy
// image's pre-bundled sandbox harness must re-bundle the way the service does at run time.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { SERVICES, SERVICE_NAMES } from "../shared/config";
import { REPO_ROOT } from "./compose-check";

const run = promisify(execFile);
const scratch = mkdtempSync(path.join(os.tmpdir(), "tradai-bundles-"));
// Bundles live inside the repository so external packages resolve from its node_modules, as they
// do from /app/node_modules in the image (docker/collect-externals.mjs).
const bundleDirectory = mkdtempSync(path.join(REPO_ROOT, "node_modules", ".tradai-bundle-test-"));
afterAll(() => rmSync(bundleDirectory, { recursive: true, force: true }));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The esbuild options of a Dockerfile's `npx esbuild <entry> ...` line. */
function dockerfileBuild(dockerfile: string, entry: string) {
  const text = readFileSync(path.join(REPO_ROOT, dockerfile), "utf8").replace(/\\\n\s*/g, " ");
  const line = text.split("\n").find((candidate) => candidate.includes(`npx esbuild ${entry} `));
  if (line === undefined) throw new Error(`${dockerfile}: expected an esbuild line for ${entry}, got none`);
  const option = (name: string) => new RegExp(`--${name}=(\\S+)`).exec(line)?.[1];
  const banner = /--banner:js="([^"]+)"/.exec(line)?.[1];
  return {
    external: [...line.matchAll(/--external:(\S+)/g)].map((match) => match[1] ?? ""),
    format: option("format") as "esm" | "iife",
    target: option("target") ?? "node20",
    platform: option("platform") as "node",
    ...(banner !== undefined ? { banner: { js: banner } } : {}),
    outfile: option("outfile") ?? "",
  };
}

// Deployables whose entry point exists in this checkout (the worker may land later than this file).
const deployables = [...new Set(SERVICE_NAMES.map((name) => SERVICES[name].dockerfile))]
  .map((dockerfile) =>
    SERVICE_NAMES.map((name) => SERVICES[name]).find((service) => service.dockerfile === dockerfile),
  )
  .filter((service) => service?.entrypoint !== null && service?.entrypoint !== undefined)
  .filter((service) => existsSync(path.join(REPO_ROOT, service?.entrypoint ?? "")));

describe("service bundles (the Dockerfiles' esbuild step)", () => {
  it("finds the entry points of the gateway and the services", () => {
    expect(deployables.map((service) => service?.name)).toEqual(
      expect.arrayContaining([
        "backend-api",
        "backtest",
        "data-collection",
        "strategy-service",
        "live-trading",
      ]),
    );
  });

  it("bundles every entry point into one ES module with its Dockerfile's options", async () => {
    const options = deployables.map((service) =>
      dockerfileBuild(service?.dockerfile ?? "", service?.entrypoint ?? ""),
    );
    // One esbuild run for all (shared parsing keeps this fast), so the options must agree.
    for (const option of options) {
      expect(option.outfile).toBe("/out/dist/main.mjs");
      expect({ ...option, outfile: "" }).toEqual({ ...options[0], outfile: "" });
    }
    const { outfile: _outfile, ...shared } =
      options[0] ?? dockerfileBuild("docker/gateway.Dockerfile", "gateway/src/main.ts");
    const outdir = bundleDirectory;
    const result = await build({
      entryPoints: Object.fromEntries(
        deployables.map((service) => [service?.name ?? "", path.join(REPO_ROOT, service?.entrypoint ?? "")]),
      ),
      bundle: true,
      ...shared,
      outdir,
      outExtension: { ".js": ".mjs" },
      logLevel: "silent",
    });
    expect(result.errors).toEqual([]);
    await Promise.all(
      deployables.map((service) =>
        run(process.execPath, ["--check", path.join(outdir, `${service?.name}.mjs`)]),
      ),
    );
  }, 60_000);

  it("starts every bundled service and answers its health endpoint", async () => {
    const withPort = deployables.filter((service) => service?.port !== null && service?.port !== undefined);
    const results = await Promise.all(
      withPort.map(async (service, index) => {
        if (service === undefined) return "";
        const port = 18_400 + index;
        const workDirectory = mkdtempSync(path.join(scratch, `${service.name}-`));
        const child = spawn(
          process.execPath,
          [path.join(bundleDirectory, `${service.name}.mjs`), ...service.args],
          {
            cwd: workDirectory,
            env: {
              PATH: process.env.PATH,
              HOME: workDirectory,
              [`${service.envPrefix}HOST`]: "127.0.0.1",
              [`${service.envPrefix}PORT`]: String(port),
              ...(service.name === "strategy-service"
                ? { STRATEGY_SERVICE_STRATEGIES_DIR: path.join(REPO_ROOT, "strategies") }
                : {}),
            },
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
        const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
        try {
          for (let attempt = 0; attempt < 100; attempt++) {
            if (child.exitCode !== null) break;
            try {
              const response = await fetch(`http://127.0.0.1:${port}${service.healthPath}`);
              return `${service.name}: ${response.status}`;
            } catch {
              // not listening yet
            }
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
          return `${service.name}: no answer; output: ${output.slice(-1500)}`;
        } finally {
          child.kill("SIGTERM");
          await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
          if (child.exitCode === null) child.kill("SIGKILL");
        }
      }),
    );
    expect(results.length).toBeGreaterThanOrEqual(5);
    for (const result of results) expect(result).toMatch(/: (200|503)$/);
  }, 60_000);

  it.each([
    // The strategy service bundles it in worker-strategy-sandbox.ts; the worker in sandboxed-backtest.ts.
    { service: "strategy-service", harness: "sandbox-harness", contains: "populateIndicators" },
    { service: "strategy-container", harness: "backtest-harness", contains: "runBacktest" },
  ] as const)(
    "ships $harness in the $service image so it can be bundled at run time",
    async ({ service, harness, contains }) => {
      const source = `services/strategy/src/infrastructure/${harness}.ts`;
      const options = dockerfileBuild(SERVICES[service].dockerfile, source);
      expect(options.outfile).toBe(`/out/dist/${harness}.ts`);
      const prebundled = path.join(scratch, harness, `${harness}.ts`);
      await build({
        entryPoints: [path.join(REPO_ROOT, source)],
        bundle: true,
        ...options,
        outfile: prebundled,
        logLevel: "silent",
      });
      // What bundleHarnessAt does with the file beside the service's bundle.
      const again = await build({
        entryPoints: [prebundled],
        bundle: true,
        write: false,
        format: "iife",
        platform: "node",
        target: "node20",
        logLevel: "silent",
      });
      const text = again.outputFiles[0]?.text ?? "";
      expect(text).toContain(contains);
      expect(text.length).toBeGreaterThan(1000);
    },
    60_000,
  );
});
