// MLflow's REST entities in camelCase, with the mappers from its snake_case JSON.

export type RunStatus = "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED";
export type ViewType = "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL";
export type ModelStage = "None" | "Staging" | "Production" | "Archived";

export interface Experiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: string;
  creationTime?: number;
  lastUpdateTime?: number;
  tags: Record<string, string>;
}

export interface RunInfo {
  runId: string;
  runName?: string;
  experimentId: string;
  userId?: string;
  status: RunStatus;
  startTime?: number;
  endTime?: number;
  artifactUri: string;
  lifecycleStage: string;
}

export interface Metric {
  key: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
}

export interface Run {
  info: RunInfo;
  data: {
    /** Latest value of each metric. */
    metrics: Metric[];
    params: Record<string, string>;
    tags: Record<string, string>;
  };
}

export interface RegisteredModel {
  name: string;
  creationTimestamp?: number;
  lastUpdatedTimestamp?: number;
  description?: string;
  tags: Record<string, string>;
  /** alias → version. */
  aliases: Record<string, string>;
  latestVersions: ModelVersion[];
}

export interface ModelVersion {
  name: string;
  version: string;
  creationTimestamp?: number;
  lastUpdatedTimestamp?: number;
  currentStage: ModelStage;
  description?: string;
  source: string;
  runId?: string;
  /** "PENDING_REGISTRATION" | "FAILED_REGISTRATION" | "READY". */
  status: string;
  tags: Record<string, string>;
  aliases: string[];
}

export interface ArtifactFile {
  /** Relative to the listed directory's root (the run's artifact root). */
  path: string;
  isDir: boolean;
  fileSize?: number;
}

// ---------------------------------------------------------------------------------------------
// Wire shapes (snake_case, int64 values as strings or numbers) and mappers.

type KeyValue = { key: string; value: string };

export interface WireExperiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage?: string;
  creation_time?: string | number;
  last_update_time?: string | number;
  tags?: KeyValue[];
}

export interface WireRunInfo {
  run_id: string;
  run_name?: string;
  experiment_id: string;
  user_id?: string;
  status?: RunStatus;
  start_time?: string | number;
  end_time?: string | number;
  artifact_uri?: string;
  lifecycle_stage?: string;
}

export interface WireMetric {
  key: string;
  value: number | string;
  timestamp?: string | number;
  step?: string | number;
}

export interface WireRun {
  info: WireRunInfo;
  data?: { metrics?: WireMetric[]; params?: KeyValue[]; tags?: KeyValue[] };
}

export interface WireModelVersion {
  name: string;
  version: string;
  creation_timestamp?: string | number;
  last_updated_timestamp?: string | number;
  current_stage?: ModelStage;
  description?: string;
  source?: string;
  run_id?: string;
  status?: string;
  tags?: KeyValue[];
  aliases?: string[];
}

export interface WireRegisteredModel {
  name: string;
  creation_timestamp?: string | number;
  last_updated_timestamp?: string | number;
  description?: string;
  tags?: KeyValue[];
  aliases?: { alias: string; version: string }[];
  latest_versions?: WireModelVersion[];
}

const optionalNumber = (value: string | number | undefined) =>
  value === undefined ? undefined : Number(value);

export const keyValues = (entries: KeyValue[] | undefined): Record<string, string> =>
  Object.fromEntries((entries ?? []).map(({ key, value }) => [key, value]));

/** Sets only the defined optional fields (exactOptionalPropertyTypes-friendly). */
function withOptional<T extends object>(target: T, optional: Partial<T>): T {
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined && value !== "") (target as Record<string, unknown>)[key] = value;
  }
  return target;
}

export function experimentFromWire(wire: WireExperiment): Experiment {
  return withOptional<Experiment>(
    {
      experimentId: wire.experiment_id,
      name: wire.name,
      artifactLocation: wire.artifact_location ?? "",
      lifecycleStage: wire.lifecycle_stage ?? "active",
      tags: keyValues(wire.tags),
    },
    {
      creationTime: optionalNumber(wire.creation_time),
      lastUpdateTime: optionalNumber(wire.last_update_time),
    },
  );
}

export function runInfoFromWire(wire: WireRunInfo): RunInfo {
  return withOptional<RunInfo>(
    {
      runId: wire.run_id,
      experimentId: wire.experiment_id,
      status: wire.status ?? "RUNNING",
      artifactUri: wire.artifact_uri ?? "",
      lifecycleStage: wire.lifecycle_stage ?? "active",
    },
    {
      runName: wire.run_name,
      userId: wire.user_id,
      startTime: optionalNumber(wire.start_time),
      endTime: optionalNumber(wire.end_time),
    },
  );
}

/** MLflow sends non-finite doubles as "NaN" / "Infinity" / "-Infinity" (proto3 JSON). */
export const metricValueFromWire = (value: number | string): number =>
  typeof value === "number" ? value : Number(value);

export function metricFromWire(wire: WireMetric): Metric {
  return {
    key: wire.key,
    value: metricValueFromWire(wire.value),
    timestamp: Number(wire.timestamp ?? 0),
    step: Number(wire.step ?? 0),
  };
}

export function runFromWire(wire: WireRun): Run {
  return {
    info: runInfoFromWire(wire.info),
    data: {
      metrics: (wire.data?.metrics ?? []).map(metricFromWire),
      params: keyValues(wire.data?.params),
      tags: keyValues(wire.data?.tags),
    },
  };
}

export function modelVersionFromWire(wire: WireModelVersion): ModelVersion {
  return withOptional<ModelVersion>(
    {
      name: wire.name,
      version: String(wire.version),
      currentStage: wire.current_stage ?? "None",
      source: wire.source ?? "",
      status: wire.status ?? "READY",
      tags: keyValues(wire.tags),
      aliases: wire.aliases ?? [],
    },
    {
      creationTimestamp: optionalNumber(wire.creation_timestamp),
      lastUpdatedTimestamp: optionalNumber(wire.last_updated_timestamp),
      description: wire.description,
      runId: wire.run_id,
    },
  );
}

export function registeredModelFromWire(wire: WireRegisteredModel): RegisteredModel {
  return withOptional<RegisteredModel>(
    {
      name: wire.name,
      tags: keyValues(wire.tags),
      aliases: Object.fromEntries((wire.aliases ?? []).map(({ alias, version }) => [alias, String(version)])),
      latestVersions: (wire.latest_versions ?? []).map(modelVersionFromWire),
    },
    {
      creationTimestamp: optionalNumber(wire.creation_timestamp),
      lastUpdatedTimestamp: optionalNumber(wire.last_updated_timestamp),
      description: wire.description,
    },
  );
}
