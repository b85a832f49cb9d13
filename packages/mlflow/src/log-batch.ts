// MLflow's log-batch limits (docs: REST API, "Log Batch"): per request at most 1000 metrics,
// 100 params, 100 tags and 1000 entities in total; param values at most 6000 characters, tag
// values at most 8000 (MLflow ≥ 2.x server limits). Larger batches are split into requests that
// each respect every limit, params and tags first so a run's inputs land before its metrics.

export const MAX_METRICS_PER_BATCH = 1000;
export const MAX_PARAMS_PER_BATCH = 100;
export const MAX_TAGS_PER_BATCH = 100;
export const MAX_ENTITIES_PER_BATCH = 1000;
export const MAX_PARAM_VALUE_LENGTH = 6000;
export const MAX_TAG_VALUE_LENGTH = 8000;
export const MAX_KEY_LENGTH = 250;

export interface MetricInput {
  key: string;
  value: number;
  /** Milliseconds since the epoch. Default: now. */
  timestamp?: number;
  /** Default 0. */
  step?: number;
}

export interface LogBatchInput {
  metrics?: readonly MetricInput[];
  /** Params are immutable in MLflow: logging one again with another value is an error. */
  params?: Record<string, string | number | boolean>;
  tags?: Record<string, string>;
}

export interface LogBatchOptions {
  /** Cut param (6000) and tag (8000) values that are too long instead of failing. Default false. */
  truncateLongValues?: boolean;
}

export interface WireBatch {
  metrics: { key: string; value: number | string; timestamp: number; step: number }[];
  params: { key: string; value: string }[];
  tags: { key: string; value: string }[];
}

/** proto3 JSON has no NaN/Infinity literals: MLflow takes them as strings. */
export const metricValueToWire = (value: number): number | string =>
  Number.isFinite(value) ? value : String(value);

function checkedValue(
  kind: "param" | "tag",
  key: string,
  value: string,
  limit: number,
  truncate: boolean,
): string {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new Error(
      `${kind} key: expected 1..${MAX_KEY_LENGTH} characters, got ${key.length} ("${key.slice(0, 40)}")`,
    );
  }
  if (value.length <= limit) return value;
  if (truncate) return value.slice(0, limit);
  throw new Error(`${kind} ${key}: expected a value of at most ${limit} characters, got ${value.length}`);
}

/** Splits a batch into requests within MLflow's limits. An empty input gives no request. */
export function splitLogBatch(input: LogBatchInput, now: number, options: LogBatchOptions = {}): WireBatch[] {
  const truncate = options.truncateLongValues ?? false;
  const params = Object.entries(input.params ?? {}).map(([key, value]) => ({
    key,
    value: checkedValue("param", key, String(value), MAX_PARAM_VALUE_LENGTH, truncate),
  }));
  const tags = Object.entries(input.tags ?? {}).map(([key, value]) => ({
    key,
    value: checkedValue("tag", key, value, MAX_TAG_VALUE_LENGTH, truncate),
  }));
  const metrics = (input.metrics ?? []).map((metric) => {
    if (typeof metric.value !== "number") {
      throw new Error(`metric ${metric.key}: expected a number, got ${typeof metric.value}`);
    }
    return {
      key: metric.key,
      value: metricValueToWire(metric.value),
      timestamp: metric.timestamp ?? now,
      step: metric.step ?? 0,
    };
  });
  const batches: WireBatch[] = [];
  let p = 0;
  let t = 0;
  let m = 0;
  while (p < params.length || t < tags.length || m < metrics.length) {
    const batchParams = params.slice(p, p + MAX_PARAMS_PER_BATCH);
    const batchTags = tags.slice(t, t + MAX_TAGS_PER_BATCH);
    const room = Math.min(
      MAX_METRICS_PER_BATCH,
      MAX_ENTITIES_PER_BATCH - batchParams.length - batchTags.length,
    );
    const batchMetrics = metrics.slice(m, m + room);
    p += batchParams.length;
    t += batchTags.length;
    m += batchMetrics.length;
    batches.push({ metrics: batchMetrics, params: batchParams, tags: batchTags });
  }
  return batches;
}
