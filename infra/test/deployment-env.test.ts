// The deployment-environment helper fails the way the services fail at start-up.
import { describe, expect, it } from "vitest";
import {
  SECRET_PLACEHOLDER,
  ecsEnvironment,
  kubernetesEnvironment,
  loadBacktestEnvironment,
  loadWorkerEnvironment,
} from "./deployment-env";

describe("loading a deployment's variables through the services' schemas", () => {
  it("names unknown variables and bad values as the loader does", () => {
    const result = loadBacktestEnvironment({ BACKEND_PORT: "eighty", BACKEND_EXECUTOR: "SQS", OTHER: "x" });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^BACKEND_PORT: expected .*, got "eighty"$/);
    expect(problems[1]).toMatch(
      /^BACKEND_EXECUTOR is not a known setting: expected one of .*BACKEND_EXECUTOR_MODE/,
    );
    expect(loadWorkerEnvironment({ WORKER_STATE_STORE: "mysql" })).toMatchObject({
      ok: false,
      problems: [expect.stringMatching(/^WORKER_STATE_STORE: expected .*sqlite.*, got "mysql"$/)],
    });
  });

  it("names the settings an executor needs but the deployment does not set", () => {
    expect(loadBacktestEnvironment({ BACKEND_EXECUTOR_MODE: "SQS" })).toEqual({
      ok: false,
      problems: [
        "BACKEND_BACKTEST_QUEUE_URL: expected a value for executor SQS, got nothing",
        "BACKEND_AWS_REGION: expected a value for executor SQS, got nothing",
      ],
    });
    expect(
      loadBacktestEnvironment({ BACKEND_EXECUTOR_MODE: "LOCAL", BACKEND_LOCAL_EXECUTION_MODE: "docker" }),
    ).toMatchObject({ ok: false, problems: [expect.stringContaining("BACKEND_WORKER_IMAGE")] });
  });

  it("reads Kubernetes and ECS containers, secret references as a value", () => {
    expect(
      kubernetesEnvironment({ BACKEND_PORT: "8001" }, [
        { name: "BACKEND_POSTGRES_URL", valueFrom: { secretKeyRef: { name: "s", key: "k" } } },
        { name: "BACKEND_HOST", value: "0.0.0.0" },
      ]),
    ).toEqual({ BACKEND_PORT: "8001", BACKEND_POSTGRES_URL: SECRET_PLACEHOLDER, BACKEND_HOST: "0.0.0.0" });
    expect(ecsEnvironment({ environment: [{ name: "A", value: "1" }], secrets: [{ name: "B" }] })).toEqual({
      A: "1",
      B: SECRET_PLACEHOLDER,
    });
  });
});
