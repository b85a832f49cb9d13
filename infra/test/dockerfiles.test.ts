// The Dockerfiles agree with infra/shared/config.ts (entry point, port, health check, start period,
// non-root user), and the two helper scripts the images run really work.
import { execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, existsSync, writeFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import {
  LAMBDA_CONFIGS,
  LAMBDA_NAMES,
  RESULTS_MOUNT_PATH,
  SERVICES,
  SERVICE_NAMES,
  WORKER_COMMAND,
} from "../shared/config";
import { REPO_ROOT } from "./compose-check";

const run = promisify(execFile);
const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), "utf8");

/** Instructions of the last stage, with continuation lines joined. */
function finalStage(dockerfile: string): string[] {
  const lines = dockerfile
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith("#"));
  const lastFrom = lines.findLastIndex((line) => line.startsWith("FROM "));
  return lines.slice(lastFrom);
}

const scratch = mkdtempSync(path.join(os.tmpdir(), "tradai-dockerfiles-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("service Dockerfiles", () => {
  it.each(SERVICE_NAMES.map((name) => [name]))("%s: image matches SERVICES", (name) => {
    const service = SERVICES[name];
    const text = read(service.dockerfile);
    const stage = finalStage(text);
    const user = stage.filter((line) => line.startsWith("USER ")).at(-1);
    expect(user, "final stage sets a user").toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)(:|$)/);
    if (service.entrypoint !== null) {
      expect(text).toContain(`npx esbuild ${service.entrypoint} --bundle --platform=node`);
      expect(text).toContain("--format=esm");
      expect(text).toContain("--external:better-sqlite3");
      // The worker's is a command (WORKER_COMMAND), so the LOCAL/DOCKER executor's cmd replaces it.
      expect(stage).toContain(
        service.kind === "task"
          ? `CMD [${WORKER_COMMAND.map((part) => JSON.stringify(part)).join(", ")}]`
          : 'ENTRYPOINT ["node", "dist/main.mjs"]',
      );
    }
    const healthcheck = stage.find((line) => line.startsWith("HEALTHCHECK")) ?? "";
    expect(healthcheck).not.toContain("curl");
    if (service.port === null) {
      expect(healthcheck).toBe("HEALTHCHECK NONE");
      expect(stage.some((line) => line.startsWith("EXPOSE"))).toBe(false);
      return;
    }
    // live-trading and dry-run-trading share one image; its defaults are the live ones.
    const owner = SERVICE_NAMES.map((other) => SERVICES[other]).find(
      (other) => other.dockerfile === service.dockerfile,
    );
    expect(stage).toContain(`EXPOSE ${owner?.port}`);
    expect(healthcheck).toContain(`--start-period=${service.startPeriod}s`);
    expect(healthcheck).toContain(service.healthPath ?? "");
    expect(healthcheck).toContain(`'${owner?.port}'`);
    if (service.component !== null) {
      expect(stage.join("\n")).toContain(`${service.envPrefix}PORT=${owner?.port}`);
      expect(stage.join("\n")).toContain(`${service.envPrefix}HOST=0.0.0.0`);
    }
    if (service.args.length > 0 && owner?.name === name) {
      expect(stage).toContain(`CMD [${service.args.map((arg) => JSON.stringify(arg)).join(", ")}]`);
    }
  });

  it("builds the script the worker command runs, where the LOCAL/DOCKER executor expects it", () => {
    const worker = SERVICES["strategy-container"];
    const text = read(worker.dockerfile);
    const stage = finalStage(text);
    // The executor's default command (services/backtest local-docker-submitter.ts) is WORKER_COMMAND.
    const submitter = read("services/backtest/src/infrastructure/local-docker-submitter.ts");
    const fallback = /options\.command \?\? (\[[^\]]*\])/.exec(submitter)?.[1];
    expect(fallback === undefined ? undefined : JSON.parse(fallback)).toEqual(WORKER_COMMAND);
    // No entry point: `docker run <image> node dist/main.mjs --job ...` must not run node twice.
    expect(stage.some((line) => line.startsWith("ENTRYPOINT"))).toBe(false);
    // The script is relative to WORKDIR, built to /out and copied there.
    const workdir = stage
      .filter((line) => line.startsWith("WORKDIR "))
      .at(-1)
      ?.slice("WORKDIR ".length);
    const script = WORKER_COMMAND[1] ?? "";
    expect(stage).toContain("COPY --from=build --chown=node:node /out/ ./");
    expect(text).toContain(`--outfile=/out/${script}`);
    expect(path.posix.join(workdir ?? "", script)).toBe("/app/dist/main.mjs");
    // The shared result store exists, owned by the user the image runs as.
    expect(stage.join("\n")).toContain(`chown node:node ${RESULTS_MOUNT_PATH}`);
  });

  it("runs MLflow with --static-prefix=/mlflow and a PostgreSQL driver", () => {
    const text = read(SERVICES.mlflow.dockerfile);
    expect(text).toContain("--static-prefix /mlflow");
    expect(text).toMatch(/psycopg2-binary/);
    expect(text).toContain("MLFLOW_BACKEND_STORE_URI");
  });

  it("builds every image-packaged Lambda from the shared base with one pattern", () => {
    const base = read("lambdas/base/Dockerfile");
    expect(base).toMatch(/FROM \$\{LAMBDA_RUNTIME_IMAGE\}/);
    expect(base).toContain("public.ecr.aws/lambda/nodejs:20");
    expect(base).toContain("invoke.mjs");
    const pattern = read("docker/lambda.Dockerfile");
    expect(pattern).toContain('npx esbuild "lambdas/${LAMBDA}/src/handler.ts"');
    expect(pattern).toContain('CMD ["handler.handler"]');
    for (const name of LAMBDA_NAMES) {
      expect(LAMBDA_CONFIGS[name].handler).toBe(`lambdas/${name}/src/handler.ts`);
    }
  });

  it("keeps node_modules, .git and secrets out of the build context", () => {
    const ignore = read(".dockerignore").split("\n");
    expect(ignore).toEqual(expect.arrayContaining(["**/node_modules", ".git", ".env"]));
  });
});

