// Proves each integration peer started by the global setup is reachable (issue #2, "Done when").
import { spawnSync } from "node:child_process";
import { connect } from "node:net";
import { CreateQueueCommand, ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";

const selected = (name: string) => {
  const value = process.env.TRADAI_TEST_DEPS ?? "all";
  return value === "all" || value.split(",").includes(name);
};

describe.runIf(selected("redis"))("redis-server", () => {
  it("answers PING with PONG", async () => {
    const url = new URL(process.env.TRADAI_TEST_REDIS_URL ?? "");
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname);
      socket.once("error", reject);
      socket.once("data", (data) => {
        socket.destroy();
        resolve(data.toString());
      });
      socket.write("PING\r\n");
    });
    expect(reply).toBe("+PONG\r\n");
  });
});

describe.runIf(selected("postgres"))("PostgreSQL", () => {
  it("runs a query in the test database", () => {
    const result = spawnSync("psql", [process.env.TRADAI_TEST_POSTGRES_URL ?? "", "-tAc", "select 6 * 7"], {
      encoding: "utf8",
    });
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe("42");
  });
});

describe.runIf(selected("moto"))("moto_server", () => {
  it("creates and lists an SQS queue through the AWS SDK", async () => {
    const sqs = new SQSClient({
      endpoint: process.env.TRADAI_TEST_MOTO_URL ?? "",
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const name = `probe-${process.pid}-${Date.now()}`;
    const created = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    expect(created.QueueUrl).toContain(name);
    const listed = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: name }));
    expect(listed.QueueUrls).toEqual([created.QueueUrl]);
    sqs.destroy();
  });
});

describe.runIf(selected("mlflow"))("MLflow server", () => {
  it("creates an experiment and reads it back over the REST API", async () => {
    const base = process.env.TRADAI_TEST_MLFLOW_URL ?? "";
    const name = `probe-${process.pid}-${Date.now()}`;
    const created = await fetch(`${base}/api/2.0/mlflow/experiments/create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name }),
    });
    expect(created.status).toBe(200);
    const { experiment_id: id } = (await created.json()) as { experiment_id: string };
    const got = await fetch(`${base}/api/2.0/mlflow/experiments/get?experiment_id=${id}`);
    const body = (await got.json()) as { experiment: { name: string } };
    expect(body.experiment.name).toBe(name);
  });
});
