// Which variables each service's config schema accepts, read from its entry point's source: every
// service rejects unknown variables with its prefix (packages/common config), so a deployment that
// sets one would stop the service at start-up. Fields are `name: xxxField(` entries; services
// started with runService (or spreading commonServiceFields) also take host, port, logLevel and
// traceConsole. Variable = prefix + SNAKE_CASE(field), as packages/common's envName does.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { SERVICES } from "../shared/config";
import type { ServiceName } from "../shared/config";
import { REPO_ROOT } from "./compose-check";

const COMMON_FIELDS = ["host", "port", "logLevel", "traceConsole"];

export function variableName(prefix: string, field: string): string {
  return prefix + field.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/** The accepted variables, or `null` when the service is not one of ours or not written yet. */
export function acceptedVariables(name: ServiceName): Set<string> | null {
  const service = SERVICES[name];
  if (service.entrypoint === null) return null;
  const file = path.join(REPO_ROOT, service.entrypoint);
  if (!existsSync(file)) return null;
  let source = readFileSync(file, "utf8");
  // Schemas kept beside the entry point (e.g. ./infrastructure/backtest-config) count too.
  for (const match of source.matchAll(/from "(\.\.?\/[^"]*-config)"/g)) {
    const imported = path.join(path.dirname(file), `${match[1] ?? ""}.ts`);
    if (existsSync(imported)) source += `\n${readFileSync(imported, "utf8")}`;
  }
  const fields = [...source.matchAll(/^\s+(\w+): \w*[fF]ield\(/gm)].map((match) => match[1] ?? "");
  if (/\brunService\(|\.\.\.commonServiceFields\(/.test(source)) fields.push(...COMMON_FIELDS);
  return new Set(fields.map((field) => variableName(service.envPrefix, field)));
}

/**
 * Variables the deployments set ahead of the service's schema, named by the spec or the service's
 * own documentation (its issue adds the fields). Listed so the gap is visible in one place.
 */
export const PENDING_VARIABLES: Readonly<Partial<Record<ServiceName, readonly string[]>>> = {
  // Spec §3.1 and §4 (issue #6: backtest orchestration and executors).
  backtest: [
    "BACKEND_DATA_COLLECTION_URL",
    "BACKEND_STRATEGY_SERVICE_URL",
    "BACKEND_MLFLOW_TRACKING_URI",
    "BACKEND_LOCAL_EXECUTION_MODE",
    "BACKEND_STATE_STORE",
    "BACKEND_POSTGRES_URL",
    "BACKEND_REDIS_URL",
    "BACKEND_ECS_CLUSTER",
    "BACKEND_ECS_SUBNETS",
    "BACKEND_ECS_SECURITY_GROUPS",
    "BACKEND_ECS_TASK_DEFINITION",
    "BACKEND_BACKTEST_QUEUE_URL",
    "BACKEND_STEPFUNCTIONS_STATE_MACHINE_ARN",
    "BACKEND_WORKFLOW_STATE_TABLE",
  ],
  // services/data-collection/src/infrastructure/create-data-collection-dependencies.ts reads these.
  "data-collection": [
    "DATA_COLLECTION_DATA_DIR",
    "DATA_COLLECTION_STORE",
    "DATA_COLLECTION_S3_BUCKET",
    "DATA_COLLECTION_S3_REGION",
    "DATA_COLLECTION_S3_ENDPOINT",
  ],
};

/** Variables with the service's prefix that its schema would reject (pending ones excepted). */
export function rejectedVariables(name: ServiceName, variables: Iterable<string>): string[] {
  const accepted = acceptedVariables(name);
  if (accepted === null) return [];
  const prefix = SERVICES[name].envPrefix;
  const pending = new Set(PENDING_VARIABLES[name] ?? []);
  return [...new Set(variables)]
    .filter((variable) => variable.startsWith(prefix) && !accepted.has(variable) && !pending.has(variable))
    .sort();
}
