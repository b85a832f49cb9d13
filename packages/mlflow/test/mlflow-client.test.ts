// The MLflow client against the real MLflow server the suite's global setup starts
// (TRADAI_TEST_MLFLOW_URL; run with TRADAI_TEST_DEPS=mlflow). Each test works in its own
// experiment / registered model. Values read back are checked against what the test itself
// wrote, through MLflow's own storage — not against our client's earlier output.
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMlflowClient, isMlflowError, MlflowError, type MlflowClient } from "../src/index";

const mlflowUrl = process.env.TRADAI_TEST_MLFLOW_URL;
const unique = (prefix: string) => `${prefix}-${randomBytes(5).toString("hex")}`;

/**
 * A reverse proxy in front of the server that serves it under /mlflow (as --static-prefix=/mlflow
 * does) and can answer the next N requests itself with a given status, counting every request.
 */
async function startProxy(target: string) {
  const state = { requests: [] as string[], failNext: 0, failStatus: 503, failBody: "" };
  const server = http.createServer((request, response) => {
    const url = request.url ?? "/";
    state.requests.push(`${request.method} ${url}`);
    if (!url.startsWith("/mlflow/")) {
      response.writeHead(404).end("not under /mlflow");
      return;
    }
    if (state.failNext > 0) {
      state.failNext--;
      response.writeHead(state.failStatus, { "content-type": "application/json" }).end(state.failBody);
      return;
    }
    const upstream = new URL(url.slice("/mlflow".length), target);
    const forward = http.request(
      upstream,
      { method: request.method, headers: { ...request.headers, host: upstream.host } },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forward.on("error", () => response.writeHead(502).end());
    request.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mlflow`,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.skipIf(mlflowUrl === undefined)("MlflowClient on a real MLflow server", () => {
  let client: MlflowClient;

  beforeAll(() => {
    client = createMlflowClient({ baseUrl: mlflowUrl ?? "" });
  });

  it("gets or creates an experiment idempotently, also under concurrent callers", async () => {
    const name = unique("tradai-exp");
    expect(await client.getExperimentByName(name)).toBeUndefined();
    const created = await Promise.all([
      client.getOrCreateExperiment(name, { tags: { owner: "tests" } }),
      client.getOrCreateExperiment(name, { tags: { owner: "tests" } }),
      client.getOrCreateExperiment(name, { tags: { owner: "tests" } }),
    ]);
    expect(new Set(created.map((experiment) => experiment.experimentId)).size).toBe(1);
    const read = await client.getExperimentByName(name);
    expect(read?.experimentId).toBe(created[0]?.experimentId);
    expect(read?.name).toBe(name);
    expect(read?.tags.owner).toBe("tests");
    const duplicate = await client.createExperiment(name).catch((error: unknown) => error);
    expect(isMlflowError(duplicate, "RESOURCE_ALREADY_EXISTS")).toBe(true);
    expect((duplicate as MlflowError).status).toBe(400);
    expect((duplicate as MlflowError).message).toMatch(
      /^MLflow POST \/api\/2\.0\/mlflow\/experiments\/create failed: 400 RESOURCE_ALREADY_EXISTS: /,
    );
  });

  it("creates a run, logs a large batch within MLflow's limits and ends it", async () => {
    const experiment = await client.getOrCreateExperiment(unique("tradai-runs"));
    const run = await client.createRun({
      experimentId: experiment.experimentId,
      runName: "backtest-job-1",
      startTime: 1_700_000_000_000,
      tags: { job_id: "job-1", strategy_version: "abc123" },
    });
    expect(run.info.status).toBe("RUNNING");
    expect(run.info.runName).toBe("backtest-job-1");
    expect(run.info.artifactUri).toMatch(/^mlflow-artifacts:/);

    // 1200 metric points (an equity curve), 151 params and 120 tags: at most 100 params, 100 tags
    // and 1000 entities per request → 100 + 100 + 800, then 51 + 20 + 402.
    const metrics = Array.from({ length: 1200 }, (_, step) => ({
      key: "balance",
      value: 1000 + step * 0.5,
      step,
      timestamp: 1_700_000_000_000 + step * 300_000,
    }));
    metrics.push({
      key: "profit_factor",
      value: Number.POSITIVE_INFINITY,
      step: 0,
      timestamp: 1_700_000_000_000,
    });
    metrics.push({ key: "calmar", value: Number.NaN, step: 0, timestamp: 1_700_000_000_000 });
    const params: Record<string, string | number> = Object.fromEntries(
      Array.from({ length: 150 }, (_, index) => [`param_${index}`, index * 2]),
    );
    params.long_param = "x".repeat(6000);
    const tags = Object.fromEntries(
      Array.from({ length: 120 }, (_, index) => [`tag_${index}`, `value ${index}`]),
    );
    const requests = await client.logBatch(run.info.runId, { metrics, params, tags });
    expect(requests).toBe(2);

    const ended = await client.endRun(run.info.runId, "FINISHED");
    expect(ended.status).toBe("FINISHED");
    expect(ended.endTime).toBeGreaterThan(0);

    const read = await client.getRun(run.info.runId);
    expect(Object.keys(read.data.params)).toHaveLength(151);
    expect(read.data.params.param_149).toBe("298");
    expect(read.data.params.long_param).toHaveLength(6000);
    expect(read.data.tags.tag_119).toBe("value 119");
    expect(read.data.tags.job_id).toBe("job-1");
    const latest = Object.fromEntries(read.data.metrics.map((metric) => [metric.key, metric.value]));
    expect(latest.balance).toBe(1000 + 1199 * 0.5);
    expect(latest.profit_factor).toBeGreaterThan(1e300); // MLflow keeps +Infinity (as the largest double)
    expect(Number.isNaN(latest.calmar)).toBe(true);
    const history = await client.getMetricHistory(run.info.runId, "balance");
    expect(history).toHaveLength(1200);
    expect(history.map((metric) => metric.step).sort((a, b) => a - b)[1199]).toBe(1199);

    await expect(client.logBatch(run.info.runId, { params: { too_long: "y".repeat(6001) } })).rejects.toThrow(
      "param too_long: expected a value of at most 6000 characters, got 6001",
    );
    expect(
      await client.logBatch(
        run.info.runId,
        { params: { cut: "z".repeat(7000) } },
        { truncateLongValues: true },
      ),
    ).toBe(1);
    expect((await client.getRun(run.info.runId)).data.params.cut).toHaveLength(6000);
  });

  it("uploads, lists and downloads artifacts through the artifact proxy", async () => {
    const experiment = await client.getOrCreateExperiment(unique("tradai-artifacts"));
    const run = await client.createRun({ experimentId: experiment.experimentId });
    const result = JSON.stringify({ job_id: "job-1", trades: [{ pair: "BTC/USDT", profit: 1.5 }] });
    const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0, 255]);
    await client.uploadArtifact(run.info.runId, "result.json", result, "application/json");
    await client.uploadArtifact(run.info.runId, "charts/equity.png", png, "image/png");
    await client.uploadArtifact(run.info.runId, "charts/trades list.csv", "pair,profit\nBTC/USDT,1.5\n");

    const root = await client.listArtifacts(run.info.runId);
    expect(root.map((file) => [file.path, file.isDir]).sort()).toEqual([
      ["charts", true],
      ["result.json", false],
    ]);
    expect(root.find((file) => file.path === "result.json")?.fileSize).toBe(Buffer.byteLength(result));
    const charts = await client.listArtifacts(run.info.runId, "charts");
    expect(charts.map((file) => file.path).sort()).toEqual(["charts/equity.png", "charts/trades list.csv"]);

    expect(Buffer.from(await client.downloadArtifact(run.info.runId, "result.json")).toString()).toBe(result);
    expect(Array.from(await client.downloadArtifact(run.info.runId, "charts/equity.png"))).toEqual(
      Array.from(png),
    );
    await expect(client.downloadArtifact(run.info.runId, "../escape")).rejects.toThrow(
      /no "\." or "\.\." segments/,
    );
  });

  it("searches runs by tag and metric, paging through results", async () => {
    const experiment = await client.getOrCreateExperiment(unique("tradai-search"));
    for (let index = 0; index < 5; index++) {
      const run = await client.createRun({
        experimentId: experiment.experimentId,
        tags: { strategy: index % 2 === 0 ? "Alpha" : "Beta" },
      });
      await client.logBatch(run.info.runId, { metrics: [{ key: "sharpe", value: index }] });
    }
    const alpha = await client.searchAllRuns({
      experimentIds: [experiment.experimentId],
      filter: "tags.strategy = 'Alpha' and metrics.sharpe >= 1",
      orderBy: ["metrics.sharpe DESC"],
    });
    expect(alpha.map((run) => run.data.metrics.find((metric) => metric.key === "sharpe")?.value)).toEqual([
      4, 2,
    ]);
    const first = await client.searchRuns({ experimentIds: [experiment.experimentId], maxResults: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.nextPageToken).toBeDefined();
    const all = await client.searchAllRuns({ experimentIds: [experiment.experimentId], maxResults: 2 });
    expect(new Set(all.map((run) => run.info.runId)).size).toBe(5);
    const bad = await client
      .searchRuns({ experimentIds: [experiment.experimentId], filter: "nonsense ===" })
      .catch((e: unknown) => e);
    expect(isMlflowError(bad, "INVALID_PARAMETER_VALUE")).toBe(true);
  });

  it("registers model versions and moves champion/challenger aliases, stages and tags", async () => {
    const experiment = await client.getOrCreateExperiment(unique("tradai-models"));
    const name = unique("tradai-model");
    const model = await client.getOrCreateRegisteredModel(name, {
      description: "ML strategy",
      tags: { team: "quant" },
    });
    expect(model.name).toBe(name);
    expect((await client.getOrCreateRegisteredModel(name)).tags.team).toBe("quant");

    const versions = [];
    for (let index = 0; index < 2; index++) {
      const run = await client.createRun({ experimentId: experiment.experimentId });
      versions.push(
        await client.createModelVersion({
          name,
          source: `${run.info.artifactUri}/model`,
          runId: run.info.runId,
          tags: { trained_on: `2026-0${index + 1}` },
        }),
      );
    }
    expect(versions.map((version) => version.version)).toEqual(["1", "2"]);
    expect(versions[0]?.tags.trained_on).toBe("2026-01");

    await client.setRegisteredModelAlias(name, "champion", "1");
    await client.setRegisteredModelAlias(name, "challenger", "2");
    expect((await client.getModelVersionByAlias(name, "champion"))?.version).toBe("1");
    expect((await client.getRegisteredModel(name)).aliases).toEqual({ champion: "1", challenger: "2" });
    // Promotion: the alias moves; the old champion keeps no alias.
    await client.setRegisteredModelAlias(name, "champion", "2");
    await client.deleteRegisteredModelAlias(name, "challenger");
    expect((await client.getModelVersionByAlias(name, "champion"))?.aliases).toEqual(["champion"]);
    expect(await client.getModelVersionByAlias(name, "challenger")).toBeUndefined();
    expect((await client.getModelVersion(name, "1")).aliases).toEqual([]);

    const production = await client.transitionModelVersionStage(name, "2", "Production");
    expect(production.currentStage).toBe("Production");
    await client.transitionModelVersionStage(name, "1", "Production", true);
    expect((await client.getModelVersion(name, "2")).currentStage).toBe("Archived");
    expect((await client.getLatestVersions(name, ["Production"])).map((version) => version.version)).toEqual([
      "1",
    ]);

    await client.setModelVersionTag(name, "2", "rolled_back", "true");
    await client.setRegisteredModelTag(name, "last_promotion", "2026-11-25");
    await client.deleteModelVersionTag(name, "1", "trained_on");
    expect((await client.getModelVersion(name, "2")).tags).toEqual({
      trained_on: "2026-02",
      rolled_back: "true",
    });
    expect((await client.getModelVersion(name, "1")).tags).toEqual({});
    expect((await client.getRegisteredModel(name)).tags.last_promotion).toBe("2026-11-25");
    const found = await client.searchModelVersions({ filter: `name = '${name}'` });
    expect(found.items.map((version) => version.version).sort()).toEqual(["1", "2"]);
    const missing = await client.getModelVersion(name, "9").catch((error: unknown) => error);
    expect(isMlflowError(missing, "RESOURCE_DOES_NOT_EXIST")).toBe(true);
  });

  describe("through a proxy serving MLflow under /mlflow", () => {
    let proxy: Awaited<ReturnType<typeof startProxy>>;
    beforeAll(async () => {
      proxy = await startProxy(mlflowUrl ?? "");
    });
    afterAll(async () => {
      await proxy.close();
    });

    it("prefixes every call with the base path", async () => {
      const prefixed = createMlflowClient({ baseUrl: `${proxy.url}/` });
      const experiment = await prefixed.getOrCreateExperiment(unique("tradai-prefix"));
      const run = await prefixed.createRun({ experimentId: experiment.experimentId });
      await prefixed.uploadArtifact(run.info.runId, "a.txt", "hello");
      expect(Buffer.from(await prefixed.downloadArtifact(run.info.runId, "a.txt")).toString()).toBe("hello");
      expect(proxy.state.requests.every((line) => line.includes(" /mlflow/api/2.0/"))).toBe(true);
    });

    it("retries 5xx and 429 with backoff, then succeeds", async () => {
      const delays: number[] = [];
      const retrying = createMlflowClient({
        baseUrl: proxy.url,
        sleep: async (ms) => {
          delays.push(ms);
        },
      });
      proxy.state.requests.length = 0;
      proxy.state.failNext = 2;
      proxy.state.failStatus = 503;
      const name = unique("tradai-retry");
      const id = await retrying.createExperiment(name);
      expect(id).not.toBe("");
      expect(proxy.state.requests).toHaveLength(3);
      expect(delays).toHaveLength(2);
      expect(delays[0]).toBeGreaterThanOrEqual(100);
      expect(delays[0]).toBeLessThanOrEqual(300);
      expect(delays[1]).toBeGreaterThanOrEqual(200);
      expect(delays[1]).toBeLessThanOrEqual(600);

      proxy.state.requests.length = 0;
      proxy.state.failNext = 1;
      proxy.state.failStatus = 429;
      expect((await retrying.getExperimentByName(name))?.experimentId).toBe(id);
      expect(proxy.state.requests).toHaveLength(2);
    });

    it("gives up after maxRetries, naming the last error", async () => {
      const retrying = createMlflowClient({ baseUrl: proxy.url, maxRetries: 2, sleep: async () => {} });
      proxy.state.requests.length = 0;
      proxy.state.failNext = 5;
      proxy.state.failStatus = 502;
      proxy.state.failBody = JSON.stringify({
        error_code: "TEMPORARILY_UNAVAILABLE",
        message: "backend down",
      });
      const error = await retrying.getExperiment("0").catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(MlflowError);
      expect((error as MlflowError).message).toBe(
        "MLflow GET /api/2.0/mlflow/experiments/get failed: 502 TEMPORARILY_UNAVAILABLE: backend down",
      );
      expect(proxy.state.requests).toHaveLength(3);
      proxy.state.failNext = 0;
      proxy.state.failBody = "";
    });

    it("does not retry other 4xx answers", async () => {
      const retrying = createMlflowClient({ baseUrl: proxy.url, sleep: async () => {} });
      proxy.state.requests.length = 0;
      const error = await retrying
        .getRun("0000000000000000000000000000dead")
        .catch((reason: unknown) => reason);
      expect(isMlflowError(error, "RESOURCE_DOES_NOT_EXIST")).toBe(true);
      expect((error as MlflowError).status).toBe(404);
      expect(proxy.state.requests).toHaveLength(1);
    });

    it("retries network errors and reports NETWORK_ERROR when the server stays away", async () => {
      const closed = await startProxy(mlflowUrl ?? "");
      const deadUrl = closed.url;
      await closed.close();
      let sleeps = 0;
      const offline = createMlflowClient({
        baseUrl: deadUrl,
        maxRetries: 2,
        sleep: async () => {
          sleeps++;
        },
      });
      const error = await offline.getExperiment("0").catch((reason: unknown) => reason);
      expect(isMlflowError(error, "NETWORK_ERROR")).toBe(true);
      expect((error as MlflowError).status).toBe(0);
      expect(sleeps).toBe(2);
    });
  });
});

describe("createMlflowClient", () => {
  it("rejects a base URL that is not http(s), naming the option", () => {
    expect(() => createMlflowClient({ baseUrl: "mlflow:5000" })).toThrow(
      'baseUrl: expected an http(s) URL, got "mlflow:5000"',
    );
    expect(() => createMlflowClient({ baseUrl: "not a url" })).toThrow(/^baseUrl: expected an http\(s\) URL/);
  });
});
