// grpc.health.v1.Health and the HTTP `GET /api/v1/health` document share one status registry.
import type { ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Health } from "@tradai/proto";
import { HealthCheckResponse_ServingStatus as ServingStatus } from "@tradai/proto";

export { ServingStatus };

/** A named dependency check for the health document (database, Redis, another service, ...). */
export interface DependencyCheck {
  name: string;
  /** Resolves when healthy; rejects (or times out) when not. */
  check(signal: AbortSignal): Promise<void>;
  /** A failing non-critical dependency makes the service "degraded", not "unhealthy". */
  critical?: boolean;
}

export interface DependencyStatus {
  name: string;
  status: "up" | "down";
  latency_ms: number;
  error?: string;
}

export interface HealthDocument {
  status: "healthy" | "degraded" | "unhealthy";
  service: string;
  version: string;
  uptime_seconds: number;
  dependencies: DependencyStatus[];
}

export class HealthRegistry {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly listeners = new Set<() => void>();

  constructor(services: readonly string[]) {
    this.statuses.set("", ServingStatus.SERVING);
    for (const service of services) this.statuses.set(service, ServingStatus.SERVING);
  }

  /** Sets one service's status; "" is the server as a whole. */
  set(service: string, status: ServingStatus): void {
    this.statuses.set(service, status);
    for (const listener of this.listeners) listener();
  }

  /** Marks every service NOT_SERVING (on shutdown, before draining). */
  setAllNotServing(): void {
    for (const service of this.statuses.keys()) this.statuses.set(service, ServingStatus.NOT_SERVING);
    for (const listener of this.listeners) listener();
  }

  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  all(): ReadonlyMap<string, ServingStatus> {
    return this.statuses;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export function createHealthHandlers(registry: HealthRegistry): ServiceImpl<typeof Health> {
  return {
    check(request) {
      const status = registry.get(request.service);
      if (status === undefined) throw new ConnectError(`unknown service "${request.service}"`, Code.NotFound);
      return { status };
    },
    list() {
      const statuses: Record<string, { status: ServingStatus }> = {};
      for (const [service, status] of registry.all()) statuses[service] = { status };
      return { statuses };
    },
    async *watch(request, context) {
      let last: ServingStatus | undefined;
      let wake: (() => void) | undefined;
      const unsubscribe = registry.onChange(() => wake?.());
      const aborted = new Promise<void>((resolve) =>
        context.signal.addEventListener("abort", () => resolve(), { once: true }),
      );
      try {
        while (!context.signal.aborted) {
          const status = registry.get(request.service) ?? ServingStatus.SERVICE_UNKNOWN;
          if (status !== last) {
            last = status;
            yield { status };
          }
          await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
        }
      } finally {
        unsubscribe();
      }
    },
  };
}

/** Runs every dependency check (each bounded by `timeoutMs`) and builds the health document. */
export async function buildHealthDocument(options: {
  service: string;
  version: string;
  startedAt: number;
  registry: HealthRegistry;
  checks: readonly DependencyCheck[];
  timeoutMs?: number;
  now?: () => number;
}): Promise<HealthDocument> {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const dependencies = await Promise.all(
    options.checks.map(async (dependency): Promise<DependencyStatus & { critical: boolean }> => {
      const started = performance.now();
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        await Promise.race([
          dependency.check(signal),
          new Promise((_, reject) =>
            signal.addEventListener("abort", () => reject(new Error(`no answer within ${timeoutMs} ms`)), {
              once: true,
            }),
          ),
        ]);
        return {
          name: dependency.name,
          status: "up",
          latency_ms: round(performance.now() - started),
          critical: dependency.critical ?? true,
        };
      } catch (error) {
        return {
          name: dependency.name,
          status: "down",
          latency_ms: round(performance.now() - started),
          error: error instanceof Error ? error.message : String(error),
          critical: dependency.critical ?? true,
        };
      }
    }),
  );
  const serving = options.registry.get("") === ServingStatus.SERVING;
  const criticalDown = dependencies.some((dependency) => dependency.status === "down" && dependency.critical);
  const anyDown = dependencies.some((dependency) => dependency.status === "down");
  return {
    status: !serving || criticalDown ? "unhealthy" : anyDown ? "degraded" : "healthy",
    service: options.service,
    version: options.version,
    uptime_seconds: round((now() - options.startedAt) / 1000),
    dependencies: dependencies.map(({ critical: _critical, ...rest }) => rest),
  };
}

const round = (value: number) => Math.round(value * 10) / 10;
