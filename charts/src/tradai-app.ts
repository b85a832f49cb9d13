// The cdk8s app: one chart per deployable plus the platform (namespace, network policies, stores)
// and the scheduled functions. Everything is derived from infra/shared/config.ts.
import type { Chart } from "cdk8s";
import { App, Yaml } from "cdk8s";
import { SERVICE_NAMES, TOPOLOGY } from "../../infra/shared/config";
import type { Environment, Topology } from "../../infra/shared/config";
import { PlatformChart } from "./platform-chart";
import { ScheduledFunctionsChart } from "./scheduled-functions-chart";
import { ServiceChart } from "./service-chart";
import { WorkerChart } from "./worker-chart";

export interface TradaiAppProps {
  /** Topology to deploy. Default: TOPOLOGY from infra/shared/config.ts. */
  topology?: Topology;
  /** Environment whose desired counts apply. Default "prod". */
  environment?: Environment;
  /** Kubernetes namespace. Default "tradai". */
  namespace?: string;
  /** Registry prefix for the images, e.g. `123456789012.dkr.ecr.eu-central-1.amazonaws.com`. Default: none. */
  imageRegistry?: string;
  /** Image tag. Default "latest". */
  imageTag?: string;
  /** Schedule overrides by the spec's config keys (e.g. `{ orphan_scanner_schedule: "rate(10 minutes)" }`). */
  scheduleOverrides?: Readonly<Record<string, string>>;
}

export function createTradaiApp(props: TradaiAppProps = {}): App {
  const topology = props.topology ?? TOPOLOGY;
  const environment = props.environment ?? "prod";
  const namespace = props.namespace ?? "tradai";
  const registry = props.imageRegistry ?? "";
  const tag = props.imageTag ?? "latest";
  const imageOf = (repository: string) => `${registry === "" ? "" : `${registry}/`}${repository}:${tag}`;

  const app = new App();
  new PlatformChart(app, "platform", { topology, namespace });
  for (const name of SERVICE_NAMES) {
    const service = topology.services[name];
    const image = imageOf(service.ecrRepository);
    if (service.port === null) {
      new WorkerChart(app, name, { topology, environment, namespace, image });
    } else {
      new ServiceChart(app, name, { topology, service: name, environment, namespace, image });
    }
  }
  new ScheduledFunctionsChart(app, "scheduled-functions", {
    topology,
    environment,
    namespace,
    imageOf,
    ...(props.scheduleOverrides ? { scheduleOverrides: props.scheduleOverrides } : {}),
  });
  return app;
}

/**
 * The manifests `synth` writes, by file name, without touching the disk. Files are numbered in
 * chart order (`00-platform.k8s.yaml` first) so `kubectl apply -f dist/` creates the namespace
 * before anything that lives in it.
 */
export function renderManifests(app: App): Record<string, string> {
  return Object.fromEntries(
    app.charts.map((chart: Chart, index) => [
      `${String(index).padStart(2, "0")}-${chart.node.id}.k8s.yaml`,
      Yaml.stringify(...chart.toJson()),
    ]),
  );
}
