// Small helpers shared by the charts: typed objects (kubernetes-models) become cdk8s ApiObjects,
// validated against the Kubernetes schema as they are added.
import { ApiObject } from "cdk8s";
import type { ApiObjectProps } from "cdk8s";
import type { Construct } from "constructs";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IProbe } from "kubernetes-models/v1/Probe";
import type { IResourceRequirements } from "kubernetes-models/v1/ResourceRequirements";
import type { ISecurityContext } from "kubernetes-models/v1/SecurityContext";
import type { IPodSecurityContext } from "kubernetes-models/v1/PodSecurityContext";
import type { ServiceConfig } from "../../infra/shared/config";

/** Any kubernetes-models object: typed data plus a schema validator. */
export interface KubernetesModel {
  toJSON(): unknown;
  validate(): void;
}

/** Validates the model against its schema and adds it to the chart under `id`. */
export function addObject(scope: Construct, id: string, model: KubernetesModel): ApiObject {
  model.validate();
  return new ApiObject(scope, id, model.toJSON() as ApiObjectProps);
}

export const PART_OF = "tradai";

export function labelsFor(name: string, component: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": PART_OF,
    "app.kubernetes.io/managed-by": "cdk8s",
  };
}

/** The labels a selector uses (stable across releases, unlike the full label set). */
export function selectorFor(name: string): Record<string, string> {
  return { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF };
}

/** ECS CPU units (1024 per vCPU) as Kubernetes millicores. */
export function millicores(cpuUnits: number): string {
  return `${Math.round((cpuUnits * 1000) / 1024)}m`;
}

/** Requests from SERVICES; memory limit = request (no overcommit), CPU may burst to twice the request. */
export function resourcesFor(cpu: number, memory: number): IResourceRequirements {
  return {
    requests: { cpu: millicores(cpu), memory: `${memory}Mi` },
    limits: { cpu: millicores(cpu * 2), memory: `${memory}Mi` },
  };
}

/** Non-root, no privilege escalation, read-only root file system (writable /tmp volume). */
export function containerSecurity(): ISecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
  };
}

export function podSecurity(user: number): IPodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: user,
    runAsGroup: user,
    fsGroup: user,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

const PROBE_PERIOD_SECONDS = 10;

/**
 * Probes on the service's health endpoints: a startup probe that allows the configured start
 * period, readiness on HTTP GET /api/v1/health, liveness on grpc.health.v1.Health where the
 * service serves it (HTTP otherwise).
 */
export function probesFor(
  service: ServiceConfig,
): Pick<IContainer, "startupProbe" | "readinessProbe" | "livenessProbe"> {
  if (service.port === null || service.healthPath === null) return {};
  const http: IProbe = { httpGet: { path: service.healthPath, port: "http" } };
  const live: IProbe = service.grpcHealth ? { grpc: { port: service.port } } : http;
  return {
    startupProbe: {
      ...http,
      periodSeconds: 5,
      failureThreshold: Math.max(3, Math.ceil(service.startPeriod / 5)),
      timeoutSeconds: 5,
    },
    readinessProbe: { ...http, periodSeconds: PROBE_PERIOD_SECONDS, timeoutSeconds: 5, failureThreshold: 3 },
    livenessProbe: { ...live, periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 3 },
  };
}
