// The namespace, the NetworkPolicies (only the gateway is reachable from outside the namespace)
// and the backing stores: PostgreSQL (application and MLflow databases) and Redis (BullMQ).
import { readFileSync } from "node:fs";
import path from "node:path";
import { Chart } from "cdk8s";
import type { Construct } from "constructs";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { INetworkPolicyPeer } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { Service } from "kubernetes-models/v1/Service";
import { SERVICE_NAMES } from "../../infra/shared/config";
import type { ServiceName, Topology } from "../../infra/shared/config";
import { PART_OF, addObject, containerSecurity, labelsFor, podSecurity, selectorFor } from "./kubernetes";

/** Public entry point of the platform (spec: backend-api, our gateway). */
export const PUBLIC_SERVICE: ServiceName = "backend-api";

const POSTGRES_USER = 70; // postgres:15-alpine
const REDIS_USER = 999; // redis:7-alpine
const REPO_ROOT = path.resolve(import.meta.dirname, "../..");

export interface PlatformChartProps {
  topology: Topology;
  namespace: string;
  /** Namespace of the KEDA operator, which reads the BullMQ queue length from Redis. Default "keda". */
  kedaNamespace?: string;
}

export class PlatformChart extends Chart {
  constructor(scope: Construct, id: string, props: PlatformChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { namespace, topology } = props;
    const meta = (name: string, component: string) => ({
      name,
      namespace,
      labels: labelsFor(name, component),
    });
    const fromPods = (...names: string[]): INetworkPolicyPeer[] =>
      names.map((name) => ({ podSelector: { matchLabels: selectorFor(name) } }));
    const fromTradai: INetworkPolicyPeer[] = [
      { podSelector: { matchLabels: { "app.kubernetes.io/part-of": PART_OF } } },
    ];

    addObject(
      this,
      "namespace",
      new Namespace({ metadata: { name: namespace, labels: { "app.kubernetes.io/part-of": PART_OF } } }),
    );

    // Default deny: a pod receives nothing unless a policy below allows it.
    addObject(
      this,
      "deny-all-ingress",
      new NetworkPolicy({
        metadata: meta("default-deny-ingress", "network"),
        spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [] },
      }),
    );

    for (const name of SERVICE_NAMES) {
      const service = topology.services[name];
      if (service.port === null) continue;
      const isPublic = name === PUBLIC_SERVICE;
      addObject(
        this,
        `ingress-${name}`,
        new NetworkPolicy({
          metadata: meta(`${name}-ingress`, "network"),
          spec: {
            podSelector: { matchLabels: selectorFor(name) },
            policyTypes: ["Ingress"],
            // The gateway is open to any peer (Ingress controller, clients); every other service
            // only to the platform's own pods.
            ingress: [
              {
                ...(isPublic ? {} : { from: fromTradai }),
                ports: [{ port: service.port, protocol: "TCP" }],
              },
            ],
          },
        }),
      );
    }

