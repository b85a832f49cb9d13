// Loads a deployment's environment through the services' own config loaders, as they do at start:
// packages/common loadConfig with the backtest service's real schema (commonServiceFields +
// backtestConfigSchema) and the worker's (workerConfigSchema), then the backtest service's own
// executorSettingsFrom + missingSettings. A variable the schema does not know, a bad value or an
// executor without its settings is a problem, named as the service would name it at start-up.
import { ConfigError, commonServiceFields, loadConfig } from "@tradai/common";
import { backtestConfigSchema } from "../../services/backtest/src/infrastructure/backtest-config";
import type { BacktestSettings } from "../../services/backtest/src/infrastructure/backtest-config";
import {
  executorSettingsFrom,
  missingSettings,
} from "../../services/backtest/src/infrastructure/executor-factory";
import { workerConfigSchema } from "../../services/worker/src/infrastructure/worker-config";
import type { WorkerSettings } from "../../services/worker/src/infrastructure/worker-config";
import { SERVICES } from "../shared/config";

/** What a secret reference (Kubernetes secretKeyRef, ECS `secrets`) stands for when it is loaded. */
export const SECRET_PLACEHOLDER = "postgres://secret:secret@secret-store:5432/tradai";

export type LoadResult<T> = { ok: true; settings: T } | { ok: false; problems: string[] };

function load<T>(run: () => T): LoadResult<T> {
  try {
    return { ok: true, settings: run() };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, problems: error.problems };
    throw error;
  }
}

const backtestSchema = {
  ...commonServiceFields(SERVICES.backtest.port ?? 0),
  ...backtestConfigSchema,
};

/**
 * The backtest service's settings from a deployment's variables, or its problems: the loader's
 * (unknown BACKEND_* variable, bad value) and then the executor's (missingSettings: variables the
 * configured BACKEND_EXECUTOR_MODE needs but the deployment does not set).
 */
export function loadBacktestEnvironment(
  variables: Readonly<Record<string, string | null | undefined>>,
): LoadResult<BacktestSettings> {
  const result = load(() =>
    loadConfig({ prefix: SERVICES.backtest.envPrefix, schema: backtestSchema, env: present(variables) }),
  );
  if (!result.ok) return result;
  const missing = missingSettings(executorSettingsFrom(result.settings));
  return missing.length > 0
    ? {
        ok: false,
        problems: missing.map(
          (variable) =>
            `${variable}: expected a value for executor ${result.settings.executorMode}, got nothing`,
        ),
      }
    : result;
}

/** The worker's settings from a deployment's variables, or the loader's problems. */
export function loadWorkerEnvironment(
  variables: Readonly<Record<string, string | null | undefined>>,
): LoadResult<WorkerSettings> {
  return load(() =>
    loadConfig({
      prefix: SERVICES["strategy-container"].envPrefix,
      schema: workerConfigSchema,
      env: present(variables),
    }),
  );
}

/** Compose leaves `null` for a variable listed without a value; the loader sees it as unset. */
function present(variables: Readonly<Record<string, string | null | undefined>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(variables).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

/** A Kubernetes container's variables: its ConfigMap's data and its env, secrets as placeholders. */
export function kubernetesEnvironment(
  configMapData: Readonly<Record<string, string>> | undefined,
  env: readonly { name: string; value?: string; valueFrom?: unknown }[] | undefined,
): Record<string, string> {
  return {
    ...configMapData,
    ...Object.fromEntries(
      (env ?? []).map((entry) => [entry.name, entry.value ?? SECRET_PLACEHOLDER] as const),
    ),
  };
}

/** An ECS container definition's variables: `environment` and `secrets` (as placeholders). */
export function ecsEnvironment(container: {
  environment?: { name: string; value: string }[];
  secrets?: { name: string }[];
}): Record<string, string> {
  return {
    ...Object.fromEntries((container.environment ?? []).map((entry) => [entry.name, entry.value])),
    ...Object.fromEntries((container.secrets ?? []).map((entry) => [entry.name, SECRET_PLACEHOLDER])),
  };
}
