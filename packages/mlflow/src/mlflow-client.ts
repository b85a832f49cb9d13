// A typed client for MLflow's REST API (tracking, artifacts through the server's
// mlflow-artifacts proxy, model registry), fetch-based, for the worker, lambdas and services.
// Reference: MLflow REST API docs (/api/2.0/mlflow/...) and the artifacts proxy
// (/api/2.0/mlflow-artifacts/artifacts/...), served when the server runs with artifact serving
// (the default of `mlflow server` since 2.0).
import { RESOURCE_ALREADY_EXISTS, RESOURCE_DOES_NOT_EXIST, isMlflowError } from "./mlflow-error";
import { createMlflowHttp, type MlflowHttp, type MlflowHttpOptions } from "./mlflow-http";
import { metricValueToWire, splitLogBatch, type LogBatchInput, type LogBatchOptions } from "./log-batch";
import {
  experimentFromWire,
  metricFromWire,
  modelVersionFromWire,
  registeredModelFromWire,
  runFromWire,
  runInfoFromWire,
  type ArtifactFile,
  type Experiment,
  type Metric,
  type ModelStage,
  type ModelVersion,
  type RegisteredModel,
  type Run,
  type RunInfo,
  type RunStatus,
  type ViewType,
  type WireExperiment,
  type WireMetric,
  type WireModelVersion,
  type WireRegisteredModel,
  type WireRun,
  type WireRunInfo,
} from "./mlflow-types";

export type MlflowClientOptions = MlflowHttpOptions & {
  /** Milliseconds since the epoch, for default start/end times and metric timestamps. Default Date.now. */
  clock?: () => number;
};

export interface CreateRunOptions {
  experimentId: string;
  runName?: string;
  /** Default: now. */
  startTime?: number;
  tags?: Record<string, string>;
}

export interface SearchRunsOptions {
  experimentIds: readonly string[];
  /** MLflow search syntax, e.g. `tags.job_id = 'abc' and metrics.sharpe > 1`. */
  filter?: string;
  /** e.g. ["metrics.sharpe DESC", "attributes.start_time DESC"]. */
  orderBy?: readonly string[];
  /** Default 1000 (MLflow's maximum is 50000). */
  maxResults?: number;
  pageToken?: string;
  /** Default ACTIVE_ONLY. */
  runViewType?: ViewType;
}

export interface Page<T> {
  items: T[];
  /** Absent on the last page. */
  nextPageToken?: string;
}

export interface SearchRegistryOptions {
  filter?: string;
  maxResults?: number;
  orderBy?: readonly string[];
  pageToken?: string;
}

export interface CreateModelVersionOptions {
  name: string;
  /** Where the model lives, e.g. "runs:/<run id>/model" or the run's artifact URI + "/model". */
  source: string;
  runId?: string;
  description?: string;
  tags?: Record<string, string>;
}

const API = "/api/2.0/mlflow";
const ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts";

const tagList = (tags: Record<string, string> | undefined) =>
  Object.entries(tags ?? {}).map(([key, value]) => ({ key, value }));

function encodePath(path: string): string {
  return path
    .split("/")
    .filter((segment) => segment !== "")
    .map((segment) => {
      if (segment === "." || segment === "..")
        throw new Error(`artifact path: expected no "." or ".." segments, got "${path}"`);
      return encodeURIComponent(segment);
    })
    .join("/");
}

/**
 * The proxy path of a run's artifact root: "mlflow-artifacts:/1/<run>/artifacts" (or with a
 * host, "mlflow-artifacts://host:port/1/...") → "1/<run>/artifacts".
 */
export function artifactProxyRoot(artifactUri: string): string {
  const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/.exec(artifactUri);
  if (match === null) {
    throw new Error(
      `artifact_uri: expected an mlflow-artifacts: URI (a server with artifact serving), got "${artifactUri}"`,
    );
  }
  return (match[1] ?? "").replace(/\/+$/, "");
}

