// splitLogBatch against MLflow's documented log-batch limits (REST API reference, "Log Batch":
// at most 1000 metrics, 100 params, 100 tags and 1000 entities per request).
import { describe, expect, it } from "vitest";
import { splitLogBatch } from "./log-batch";

const NOW = 1_700_000_000_000;
const metrics = (count: number) =>
  Array.from({ length: count }, (_, step) => ({ key: "m", value: step, step }));
const record = (count: number, prefix: string) =>
  Object.fromEntries(Array.from({ length: count }, (_, index) => [`${prefix}${index}`, `v${index}`]));

describe("splitLogBatch", () => {
  it("sends nothing for an empty batch and one request for a small one", () => {
    expect(splitLogBatch({}, NOW)).toEqual([]);
    expect(
      splitLogBatch({ metrics: [{ key: "sharpe", value: 1.5 }], params: { rsi: 14, short: true } }, NOW),
    ).toEqual([
      {
        metrics: [{ key: "sharpe", value: 1.5, timestamp: NOW, step: 0 }],
        params: [
          { key: "rsi", value: "14" },
          { key: "short", value: "true" },
        ],
        tags: [],
      },
    ]);
  });

  it("keeps every request within 1000 metrics, 100 params, 100 tags and 1000 entities", () => {
    // 250 params, 130 tags, 2100 metrics. By hand: request 1 = 100 p + 100 t + 800 m,
    // request 2 = 100 p + 30 t + 870 m, request 3 = 50 p + 0 t + 430 m (2100 - 800 - 870).
    const batches = splitLogBatch(
      { metrics: metrics(2100), params: record(250, "p"), tags: record(130, "t") },
      NOW,
    );
    expect(batches.map((batch) => [batch.params.length, batch.tags.length, batch.metrics.length])).toEqual([
      [100, 100, 800],
      [100, 30, 870],
      [50, 0, 430],
    ]);
    // Nothing lost, nothing repeated, order kept.
    expect(batches.flatMap((batch) => batch.metrics.map((metric) => metric.step))).toEqual(
      Array.from({ length: 2100 }, (_, index) => index),
    );
    expect(new Set(batches.flatMap((batch) => batch.params.map((param) => param.key))).size).toBe(250);
  });

  it("fills metric-only requests up to 1000", () => {
    expect(splitLogBatch({ metrics: metrics(2001) }, NOW).map((batch) => batch.metrics.length)).toEqual([
      1000, 1000, 1,
    ]);
  });

  it("sends non-finite metric values the way proto3 JSON spells them", () => {
    const [batch] = splitLogBatch(
      {
        metrics: [
          { key: "a", value: Number.POSITIVE_INFINITY },
          { key: "b", value: Number.NEGATIVE_INFINITY },
          { key: "c", value: Number.NaN },
        ],
      },
      NOW,
    );
    expect(batch?.metrics.map((metric) => metric.value)).toEqual(["Infinity", "-Infinity", "NaN"]);
  });

  it("rejects or truncates param values over 6000 and tag values over 8000 characters", () => {
    expect(() => splitLogBatch({ params: { big: "x".repeat(6001) } }, NOW)).toThrow(
      "param big: expected a value of at most 6000 characters, got 6001",
    );
    expect(() => splitLogBatch({ tags: { note: "x".repeat(8001) } }, NOW)).toThrow(
      "tag note: expected a value of at most 8000 characters, got 8001",
    );
    const [batch] = splitLogBatch({ params: { big: "x".repeat(7000) } }, NOW, { truncateLongValues: true });
    expect(batch?.params[0]?.value).toHaveLength(6000);
    expect(splitLogBatch({ params: { ok: "x".repeat(6000) } }, NOW)[0]?.params[0]?.value).toHaveLength(6000);
  });
});
