// Offline validation of manifests against the Kubernetes API schema, through the validators that
// the kubernetes-models packages generate from the upstream OpenAPI document (KEDA's from its CRDs).
import * as keda from "@kubernetes-models/keda/keda.sh/v1alpha1";
import * as apps from "kubernetes-models/apps/v1";
import * as autoscaling from "kubernetes-models/autoscaling/v2";
import * as batch from "kubernetes-models/batch/v1";
import * as networking from "kubernetes-models/networking.k8s.io/v1";
import * as policy from "kubernetes-models/policy/v1";
import * as rbac from "kubernetes-models/rbac.authorization.k8s.io/v1";
import * as core from "kubernetes-models/v1";
import { parseAllDocuments } from "yaml";

type ModelClass = new (data: never) => { validate(): void };

const groups: Record<string, Record<string, unknown>> = {
  v1: core,
  "apps/v1": apps,
  "autoscaling/v2": autoscaling,
  "batch/v1": batch,
  "networking.k8s.io/v1": networking,
  "policy/v1": policy,
  "rbac.authorization.k8s.io/v1": rbac,
  "keda.sh/v1alpha1": keda,
};

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

/** Throws naming the object and the schema violation; unknown kinds fail too. */
export function validateManifest(manifest: Manifest): void {
  const where = `${manifest.apiVersion}/${manifest.kind} ${manifest.metadata?.name ?? "(unnamed)"}`;
  const model = groups[manifest.apiVersion]?.[manifest.kind] as ModelClass | undefined;
  if (model === undefined) throw new Error(`${where}: expected a kind with a known schema, got none`);
  try {
    new model(manifest as never).validate();
  } catch (error) {
    throw new Error(`${where}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text).map((document) => {
    if (document.errors.length > 0) throw new Error(`YAML: ${document.errors[0]?.message ?? "invalid"}`);
    return document.toJSON() as Manifest;
  });
}
