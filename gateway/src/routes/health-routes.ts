// GET /api/v1/health: the gateway's own status plus every service's, checked through
// grpc.health.v1.Health over Connect with a 2 s deadline, with latency.
import type { FastifyInstance } from "fastify";
import { ServingStatus } from "@tradai/common";
import { SERVICE_NAMES, type ServiceDirectory, type ServiceUrls } from "../service-directory";

const serviceHealthSchema = {
  type: "object",
  required: ["name", "status", "latency_ms", "url"],
  properties: {
    name: { type: "string" },
    status: { type: "string", enum: ["up", "down"] },
    latency_ms: { type: "number" },
    url: { type: "string" },
    error: { type: "string" },
  },
} as const;

const healthSchema = {
  type: "object",
  required: ["status", "version", "uptime_seconds", "services"],
  properties: {
    status: {
      type: "string",
      enum: ["healthy", "degraded"],
      description: "degraded when any service is down",
    },
    version: { type: "string" },
    uptime_seconds: { type: "number" },
    services: { type: "array", items: serviceHealthSchema },
  },
} as const;

export function registerHealthRoutes(
  app: FastifyInstance,
  services: ServiceDirectory,
  version: string,
): void {
  const startedAt = Date.now();
  app.get(
    "/api/v1/health",
    {
      schema: {
        summary: "Gateway and service health",
        tags: ["health"],
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            service: { type: "string", description: "check only this service (e.g. data-collection)" },
          },
        },
        response: { 200: healthSchema },
      },
    },
    async (request) => {
      const only = (request.query as { service?: string }).service;
      const keys = (Object.keys(services.urls) as (keyof ServiceUrls)[]).filter(
        (key) => only === undefined || SERVICE_NAMES[key] === only,
      );
      const results = await Promise.all(
        keys.map(async (key) => {
          const started = performance.now();
          const base = { name: SERVICE_NAMES[key], url: services.urls[key] };
          try {
            const response = await services.health[key].check({ service: "" });
            const latency = Math.round((performance.now() - started) * 10) / 10;
            return response.status === ServingStatus.SERVING
              ? { ...base, status: "up" as const, latency_ms: latency }
              : {
                  ...base,
                  status: "down" as const,
                  latency_ms: latency,
                  error: `status ${ServingStatus[response.status]}`,
                };
          } catch (error) {
            return {
              ...base,
              status: "down" as const,
              latency_ms: Math.round((performance.now() - started) * 10) / 10,
              error: error instanceof Error ? error.message : String(error),
            };
          }
        }),
      );
      return {
        status: results.every((result) => result.status === "up") ? "healthy" : "degraded",
        version,
        uptime_seconds: Math.round((Date.now() - startedAt) / 100) / 10,
        services: results,
      };
    },
  );
}
