// Which variables each service's config schema accepts, read from its entry point's source: every
// service rejects unknown variables with its prefix (packages/common config), so a deployment that
// sets one would stop the service at start-up. Fields are `name: xxxField(` entries; services
// started with runService (or spreading commonServiceFields) also take host, port, logLevel and
// traceConsole. Variable = prefix + SNAKE_CASE(field), as packages/common's envName does.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { LAMBDA_CONFIGS, SERVICES } from "../shared/config";
import type { LambdaName, ServiceName } from "../shared/config";
import { REPO_ROOT } from "./compose-check";

const COMMON_FIELDS = ["host", "port", "logLevel", "traceConsole"];

export function variableName(prefix: string, field: string): string {
  return prefix + field.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/** The `name: xxxField(` fields of a schema in `file` (and the `-config` modules beside it it imports). */
function schemaSource(file: string): string {
  let source = readFileSync(file, "utf8");
  // Schemas kept beside the entry point (e.g. ./infrastructure/backtest-config) count too.
  for (const match of source.matchAll(/from "(\.\.?\/[^"]*-config)"/g)) {
    const imported = path.join(path.dirname(file), `${match[1] ?? ""}.ts`);
    if (existsSync(imported)) source += `\n${readFileSync(imported, "utf8")}`;
  }
  return source;
}

const fieldsOf = (source: string) =>
  [...source.matchAll(/^\s+(\w+): \w*[fF]ield\(/gm)].map((match) => match[1] ?? "");

/** The accepted variables, or `null` when the service is not one of ours or not written yet. */
export function acceptedVariables(name: ServiceName): Set<string> | null {
  const service = SERVICES[name];
  if (service.entrypoint === null) return null;
  const file = path.join(REPO_ROOT, service.entrypoint);
  if (!existsSync(file)) return null;
  const source = schemaSource(file);
  const fields = fieldsOf(source);
  if (/\brunService\(|\.\.\.commonServiceFields\(/.test(source)) fields.push(...COMMON_FIELDS);
  return new Set(fields.map((field) => variableName(service.envPrefix, field)));
}

/**
 * Variables the deployments set ahead of the service's schema, named by the spec or the service's
 * own documentation (its issue adds the fields). Listed so the gap is visible in one place; empty
 * now that every service's schema has the variables its deployments set. An entry the schema
 * accepts fails infra/test (stalePendingVariables), so the list cannot hide drift.
 */
export const PENDING_VARIABLES: Readonly<Partial<Record<ServiceName, readonly string[]>>> = {};

/** Pending entries the schema already accepts (to be deleted from PENDING_VARIABLES). */
export function stalePendingVariables(
  pending: Readonly<Partial<Record<ServiceName, readonly string[]>>> = PENDING_VARIABLES,
): string[] {
  return Object.entries(pending).flatMap(([name, variables]) => {
    const accepted = acceptedVariables(name as ServiceName);
    return (variables ?? [])
      .filter((variable) => accepted?.has(variable))
      .map((variable) => `${name}: ${variable}`);
  });
}

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

/**
 * A Lambda handler's schema (lambdas/<name>/src/handler.ts: `loadConfig({ prefix: "...", schema })`):
 * its prefix and accepted variables, or `null` while the handler is not written yet.
 */
export function lambdaSchema(name: LambdaName): { prefix: string; variables: Set<string> } | null {
  const file = path.join(REPO_ROOT, LAMBDA_CONFIGS[name].handler);
  if (!existsSync(file)) return null;
  const source = schemaSource(file);
  const prefix = /prefix: "([A-Z0-9_]+)"/.exec(source)?.[1];
  if (prefix === undefined) throw new Error(`${file}: expected loadConfig({ prefix: "..." }), got none`);
  return { prefix, variables: new Set(fieldsOf(source).map((field) => variableName(prefix, field))) };
}

/** Variables with the handler's prefix that its schema would reject. */
export function rejectedLambdaVariables(name: LambdaName, variables: Iterable<string>): string[] {
  const schema = lambdaSchema(name);
  if (schema === null) return [];
  return [...new Set(variables)]
    .filter((variable) => variable.startsWith(schema.prefix) && !schema.variables.has(variable))
    .sort();
}
