// One chart per long-running deployable in SERVICES: ConfigMap, Deployment, Service, probes on the
// health endpoints, resources from SERVICES, an HPA for the stateless ones, storage for the ones
// that keep state, and the gateway's Ingress (the only way in, see platform-chart.ts).
import { Chart } from "cdk8s";
import type { Construct } from "constructs";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { Service } from "kubernetes-models/v1/Service";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { IVolume } from "kubernetes-models/v1/Volume";
import type { IVolumeMount } from "kubernetes-models/v1/VolumeMount";
import {
  BACKTEST_EXECUTOR,
  BULLMQ_BACKTEST_QUEUE,
  RESULTS_MOUNT_PATH,
  serviceUrlEnvironment,
} from "../../infra/shared/config";
import type { Environment, ServiceName, Topology } from "../../infra/shared/config";
import {
  addObject,
  containerSecurity,
  labelsFor,
  podSecurity,
  probesFor,
  resourcesFor,
  selectorFor,
} from "./kubernetes";

/** User ids of the images: node (docker/*.Dockerfile) and mlflow (docker/mlflow.Dockerfile). */
export const NODE_USER = 1000;
export const MLFLOW_USER = 10001;

export interface ServiceChartProps {
  topology: Topology;
  service: ServiceName;
  environment: Environment;
  namespace: string;
  /** Full image reference, e.g. `123.dkr.ecr.../tradai/backend:1.2.3`. */
  image: string;
}

interface Storage {
  claim: string;
  mountPath: string;
  size: string;
  /** ReadWriteMany when pods of other Deployments mount it too (the backtest results). */
  accessMode: "ReadWriteOnce" | "ReadWriteMany";
  /** Variable that tells the service where its state lives (`null`: none, MLflow's is in its args). */
  variable: string | null;
}

/** Services that keep state on a volume (the rest are stateless). */
function storageFor(service: ServiceName): Storage | null {
  switch (service) {
    case "data-collection":
      return {
        claim: "data-collection-store",
        mountPath: "/data",
        size: "20Gi",
        accessMode: "ReadWriteOnce",
        variable: "DATA_COLLECTION_DATA_DIR",
      };
    case "strategy-service":
      return {
        claim: "strategy-registry",
        mountPath: "/var/lib/tradai/strategies",
        size: "1Gi",
        accessMode: "ReadWriteOnce",
        variable: "STRATEGY_SERVICE_REGISTRY_DIR",
      };
    case "mlflow":
      return {
        claim: "mlflow-artifacts",
        mountPath: "/var/lib/mlflow/artifacts",
        size: "20Gi",
        accessMode: "ReadWriteOnce",
        variable: null,
      };
    case "backtest":
      // Written by the worker pods (worker-chart.ts mounts the same claim), read by the service.
      return {
        claim: BACKTEST_RESULTS_CLAIM,
        mountPath: RESULTS_MOUNT_PATH,
        size: "10Gi",
        accessMode: "ReadWriteMany",
        variable: "BACKEND_RESULT_STORE",
      };
    default:
      return null;
  }
}

/** Claim of the result store the backtest service and the workers share (needs a ReadWriteMany class). */
export const BACKTEST_RESULTS_CLAIM = "backtest-results";

/** Settings beyond host, port and URLs, by service (names from the services' config schemas). */
function extraConfig(service: ServiceName): Record<string, string> {
  switch (service) {
    // The QUEUE executor: jobs go to the BullMQ queue that the worker Deployment consumes (KEDA scales
    // it on the queue's length, worker-chart.ts); job state in PostgreSQL, shared with the workers.
    case "backtest":
      return {
        BACKEND_EXECUTOR_MODE: BACKTEST_EXECUTOR.kubernetes.mode,
        BACKEND_REDIS_URL: "redis://redis:6379",
        BACKEND_QUEUE_NAME: BULLMQ_BACKTEST_QUEUE,
        BACKEND_STATE_STORE: "postgres",
        // A missing executor setting fails start-up instead of disabling backtests.
        BACKEND_DEV_MODE: "false",
      };
    default:
      return {};
  }
}

