// /api/v1/strategies/*: REST over StrategyService (issue #5 fills the service in).
import type { FastifyInstance } from "fastify";
import type { ServiceDirectory } from "../service-directory";

const validationIssueSchema = {
  type: "object",
  properties: {
    field: { type: "string" },
    message: { type: "string" },
    expected: { type: "string" },
    found: { type: "string" },
    file: { type: "string" },
    line: { type: "integer" },
    column: { type: "integer" },
  },
} as const;

export function registerStrategyRoutes(app: FastifyInstance, services: ServiceDirectory): void {
  app.post(
    "/api/v1/strategies/validate",
    {
      schema: {
        summary: "Compile and check a strategy source against the interface without registering it",
        tags: ["strategies"],
        body: {
          type: "object",
          additionalProperties: false,
          required: ["file_name", "source"],
          properties: {
            file_name: {
              type: "string",
              minLength: 1,
              pattern: "^[A-Za-z0-9_.-]+\\.ts$",
              description: "e.g. ema_cross.ts",
            },
            source: { type: "string", minLength: 1, description: "TypeScript source" },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              valid: { type: "boolean" },
              issues: { type: "array", items: validationIssueSchema },
            },
          },
        },
      },
    },
    async (request) => {
      const body = request.body as { file_name: string; source: string };
      const response = await services.strategy.validateStrategy({
        fileName: body.file_name,
        source: body.source,
      });
      return { valid: response.valid, issues: response.issues };
    },
  );
}
