// charts/dist is the committed output of the cdk8s app: re-synthesizing must reproduce it exactly,
// and every object in it must validate against the Kubernetes (and KEDA) schema offline.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createTradaiApp, renderManifests } from "../src/tradai-app";
import { DIST_DIRECTORY } from "../src/synth";
import { parseManifests, validateManifest } from "./kubernetes-schema";
import type { Manifest } from "./kubernetes-schema";

const committed = Object.fromEntries(
  readdirSync(DIST_DIRECTORY)
    .filter((file) => file.endsWith(".k8s.yaml"))
    .map((file) => [file, readFileSync(path.join(DIST_DIRECTORY, file), "utf8")]),
);

describe("charts/dist", () => {
  it("matches a fresh synth (run `npx tsx charts/src/synth.ts` after changing charts or config)", () => {
    const fresh = renderManifests(createTradaiApp());
    expect(Object.keys(committed).sort()).toEqual(Object.keys(fresh).sort());
    for (const [file, text] of Object.entries(fresh)) expect(committed[file], file).toBe(text);
  });

  const manifests: Manifest[] = Object.values(committed).flatMap(parseManifests);

  it("validates every object against the Kubernetes schema", () => {
    expect(manifests.length).toBeGreaterThan(40);
    for (const manifest of manifests) validateManifest(manifest);
  });

  it("validates the backtest Job template stored in its ConfigMap", () => {
    const template = manifests.find(
      (manifest) => manifest.kind === "ConfigMap" && manifest.metadata.name === "backtest-job-template",
    );
    const jobYaml = (template?.data as Record<string, string> | undefined)?.["job.yaml"] ?? "";
    const [job] = parseManifests(jobYaml);
    expect(job?.kind).toBe("Job");
    validateManifest(job as Manifest);
  });

  it("rejects invalid objects (the validator is not a no-op)", () => {
    const deployment = manifests.find((manifest) => manifest.kind === "Deployment");
    const broken = structuredClone(deployment) as Manifest & { spec: { replicas: unknown } };
    broken.spec.replicas = "two";
    expect(() => validateManifest(broken)).toThrow(/replicas must be integer/);
    const noSelector = structuredClone(deployment) as Manifest & { spec: { selector?: unknown } };
    delete noSelector.spec.selector;
    expect(() => validateManifest(noSelector)).toThrow(/selector/);
    expect(() => validateManifest({ apiVersion: "example.com/v1", kind: "Widget", metadata: {} })).toThrow(
      "expected a kind with a known schema",
    );
  });
});