export class ServiceChart extends Chart {
  constructor(scope: Construct, id: string, props: ServiceChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { topology, namespace, environment } = props;
    const service = topology.services[props.service];
    const name = service.name;
    if (service.port === null) {
      throw new Error(`ServiceChart: expected a service with a port, got ${name} (use WorkerChart)`);
    }
    const labels = labelsFor(name, service.kind === "service" ? "service" : "task");
    const metadata = (objectName: string) => ({ name: objectName, namespace, labels });
    const storage = storageFor(name);
    const isMlflow = name === "mlflow";

    // Non-secret configuration: one ConfigMap per service, read with envFrom.
    const config: Record<string, string> = isMlflow
      ? {
          MLFLOW_PORT: String(service.port),
          MLFLOW_ARTIFACTS_DESTINATION: "/var/lib/mlflow/artifacts",
          MLFLOW_SERVER_ALLOWED_HOSTS: `mlflow,mlflow:*,mlflow.${namespace},mlflow.${namespace}:*,mlflow.${namespace}.svc*,localhost:*,127.0.0.1:*`,
        }
      : {
          TRADAI_ENVIRONMENT: environment,
          [`${service.envPrefix}HOST`]: "0.0.0.0",
          [`${service.envPrefix}PORT`]: String(service.port),
          ...serviceUrlEnvironment(name, (target) => target, topology.services),
          ...(storage?.variable ? { [storage.variable]: storage.mountPath } : {}),
          ...extraConfig(name),
        };
    addObject(this, "config", new ConfigMap({ metadata: metadata(`${name}-config`), data: config }));

    const secretEnv: IEnvVar[] = service.secretEnv.map((variable) => ({
      name: variable,
      valueFrom: { secretKeyRef: { name: `tradai-${name}`, key: variable } },
    }));

    const volumes: IVolume[] = [{ name: "tmp", emptyDir: {} }];
    const volumeMounts: IVolumeMount[] = [{ name: "tmp", mountPath: "/tmp" }];
    if (isMlflow) {
      volumes.push({ name: "home", emptyDir: {} });
      volumeMounts.push({ name: "home", mountPath: "/var/lib/mlflow" });
    }
    if (storage !== null) {
      volumes.push({ name: "state", persistentVolumeClaim: { claimName: storage.claim } });
      volumeMounts.push({ name: "state", mountPath: storage.mountPath });
      addObject(
        this,
        "storage",
        new PersistentVolumeClaim({
          metadata: metadata(storage.claim),
          spec: { accessModes: [storage.accessMode], resources: { requests: { storage: storage.size } } },
        }),
      );
    }

    const container: IContainer = {
      name,
      image: props.image,
      imagePullPolicy: "IfNotPresent",
      ...(service.args.length > 0 ? { args: [...service.args] } : {}),
      ports: [{ name: "http", containerPort: service.port, protocol: "TCP" }],
      envFrom: [{ configMapRef: { name: `${name}-config` } }],
      ...(secretEnv.length > 0 ? { env: secretEnv } : {}),
      resources: resourcesFor(service.cpu, service.memory),
      securityContext: containerSecurity(),
      volumeMounts,
      ...probesFor(service),
    };

    const replicas = Math.max(service.desiredCount[environment], service.autoscaling?.minReplicas ?? 0);
    addObject(
      this,
      "deployment",
      new Deployment({
        metadata: metadata(name),
        spec: {
          // Stateful services (one writer, one bot per strategy) are replaced, never doubled.
          ...(service.autoscaling === null
            ? { replicas: service.desiredCount[environment], strategy: { type: "Recreate" } }
            : { replicas }),
          selector: { matchLabels: selectorFor(name) },
          template: {
            metadata: { labels },
            spec: {
              // No service needs the Kubernetes API (the backtest executor on Kubernetes is QUEUE).
              automountServiceAccountToken: false,
              securityContext: podSecurity(isMlflow ? MLFLOW_USER : NODE_USER),
              // Services drain in-flight calls within 10 s of SIGTERM (ARCHITECTURE.md §2).
              terminationGracePeriodSeconds: 30,
              containers: [container],
              volumes,
            },
          },
        },
      }),
    );

    addObject(
      this,
      "service",
      new Service({
        metadata: metadata(name),
        spec: {
          type: "ClusterIP",
          selector: selectorFor(name),
          ports: [
            { name: "http", port: service.port, targetPort: "http", protocol: "TCP", appProtocol: "http" },
          ],
        },
      }),
    );

    if (service.autoscaling !== null) {
      const { minReplicas, maxReplicas, targetCpuPercent } = service.autoscaling;
      addObject(
        this,
        "autoscaler",
        new HorizontalPodAutoscaler({
          metadata: metadata(name),
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
            minReplicas: replicas,
            maxReplicas: Math.max(maxReplicas, minReplicas),
            metrics: [
              {
                type: "Resource",
                resource: {
                  name: "cpu",
                  target: { type: "Utilization", averageUtilization: targetCpuPercent },
                },
              },
            ],
          },
        }),
      );
    }

    if (name === "backend-api") {
      addObject(
        this,
        "ingress",
        new Ingress({
          metadata: metadata(name),
          spec: {
            rules: [
              {
                http: {
                  paths: [
                    {
                      path: "/",
                      pathType: "Prefix",
                      backend: { service: { name, port: { name: "http" } } },
                    },
                  ],
                },
              },
            ],
          },
        }),
      );
    }
  }
}
