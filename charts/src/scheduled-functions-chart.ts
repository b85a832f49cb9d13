// A CronJob for every scheduled function in LAMBDA_SCHEDULES (ARCHITECTURE.md §4.8): the same
// image as the Lambda (docker/lambda.Dockerfile), run once per tick by docker/lambda-invoke.mjs.
import { Chart } from "cdk8s";
import type { Construct } from "constructs";
import { CronJob } from "kubernetes-models/batch/v1/CronJob";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import {
  LAMBDA_ECR_REPOS,
  SCHEDULED_LAMBDAS,
  lambdaFunctionName,
  resolveLambdaSchedules,
  scheduleToCron,
  serviceUrl,
} from "../../infra/shared/config";
import type { Environment, Topology } from "../../infra/shared/config";
import { addObject, containerSecurity, labelsFor, millicores, podSecurity } from "./kubernetes";
import { NODE_USER } from "./service-chart";

export interface ScheduledFunctionsChartProps {
  topology: Topology;
  environment: Environment;
  namespace: string;
  /** Image reference for a repository, e.g. `tradai/lambda-orphan-scanner` → `<registry>/...:<tag>`. */
  imageOf: (repository: string) => string;
  /** Schedule overrides by the spec's config keys (e.g. `orphan_scanner_schedule`). */
  scheduleOverrides?: Readonly<Record<string, string>>;
}

export const SCHEDULED_FUNCTIONS_CONFIG = "scheduled-functions-config";

export class ScheduledFunctionsChart extends Chart {
  constructor(scope: Construct, id: string, props: ScheduledFunctionsChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { topology, environment, namespace } = props;
    const overrides = props.scheduleOverrides ?? {};
    const schedules = resolveLambdaSchedules((key) => overrides[key], topology.lambdaSchedules);

    // What the handlers reach in-cluster instead of Cloud Map names (health-check, drift-monitor, ...).
    const services = topology.services;
    addObject(
      this,
      "config",
      new ConfigMap({
        metadata: {
          name: SCHEDULED_FUNCTIONS_CONFIG,
          namespace,
          labels: labelsFor("scheduled-functions", "cron"),
        },
        data: {
          TRADAI_ENVIRONMENT: environment,
          TRADAI_RUNTIME: "kubernetes",
          TRADAI_BACKEND_API_URL: serviceUrl("backend-api", "backend-api", services),
          TRADAI_BACKTEST_URL: serviceUrl("backtest", "backtest", services),
          TRADAI_DATA_COLLECTION_URL: serviceUrl("data-collection", "data-collection", services),
          TRADAI_STRATEGY_SERVICE_URL: serviceUrl("strategy-service", "strategy-service", services),
          TRADAI_MLFLOW_TRACKING_URI: serviceUrl("mlflow", "mlflow", services),
        },
      }),
    );

    for (const name of SCHEDULED_LAMBDAS) {
      const lambda = topology.lambdas[name];
      const repository = LAMBDA_ECR_REPOS[name];
      if (repository === undefined) {
        throw new Error(`ScheduledFunctionsChart: expected an image repository for ${name}, got none`);
      }
      const labels = labelsFor(name, "cron");
      addObject(
        this,
        name,
        new CronJob({
          metadata: { name, namespace, labels },
          spec: {
            schedule: scheduleToCron(schedules[name], topology.lambdaSchedules[name].configKey),
            timeZone: "Etc/UTC",
            // Like one EventBridge target: a tick is skipped while the previous run is still going.
            concurrencyPolicy: "Forbid",
            startingDeadlineSeconds: 60,
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 3,
            jobTemplate: {
              metadata: { labels },
              spec: {
                backoffLimit: 0,
                activeDeadlineSeconds: lambda.timeout,
                ttlSecondsAfterFinished: 3600,
                template: {
                  metadata: { labels },
                  spec: {
                    restartPolicy: "Never",
                    automountServiceAccountToken: false,
                    securityContext: podSecurity(NODE_USER),
                    containers: [
                      {
                        name,
                        image: props.imageOf(repository),
                        imagePullPolicy: "IfNotPresent",
                        command: ["node", "/var/task/invoke.mjs"],
                        envFrom: [{ configMapRef: { name: SCHEDULED_FUNCTIONS_CONFIG } }],
                        env: [
                          { name: "AWS_LAMBDA_FUNCTION_NAME", value: lambdaFunctionName(environment, name) },
                          { name: "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", value: String(lambda.memory) },
                          { name: "TRADAI_LAMBDA_TIMEOUT_SECONDS", value: String(lambda.timeout) },
                        ],
                        resources: {
                          requests: { cpu: millicores(128), memory: `${lambda.memory}Mi` },
                          limits: { cpu: millicores(1024), memory: `${lambda.memory}Mi` },
                        },
                        securityContext: containerSecurity(),
                        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                      },
                    ],
                    volumes: [{ name: "tmp", emptyDir: {} }],
                  },
                },
              },
            },
          },
        }),
      );
    }
  }
}
