// Issue 7's promise in one test: a port and a schedule changed in the topology of
// infra/shared/config.ts reach docker compose, the Kubernetes charts and the Pulumi program together.
// The topology moves data-collection to 9002 and drift-monitor to rate(3 hours); each deployment is
// rendered from it exactly as `npm run generate:deploy`, charts' synth and `pulumi up` do.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTradaiApp, renderManifests } from "../../charts/src/tradai-app";
import { parseManifests } from "../../charts/test/kubernetes-schema";
import type { Manifest } from "../../charts/test/kubernetes-schema";
import { renderCompose } from "../compose/render";
import {
  SERVICE_NAMES,
  TOPOLOGY,
  lambdaFunctionName,
  serviceDiscoveryNamespace,
  withSchedule,
  withService,
} from "../shared/config";
import { COMPOSE_PROFILES, checkComposeAgainstTopology, composeConfig, findCompose } from "./compose-check";
import type { ComposeProject } from "./compose-check";
import { runProgram } from "./pulumi-mocks";
import type { RecordedResource } from "./pulumi-mocks";

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests and recorded inputs are untyped JSON */
const changed = withSchedule(
  withService(TOPOLOGY, "data-collection", { port: 9002 }),
  "drift-monitor",
  "rate(3 hours)",
);
const NEW_URL = "http://data-collection:9002";
/** Every variable, in every service of the topology, that carries data-collection's URL. */
const dataCollectionVariables = SERVICE_NAMES.flatMap((name) => {
  const variable = changed.services[name].urlVariables["data-collection"];
  return variable === undefined ? [] : [[name, variable] as const];
});

const scratch = mkdtempSync(path.join(os.tmpdir(), "tradai-single-source-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("a port and a schedule changed in infra/shared/config.ts", () => {
  it("the topology has the three callers of data-collection the spec names", () => {
    expect(dataCollectionVariables.map(([, variable]) => variable).sort()).toEqual([
      "BACKEND_DATA_COLLECTION_URL",
      "GATEWAY_DATA_COLLECTION_URL",
      "WORKER_DATA_COLLECTION_URL",
    ]);
  });

  describe("docker compose (rendered, then resolved by `docker compose config`)", () => {
    let project: ComposeProject;
    let rendered: Record<string, string>;
    beforeAll(async () => {
      rendered = renderCompose(changed);
      for (const [file, text] of Object.entries(rendered)) writeFileSync(path.join(scratch, file), text);
      project = await composeConfig(await findCompose(), COMPOSE_PROFILES, Object.keys(rendered), scratch);
    });

    it("publishes 9002, checks health on it and gives every caller :9002", () => {
      const service = project.services["data-collection"];
      expect(service?.ports?.map((port) => port.target)).toEqual([9002]);
      expect(service?.ports?.[0]?.published).toBe("9002");
      expect(service?.environment?.DATA_COLLECTION_PORT).toBe("9002");
      expect(service?.healthcheck?.test?.join(" ")).toContain("http://127.0.0.1:9002/api/v1/health");
      for (const [name, variable] of dataCollectionVariables) {
        const compose = project.services[changed.services[name].composeService];
        expect(compose?.environment?.[variable], `${name} ${variable}`).toBe(NEW_URL);
      }
      expect(checkComposeAgainstTopology(project, changed)).toEqual([]);
      // Nothing in either file still names the old port.
      expect(Object.values(rendered).join("\n")).not.toMatch(/\b8002\b/);
    });

    it("has no schedule: compose runs no scheduled functions (spec §6)", () => {
      const text = Object.values(rendered).join("\n");
      expect(text).not.toMatch(/rate\(|cron\(|schedule/i);
      expect(Object.keys(project.services)).not.toContain("drift-monitor");
      expect(renderCompose(withSchedule(changed, "drift-monitor", "rate(6 hours)"))).toEqual(rendered);
    });
  });

  describe("Kubernetes (the cdk8s app)", () => {
    const manifests: Manifest[] = Object.values(
      renderManifests(createTradaiApp({ topology: changed })),
    ).flatMap(parseManifests);
    const find = (kind: string, name: string): any =>
      manifests.find((manifest) => manifest.kind === kind && manifest.metadata.name === name);

    it("moves the Service, probes, NetworkPolicy and every ConfigMap URL to 9002", () => {
      expect(find("Service", "data-collection").spec.ports[0].port).toBe(9002);
      const container = find("Deployment", "data-collection").spec.template.spec.containers[0];
      expect(container.ports).toEqual([{ name: "http", containerPort: 9002, protocol: "TCP" }]);
      expect(container.livenessProbe.grpc.port).toBe(9002);
      expect(container.readinessProbe.httpGet.port).toBe("http");
      expect(find("NetworkPolicy", "data-collection-ingress").spec.ingress[0].ports[0].port).toBe(9002);
      for (const [name, variable] of dataCollectionVariables) {
        expect(find("ConfigMap", `${name}-config`).data[variable], `${name} ${variable}`).toBe(NEW_URL);
      }
    });

    it("runs the drift-monitor CronJob every three hours", () => {
      expect(find("CronJob", "drift-monitor").spec.schedule).toBe("0 */3 * * *");
      expect(find("CronJob", "health-check").spec.schedule).toBe("*/2 * * * *");
    });
  });

  describe("AWS (the Pulumi program under mocks)", () => {
    let resources: RecordedResource[];
    beforeAll(async () => {
      resources = await runProgram({ environment: "dev", topology: changed });
    }, 60_000);
    const one = (type: string, name: string) => {
      const found = resources.find((resource) => resource.type === type && resource.name === name);
      if (found === undefined) throw new Error(`expected ${type} ${name}, got none`);
      return found;
    };
    const containerOf = (service: string) =>
      JSON.parse(
        one("aws:ecs/taskDefinition:TaskDefinition", `tradai-dev-${service}`).inputs.containerDefinitions,
      )[0];

    it("moves the task port, health check and every Cloud Map URL to 9002", () => {
      const container = containerOf("data-collection");
      expect(container.portMappings[0].containerPort).toBe(9002);
      expect(container.healthCheck.command.join(" ")).toContain("http://127.0.0.1:9002/api/v1/health");
      expect(container.environment).toContainEqual({ name: "DATA_COLLECTION_PORT", value: "9002" });
      const url = `http://data-collection.${serviceDiscoveryNamespace("dev")}:9002`;
      for (const [name, variable] of dataCollectionVariables) {
        expect(containerOf(name).environment, `${name} ${variable}`).toContainEqual({
          name: variable,
          value: url,
        });
      }
    });

    it("schedules drift-monitor's EventBridge rule at rate(3 hours)", () => {
      const rule = (name: "drift-monitor" | "health-check") =>
        one("aws:cloudwatch/eventRule:EventRule", `${lambdaFunctionName("dev", name)}-schedule`).inputs
          .scheduleExpression;
      expect(rule("drift-monitor")).toBe("rate(3 hours)");
      expect(rule("health-check")).toBe("rate(2 minutes)");
    });
  });
});
