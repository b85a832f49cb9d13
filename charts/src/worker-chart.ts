// The worker (spec: strategy-container): a BullMQ consumer Deployment scaled from zero by KEDA on
// the backtest queue's length — the backtest service's QUEUE executor feeds it. Plus a Job template
// (ConfigMap `backtest-job-template`) for operators: one backtest outside the queue, e.g.
//   kubectl get cm backtest-job-template -o jsonpath='{.data.job\.yaml}' > job.yaml
//   # set WORKER_JOB to the job message (JSON), then: kubectl create -f job.yaml
// No executor creates Jobs: the backtest service has no Kubernetes API access.
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { Chart, Yaml } from "cdk8s";
import type { Construct } from "constructs";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Job } from "kubernetes-models/batch/v1/Job";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import {
  BULLMQ_BACKTEST_QUEUE,
  RESULTS_MOUNT_PATH,
  WORKER_COMMAND,
  WORKER_CONSUMER_ARGS,
  WORKER_JOB_VARIABLE,
  serviceUrlEnvironment,
} from "../../infra/shared/config";
import type { Environment, Topology } from "../../infra/shared/config";
import {
  addObject,
  containerSecurity,
  labelsFor,
  podSecurity,
  resourcesFor,
  selectorFor,
} from "./kubernetes";
import { BACKTEST_RESULTS_CLAIM, NODE_USER } from "./service-chart";

export interface WorkerChartProps {
  topology: Topology;
  environment: Environment;
  namespace: string;
  image: string;
  /** Upper bound of worker replicas KEDA may start. Default 10. */
  maxReplicas?: number;
  /** Waiting jobs per worker replica before KEDA adds another. Default 2. */
  jobsPerReplica?: number;
}

/** Redis list that holds BullMQ's waiting jobs (`<prefix>:<queue>:wait`, default prefix `bull`). */
export function bullmqWaitList(queue: string): string {
  return `bull:${queue}:wait`;
}

/** Seconds after which a backtest Job is stopped: the orphan scanner's threshold (spec §7, 6 hours). */
export const BACKTEST_JOB_DEADLINE_SECONDS = 6 * 3600;

export class WorkerChart extends Chart {
  /** The operators' one-off backtest Job, validated; also stored in the `backtest-job-template` ConfigMap. */
  readonly jobTemplate: Job;

  constructor(scope: Construct, id: string, props: WorkerChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { topology, namespace, environment } = props;
    const service = topology.services["strategy-container"];
    const name = service.name;
    const labels = labelsFor(name, "task");
    const metadata = (objectName: string) => ({ name: objectName, namespace, labels });

    addObject(
      this,
      "config",
      new ConfigMap({
        metadata: metadata(`${name}-config`),
        data: {
          TRADAI_ENVIRONMENT: environment,
          WORKER_REDIS_URL: "redis://redis:6379",
          WORKER_QUEUE_NAME: BULLMQ_BACKTEST_QUEUE,
          WORKER_STATE_STORE: "postgres",
          WORKER_RESULT_STORE: RESULTS_MOUNT_PATH,
          ...serviceUrlEnvironment(name, (target) => target, topology.services),
        },
      }),
    );

    const container = (args: readonly string[], extraEnv: IEnvVar[]): IContainer => ({
      name,
      image: props.image,
      imagePullPolicy: "IfNotPresent",
      // The image's command (no entry point), so the arguments can follow it.
      command: [...WORKER_COMMAND],
      ...(args.length > 0 ? { args: [...args] } : {}),
      envFrom: [{ configMapRef: { name: `${name}-config` } }],
      env: [
        ...service.secretEnv.map((variable) => ({
          name: variable,
          valueFrom: { secretKeyRef: { name: `tradai-${name}`, key: variable } },
        })),
        ...extraEnv,
      ],
      resources: resourcesFor(service.cpu, service.memory),
      securityContext: containerSecurity(),
      volumeMounts: [
        { name: "tmp", mountPath: "/tmp" },
        { name: "results", mountPath: RESULTS_MOUNT_PATH },
      ],
    });
    const podSpec = (
      args: readonly string[],
      extraEnv: IEnvVar[],
      restartPolicy: "Always" | "Never",
    ): IPodSpec => ({
      automountServiceAccountToken: false,
      securityContext: podSecurity(NODE_USER),
      restartPolicy,
      // A job in flight gets time to report its state before the pod goes (BullMQ re-queues it).
      terminationGracePeriodSeconds: 60,
      containers: [container(args, extraEnv)],
      volumes: [
        { name: "tmp", emptyDir: {} },
        // Shared with the backtest service, which reads the results (service-chart.ts creates it).
        { name: "results", persistentVolumeClaim: { claimName: BACKTEST_RESULTS_CLAIM } },
      ],
    });

    addObject(
      this,
      "deployment",
      new Deployment({
        metadata: metadata(name),
        spec: {
          // KEDA owns the replica count: zero while the queue is empty.
          replicas: 0,
          selector: { matchLabels: selectorFor(name) },
          // A BullMQ consumer (services/worker --queue).
          template: { metadata: { labels }, spec: podSpec(WORKER_CONSUMER_ARGS, [], "Always") },
        },
      }),
    );

    addObject(
      this,
      "scaled-object",
      new ScaledObject({
        metadata: metadata(name),
        spec: {
          scaleTargetRef: { name },
          minReplicaCount: 0,
          maxReplicaCount: props.maxReplicas ?? 10,
          pollingInterval: 15,
          cooldownPeriod: 300,
          triggers: [
            {
              type: "redis",
              metadata: {
                // The KEDA operator runs in its own namespace: use the Service's full name.
                address: `redis.${namespace}.svc.cluster.local:6379`,
                listName: bullmqWaitList(BULLMQ_BACKTEST_QUEUE),
                listLength: String(props.jobsPerReplica ?? 2),
                activationListLength: "0",
              },
            },
          ],
        },
      }),
    );

    this.jobTemplate = new Job({
      metadata: { generateName: "backtest-", namespace, labels },
      spec: {
        backoffLimit: 1,
        activeDeadlineSeconds: BACKTEST_JOB_DEADLINE_SECONDS,
        ttlSecondsAfterFinished: 3600,
        template: {
          metadata: { labels },
          // One job per pod, like the ECS task: whoever creates it fills in the job message (JSON).
          spec: podSpec([...service.args], [{ name: WORKER_JOB_VARIABLE, value: "" }], "Never"),
        },
      },
    });
    this.jobTemplate.validate();
    addObject(
      this,
      "job-template",
      new ConfigMap({
        metadata: metadata("backtest-job-template"),
        data: { "job.yaml": Yaml.stringify(this.jobTemplate.toJSON()) },
      }),
    );
  }
}