export function createMlflowClient(options: MlflowClientOptions) {
  const http: MlflowHttp = createMlflowHttp(options);
  const clock = options.clock ?? Date.now;
  const artifactRoots = new Map<string, string>();

  const notFoundAsUndefined = async <T>(call: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await call();
    } catch (error) {
      if (isMlflowError(error, RESOURCE_DOES_NOT_EXIST)) return undefined;
      throw error;
    }
  };

  const artifactRoot = async (runId: string) => {
    let root = artifactRoots.get(runId);
    if (root === undefined) {
      root = artifactProxyRoot((await client.getRun(runId)).info.artifactUri);
      artifactRoots.set(runId, root);
    }
    return root;
  };

  const client = {
    baseUrl: http.baseUrl,

    // ---------------------------------------------------------------------------- experiments
    async getExperiment(experimentId: string): Promise<Experiment> {
      const result = await http.json<{ experiment: WireExperiment }>({
        method: "GET",
        path: `${API}/experiments/get`,
        query: { experiment_id: experimentId },
      });
      return experimentFromWire(result.experiment);
    },

    /** The experiment, or undefined when none has that name. */
    async getExperimentByName(name: string): Promise<Experiment | undefined> {
      return notFoundAsUndefined(async () => {
        const result = await http.json<{ experiment: WireExperiment }>({
          method: "GET",
          path: `${API}/experiments/get-by-name`,
          query: { experiment_name: name },
        });
        return experimentFromWire(result.experiment);
      });
    },

    /** Creates the experiment and returns its id; fails with RESOURCE_ALREADY_EXISTS if the name is taken. */
    async createExperiment(
      name: string,
      settings: { artifactLocation?: string; tags?: Record<string, string> } = {},
    ): Promise<string> {
      const result = await http.json<{ experiment_id: string }>({
        method: "POST",
        path: `${API}/experiments/create`,
        json: { name, artifact_location: settings.artifactLocation, tags: tagList(settings.tags) },
      });
      return result.experiment_id;
    },

    /** Idempotent: the experiment with that name, created when missing (a concurrent creator is fine). */
    async getOrCreateExperiment(
      name: string,
      settings: { artifactLocation?: string; tags?: Record<string, string> } = {},
    ): Promise<Experiment> {
      const existing = await client.getExperimentByName(name);
      if (existing !== undefined) return existing;
      try {
        return await client.getExperiment(await client.createExperiment(name, settings));
      } catch (error) {
        if (!isMlflowError(error, RESOURCE_ALREADY_EXISTS)) throw error;
        const raced = await client.getExperimentByName(name);
        if (raced === undefined) throw error;
        return raced;
      }
    },

    async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
      await http.json({
        method: "POST",
        path: `${API}/experiments/set-experiment-tag`,
        json: { experiment_id: experimentId, key, value },
      });
    },

    async deleteExperiment(experimentId: string): Promise<void> {
      await http.json({
        method: "POST",
        path: `${API}/experiments/delete`,
        json: { experiment_id: experimentId },
      });
    },

    // ---------------------------------------------------------------------------- runs
    async createRun(settings: CreateRunOptions): Promise<Run> {
      const result = await http.json<{ run: WireRun }>({
        method: "POST",
        path: `${API}/runs/create`,
        json: {
          experiment_id: settings.experimentId,
          run_name: settings.runName,
          start_time: settings.startTime ?? clock(),
          tags: tagList(settings.tags),
        },
      });
      return runFromWire(result.run);
    },

    async getRun(runId: string): Promise<Run> {
      const result = await http.json<{ run: WireRun }>({
        method: "GET",
        path: `${API}/runs/get`,
        query: { run_id: runId },
      });
      return runFromWire(result.run);
    },

    async updateRun(
      runId: string,
      update: { status?: RunStatus; endTime?: number; runName?: string },
    ): Promise<RunInfo> {
      const result = await http.json<{ run_info: WireRunInfo }>({
        method: "POST",
        path: `${API}/runs/update`,
        json: { run_id: runId, status: update.status, end_time: update.endTime, run_name: update.runName },
      });
      return runInfoFromWire(result.run_info);
    },

    /** Sets the final status (default FINISHED) and end time (default now). */
    async endRun(
      runId: string,
      status: Exclude<RunStatus, "RUNNING" | "SCHEDULED"> = "FINISHED",
    ): Promise<RunInfo> {
      return client.updateRun(runId, { status, endTime: clock() });
    },

    async deleteRun(runId: string): Promise<void> {
      await http.json({ method: "POST", path: `${API}/runs/delete`, json: { run_id: runId } });
    },

    /**
     * Logs params, tags and metrics, split into as many log-batch requests as MLflow's limits
     * need (1000 metrics / 100 params / 100 tags / 1000 entities each). Returns the request count.
     */
    async logBatch(runId: string, input: LogBatchInput, batchOptions: LogBatchOptions = {}): Promise<number> {
      const batches = splitLogBatch(input, clock(), batchOptions);
      for (const batch of batches) {
        await http.json({ method: "POST", path: `${API}/runs/log-batch`, json: { run_id: runId, ...batch } });
      }
      return batches.length;
    },

    async logMetric(runId: string, key: string, value: number, step = 0, timestamp?: number): Promise<void> {
      await http.json({
        method: "POST",
        path: `${API}/runs/log-metric`,
        json: { run_id: runId, key, value: metricValueToWire(value), step, timestamp: timestamp ?? clock() },
      });
    },

    async logParam(runId: string, key: string, value: string | number | boolean): Promise<void> {
      await client.logBatch(runId, { params: { [key]: value } });
    },

    async setTag(runId: string, key: string, value: string): Promise<void> {
      await http.json({ method: "POST", path: `${API}/runs/set-tag`, json: { run_id: runId, key, value } });
    },

    async deleteTag(runId: string, key: string): Promise<void> {
      await http.json({ method: "POST", path: `${API}/runs/delete-tag`, json: { run_id: runId, key } });
    },

    async getMetricHistory(runId: string, metricKey: string): Promise<Metric[]> {
      const metrics: Metric[] = [];
      let pageToken: string | undefined;
      for (let page = 0; page < 10_000; page++) {
        const result = await http.json<{ metrics?: WireMetric[]; next_page_token?: string }>({
          method: "GET",
          path: `${API}/metrics/get-history`,
          query: { run_id: runId, metric_key: metricKey, max_results: 25_000, page_token: pageToken },
        });
        metrics.push(...(result.metrics ?? []).map(metricFromWire));
        pageToken = result.next_page_token;
        if (pageToken === undefined || pageToken === "") break;
      }
      return metrics;
    },

    async searchRuns(query: SearchRunsOptions): Promise<Page<Run>> {
      const result = await http.json<{ runs?: WireRun[]; next_page_token?: string }>({
        method: "POST",
        path: `${API}/runs/search`,
        json: {
          experiment_ids: query.experimentIds,
          filter: query.filter,
          order_by: query.orderBy,
          max_results: query.maxResults ?? 1000,
          page_token: query.pageToken,
          run_view_type: query.runViewType ?? "ACTIVE_ONLY",
        },
      });
      const page: Page<Run> = { items: (result.runs ?? []).map(runFromWire) };
      if (result.next_page_token !== undefined && result.next_page_token !== "")
        page.nextPageToken = result.next_page_token;
      return page;
    },

    /** Every matching run across pages, up to `limit` (default 100000). */
    async searchAllRuns(query: Omit<SearchRunsOptions, "pageToken">, limit = 100_000): Promise<Run[]> {
      const runs: Run[] = [];
      let pageToken: string | undefined;
      do {
        const page = await client.searchRuns({ ...query, ...(pageToken === undefined ? {} : { pageToken }) });
        runs.push(...page.items);
        pageToken = page.nextPageToken;
      } while (pageToken !== undefined && runs.length < limit);
      return runs.slice(0, limit);
    },

    // ---------------------------------------------------------------------------- artifacts
    /** Uploads one file to `<run artifact root>/<path>` through the server's artifact proxy. */
    async uploadArtifact(
      runId: string,
      path: string,
      content: Uint8Array | string,
      contentType?: string,
    ): Promise<void> {
      const root = await artifactRoot(runId);
      await http.json({
        method: "PUT",
        path: `${ARTIFACTS}/${root}/${encodePath(path)}`,
        body: content,
        contentType:
          contentType ??
          (typeof content === "string" ? "text/plain; charset=utf-8" : "application/octet-stream"),
      });
    },

    /** The files and directories directly under `path` (default the root), with run-relative paths. */
    async listArtifacts(runId: string, path = ""): Promise<ArtifactFile[]> {
      const root = await artifactRoot(runId);
      const directory = path
        .split("/")
        .filter((segment) => segment !== "")
        .join("/");
      const result = await http.json<{
        files?: { path: string; is_dir?: boolean; file_size?: string | number }[];
      }>({
        method: "GET",
        path: ARTIFACTS,
        query: { path: directory === "" ? root : `${root}/${directory}` },
      });
      return (result.files ?? []).map((file) => {
        const listed: ArtifactFile = {
          path: directory === "" ? file.path : `${directory}/${file.path}`,
          isDir: file.is_dir === true,
        };
        if (file.file_size !== undefined) listed.fileSize = Number(file.file_size);
        return listed;
      });
    },

    async downloadArtifact(runId: string, path: string): Promise<Uint8Array> {
      const root = await artifactRoot(runId);
      return http.bytes({ method: "GET", path: `${ARTIFACTS}/${root}/${encodePath(path)}` });
    },

    // ---------------------------------------------------------------------------- registry
    async createRegisteredModel(
      name: string,
      settings: { description?: string; tags?: Record<string, string> } = {},
    ): Promise<RegisteredModel> {
      const result = await http.json<{ registered_model: WireRegisteredModel }>({
        method: "POST",
        path: `${API}/registered-models/create`,
        json: { name, description: settings.description, tags: tagList(settings.tags) },
      });
      return registeredModelFromWire(result.registered_model);
    },

    async getRegisteredModel(name: string): Promise<RegisteredModel> {
      const result = await http.json<{ registered_model: WireRegisteredModel }>({
        method: "GET",
        path: `${API}/registered-models/get`,
        query: { name },
      });
      return registeredModelFromWire(result.registered_model);
    },

    /** Idempotent: the registered model, created when missing. */
    async getOrCreateRegisteredModel(
      name: string,
      settings: { description?: string; tags?: Record<string, string> } = {},
    ): Promise<RegisteredModel> {
      const existing = await notFoundAsUndefined(() => client.getRegisteredModel(name));
      if (existing !== undefined) return existing;
      try {
        return await client.createRegisteredModel(name, settings);
      } catch (error) {
        if (!isMlflowError(error, RESOURCE_ALREADY_EXISTS)) throw error;
        return client.getRegisteredModel(name);
      }
    },

    async updateRegisteredModel(name: string, description: string): Promise<RegisteredModel> {
      const result = await http.json<{ registered_model: WireRegisteredModel }>({
        method: "PATCH",
        path: `${API}/registered-models/update`,
        json: { name, description },
      });
      return registeredModelFromWire(result.registered_model);
    },

    async deleteRegisteredModel(name: string): Promise<void> {
      await http.json({ method: "DELETE", path: `${API}/registered-models/delete`, json: { name } });
    },

    async searchRegisteredModels(query: SearchRegistryOptions = {}): Promise<Page<RegisteredModel>> {
      const result = await http.json<{ registered_models?: WireRegisteredModel[]; next_page_token?: string }>(
        {
          method: "GET",
          path: `${API}/registered-models/search`,
          query: {
            filter: query.filter,
            max_results: query.maxResults ?? 100,
            order_by: query.orderBy,
            page_token: query.pageToken,
          },
        },
      );
      const page: Page<RegisteredModel> = {
        items: (result.registered_models ?? []).map(registeredModelFromWire),
      };
      if (result.next_page_token !== undefined && result.next_page_token !== "")
        page.nextPageToken = result.next_page_token;
      return page;
    },

    async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
      await http.json({
        method: "POST",
        path: `${API}/registered-models/set-tag`,
        json: { name, key, value },
      });
    },

    async deleteRegisteredModelTag(name: string, key: string): Promise<void> {
      await http.json({ method: "DELETE", path: `${API}/registered-models/delete-tag`, json: { name, key } });
    },

    async createModelVersion(settings: CreateModelVersionOptions): Promise<ModelVersion> {
      const result = await http.json<{ model_version: WireModelVersion }>({
        method: "POST",
        path: `${API}/model-versions/create`,
        json: {
          name: settings.name,
          source: settings.source,
          run_id: settings.runId,
          description: settings.description,
          tags: tagList(settings.tags),
        },
      });
      return modelVersionFromWire(result.model_version);
    },

    async getModelVersion(name: string, version: string): Promise<ModelVersion> {
      const result = await http.json<{ model_version: WireModelVersion }>({
        method: "GET",
        path: `${API}/model-versions/get`,
        query: { name, version },
      });
      return modelVersionFromWire(result.model_version);
    },

    async updateModelVersion(name: string, version: string, description: string): Promise<ModelVersion> {
      const result = await http.json<{ model_version: WireModelVersion }>({
        method: "PATCH",
        path: `${API}/model-versions/update`,
        json: { name, version, description },
      });
      return modelVersionFromWire(result.model_version);
    },

    async deleteModelVersion(name: string, version: string): Promise<void> {
      await http.json({ method: "DELETE", path: `${API}/model-versions/delete`, json: { name, version } });
    },

    async searchModelVersions(query: SearchRegistryOptions = {}): Promise<Page<ModelVersion>> {
      const result = await http.json<{ model_versions?: WireModelVersion[]; next_page_token?: string }>({
        method: "GET",
        path: `${API}/model-versions/search`,
        query: {
          filter: query.filter,
          max_results: query.maxResults ?? 1000,
          order_by: query.orderBy,
          page_token: query.pageToken,
        },
      });
      const page: Page<ModelVersion> = { items: (result.model_versions ?? []).map(modelVersionFromWire) };
      if (result.next_page_token !== undefined && result.next_page_token !== "")
        page.nextPageToken = result.next_page_token;
      return page;
    },

    /** The legacy stage workflow (None/Staging/Production/Archived), kept next to aliases for the audit trail. */
    async transitionModelVersionStage(
      name: string,
      version: string,
      stage: ModelStage,
      archiveExistingVersions = false,
    ): Promise<ModelVersion> {
      const result = await http.json<{ model_version: WireModelVersion }>({
        method: "POST",
        path: `${API}/model-versions/transition-stage`,
        json: { name, version, stage, archive_existing_versions: archiveExistingVersions },
      });
      return modelVersionFromWire(result.model_version);
    },

    /** The newest version in each stage (legacy API); `stages` narrows it. */
    async getLatestVersions(name: string, stages?: readonly ModelStage[]): Promise<ModelVersion[]> {
      const result = await http.json<{ model_versions?: WireModelVersion[] }>({
        method: "POST",
        path: `${API}/registered-models/get-latest-versions`,
        json: { name, stages },
      });
      return (result.model_versions ?? []).map(modelVersionFromWire);
    },

    async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
      await http.json({
        method: "POST",
        path: `${API}/model-versions/set-tag`,
        json: { name, version, key, value },
      });
    },

    async deleteModelVersionTag(name: string, version: string, key: string): Promise<void> {
      await http.json({
        method: "DELETE",
        path: `${API}/model-versions/delete-tag`,
        json: { name, version, key },
      });
    },

    /** Points `alias` ("champion", "challenger", ...) at `version`, moving it from any other version. */
    async setRegisteredModelAlias(name: string, alias: string, version: string): Promise<void> {
      await http.json({
        method: "POST",
        path: `${API}/registered-models/alias`,
        json: { name, alias, version },
      });
    },

    async deleteRegisteredModelAlias(name: string, alias: string): Promise<void> {
      await http.json({ method: "DELETE", path: `${API}/registered-models/alias`, json: { name, alias } });
    },

    /** The version the alias points to, or undefined when the alias is not set on that model. */
    async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
      // MLflow answers an unknown alias with 400 INVALID_PARAMETER_VALUE, like any bad input, so
      // the model's alias map decides (never the error text).
      const version = (await client.getRegisteredModel(name)).aliases[alias];
      if (version === undefined) return undefined;
      const result = await http.json<{ model_version: WireModelVersion }>({
        method: "GET",
        path: `${API}/registered-models/alias`,
        query: { name, alias },
      });
      return modelVersionFromWire(result.model_version);
    },
  };
  return client;
}

export type MlflowClient = ReturnType<typeof createMlflowClient>;