    // PostgreSQL: the job-state repository (backtest, worker) and MLflow's backend store.
    const initSql = readFileSync(path.join(REPO_ROOT, "docker/postgres-init.sql"), "utf8");
    addObject(
      this,
      "postgres-init",
      new ConfigMap({ metadata: meta("postgres-init", "database"), data: { "10-mlflow.sql": initSql } }),
    );
    addObject(
      this,
      "postgres-statefulset",
      new StatefulSet({
        metadata: meta("postgres", "database"),
        spec: {
          serviceName: "postgres",
          replicas: 1,
          selector: { matchLabels: selectorFor("postgres") },
          template: {
            metadata: { labels: labelsFor("postgres", "database") },
            spec: {
              automountServiceAccountToken: false,
              securityContext: podSecurity(POSTGRES_USER),
              containers: [
                {
                  name: "postgres",
                  image: "postgres:15-alpine",
                  ports: [{ name: "postgres", containerPort: 5432 }],
                  env: [
                    { name: "POSTGRES_USER", value: "tradai" },
                    { name: "POSTGRES_DB", value: "tradai" },
                    { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
                    {
                      name: "POSTGRES_PASSWORD",
                      valueFrom: { secretKeyRef: { name: "tradai-postgres", key: "password" } },
                    },
                  ],
                  resources: {
                    requests: { cpu: "250m", memory: "512Mi" },
                    limits: { cpu: "1", memory: "512Mi" },
                  },
                  securityContext: containerSecurity(),
                  readinessProbe: {
                    exec: { command: ["pg_isready", "-U", "tradai", "-d", "tradai"] },
                    periodSeconds: 10,
                  },
                  livenessProbe: {
                    exec: { command: ["pg_isready", "-U", "tradai", "-d", "tradai"] },
                    periodSeconds: 30,
                    initialDelaySeconds: 30,
                  },
                  volumeMounts: [
                    { name: "data", mountPath: "/var/lib/postgresql/data" },
                    { name: "init", mountPath: "/docker-entrypoint-initdb.d", readOnly: true },
                    { name: "run", mountPath: "/var/run/postgresql" },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                },
              ],
              volumes: [
                { name: "init", configMap: { name: "postgres-init" } },
                { name: "run", emptyDir: {} },
                { name: "tmp", emptyDir: {} },
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "data" },
              spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } },
            },
          ],
        },
      }),
    );
    addObject(
      this,
      "postgres-service",
      new Service({
        metadata: meta("postgres", "database"),
        spec: {
          type: "ClusterIP",
          selector: selectorFor("postgres"),
          ports: [{ name: "postgres", port: 5432, targetPort: "postgres" }],
        },
      }),
    );
    addObject(
      this,
      "postgres-ingress",
      new NetworkPolicy({
        metadata: meta("postgres-ingress", "network"),
        spec: {
          podSelector: { matchLabels: selectorFor("postgres") },
          policyTypes: ["Ingress"],
          ingress: [{ from: fromPods("backtest", "strategy-container", "mlflow"), ports: [{ port: 5432 }] }],
        },
      }),
    );

    // Redis for BullMQ: no eviction (BullMQ's requirement), append-only persistence.
    addObject(
      this,
      "redis-storage",
      new PersistentVolumeClaim({
        metadata: meta("redis-data", "queue"),
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      }),
    );
    addObject(
      this,
      "redis-deployment",
      new Deployment({
        metadata: meta("redis", "queue"),
        spec: {
          replicas: 1,
          strategy: { type: "Recreate" },
          selector: { matchLabels: selectorFor("redis") },
          template: {
            metadata: { labels: labelsFor("redis", "queue") },
            spec: {
              automountServiceAccountToken: false,
              securityContext: podSecurity(REDIS_USER),
              containers: [
                {
                  name: "redis",
                  image: "redis:7-alpine",
                  args: ["--appendonly", "yes", "--maxmemory-policy", "noeviction"],
                  ports: [{ name: "redis", containerPort: 6379 }],
                  resources: {
                    requests: { cpu: "100m", memory: "256Mi" },
                    limits: { cpu: "500m", memory: "256Mi" },
                  },
                  securityContext: containerSecurity(),
                  readinessProbe: { exec: { command: ["redis-cli", "ping"] }, periodSeconds: 10 },
                  livenessProbe: { exec: { command: ["redis-cli", "ping"] }, periodSeconds: 30 },
                  volumeMounts: [{ name: "data", mountPath: "/data" }],
                },
              ],
              volumes: [{ name: "data", persistentVolumeClaim: { claimName: "redis-data" } }],
            },
          },
        },
      }),
    );
    addObject(
      this,
      "redis-service",
      new Service({
        metadata: meta("redis", "queue"),
        spec: {
          type: "ClusterIP",
          selector: selectorFor("redis"),
          ports: [{ name: "redis", port: 6379, targetPort: "redis" }],
        },
      }),
    );
    addObject(
      this,
      "redis-ingress",
      new NetworkPolicy({
        metadata: meta("redis-ingress", "network"),
        spec: {
          podSelector: { matchLabels: selectorFor("redis") },
          policyTypes: ["Ingress"],
          ingress: [
            {
              from: [
                ...fromPods("backtest", "strategy-container"),
                // KEDA's operator polls the queue length from its own namespace.
                {
                  namespaceSelector: {
                    matchLabels: { "kubernetes.io/metadata.name": props.kedaNamespace ?? "keda" },
                  },
                },
              ],
              ports: [{ port: 6379 }],
            },
          ],
        },
      }),
    );
  }
}
