// The RunTask request shape. moto (5.2) ignores capacity provider strategies and only places
// FARGATE launch-type tasks, so the FARGATE_SPOT request is checked here, field by field, against
// the RunTask API reference (launchType and capacityProviderStrategy are mutually exclusive).
import { describe, expect, it } from "vitest";
import { buildRunTaskInput, traceContextEnvironment } from "./ecs-tasks";

const base = {
  cluster: "tradai-dev",
  taskDefinition: "strategy-container:3",
  subnets: ["subnet-a", "subnet-b"],
  securityGroups: ["sg-1"],
  containerName: "worker",
};

describe("buildRunTaskInput", () => {
  it("uses the FARGATE launch type by default, private networking, env overrides", () => {
    const input = buildRunTaskInput({
      ...base,
      environment: { TRADAI_JOB_ID: "j1" },
      cpu: "2048",
      memory: "4096",
    });
    expect(input).toEqual({
      cluster: "tradai-dev",
      taskDefinition: "strategy-container:3",
      count: 1,
      launchType: "FARGATE",
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ["subnet-a", "subnet-b"],
          securityGroups: ["sg-1"],
          assignPublicIp: "DISABLED",
        },
      },
      overrides: {
        cpu: "2048",
        memory: "4096",
        containerOverrides: [{ name: "worker", environment: [{ name: "TRADAI_JOB_ID", value: "j1" }] }],
      },
    });
  });

  it("asks for the FARGATE_SPOT capacity provider instead of a launch type", () => {
    const input = buildRunTaskInput({ ...base, capacity: "FARGATE_SPOT", assignPublicIp: true });
    expect(input.launchType).toBeUndefined();
    expect(input.capacityProviderStrategy).toEqual([{ capacityProvider: "FARGATE_SPOT", weight: 1 }]);
    expect(input.networkConfiguration?.awsvpcConfiguration?.assignPublicIp).toBe("ENABLED");
  });

  it("carries W3C trace context as OpenTelemetry's environment carrier variables", () => {
    expect(
      traceContextEnvironment({ traceparent: "00-abc-def-01", tracestate: "k=v", baggage: "", other: "x" }),
    ).toEqual({ TRACEPARENT: "00-abc-def-01", TRACESTATE: "k=v" });
  });

  it("rejects missing networking and long startedBy values, naming the field", () => {
    expect(() => buildRunTaskInput({ ...base, subnets: [] })).toThrow(
      "subnets: expected at least one subnet for awsvpc networking, got none",
    );
    expect(() => buildRunTaskInput({ ...base, securityGroups: [] })).toThrow(
      "securityGroups: expected at least one security group for awsvpc networking, got none",
    );
    expect(() => buildRunTaskInput({ ...base, startedBy: "x".repeat(37) })).toThrow(
      "startedBy: expected at most 36 characters, got 37",
    );
  });
});