describe("docker/lambda-invoke.mjs (the CronJob entry point)", () => {
  const invoke = path.join(REPO_ROOT, "docker/lambda-invoke.mjs");
  const handlerFile = path.join(scratch, "handler.mjs");
  writeFileSync(
    handlerFile,
    "export async function handler(event, context) {\n" +
      "  if (event.fail) throw new Error('asked to fail');\n" +
      "  return { doubled: event.value * 2, name: context.functionName, left: context.getRemainingTimeInMillis() > 0 };\n" +
      "}\n",
  );

  it("calls the handler once with the event and a context, exit 0", async () => {
    const { stdout } = await run(process.execPath, [invoke], {
      env: {
        ...process.env,
        TRADAI_LAMBDA_HANDLER_FILE: handlerFile,
        TRADAI_LAMBDA_EVENT: '{"value":21}',
        AWS_LAMBDA_FUNCTION_NAME: "tradai-orphan-scanner-dev",
      },
    });
    expect(JSON.parse(stdout.trim()).result).toEqual({
      doubled: 42,
      name: "tradai-orphan-scanner-dev",
      left: true,
    });
  });

  it("exits 1 when the handler throws or the event is not JSON", async () => {
    const failing = run(process.execPath, [invoke], {
      env: { ...process.env, TRADAI_LAMBDA_HANDLER_FILE: handlerFile, TRADAI_LAMBDA_EVENT: '{"fail":true}' },
    });
    await expect(failing).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("asked to fail"),
    });
    const badEvent = run(process.execPath, [invoke], {
      env: { ...process.env, TRADAI_LAMBDA_HANDLER_FILE: handlerFile, TRADAI_LAMBDA_EVENT: "{oops" },
    });
    await expect(badEvent).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("TRADAI_LAMBDA_EVENT: expected JSON"),
    });
  });
});

describe("docker/collect-externals.mjs", () => {
  it("copies a package with its dependency closure and nothing else", async () => {
    const project = path.join(scratch, "project");
    const write = (
      name: string,
      dependencies: Record<string, string>,
      optional: Record<string, string> = {},
    ) => {
      mkdirSync(path.join(project, "node_modules", name), { recursive: true });
      writeFileSync(
        path.join(project, "node_modules", name, "package.json"),
        JSON.stringify({ name, dependencies, optionalDependencies: optional }),
      );
    };
    write("native", { bindings: "1" }, { "@native/linux-x64": "1", "@native/darwin-arm64": "1" });
    write("bindings", { "file-uri": "1" });
    write("file-uri", {});
    write("@native/linux-x64", {});
    write("unrelated", {});
    const out = path.join(scratch, "out");
    const { stdout } = await run(
      process.execPath,
      [path.join(REPO_ROOT, "docker/collect-externals.mjs"), out, "native", "missing"],
      { cwd: project },
    );
    expect(stdout).toContain("missing is not installed, skipped");
    for (const name of ["native", "bindings", "file-uri", "@native/linux-x64"]) {
      expect(existsSync(path.join(out, "node_modules", name, "package.json")), name).toBe(true);
    }
    expect(existsSync(path.join(out, "node_modules", "unrelated"))).toBe(false);
    expect(existsSync(path.join(out, "node_modules", "@native/darwin-arm64"))).toBe(false);
  });
});
