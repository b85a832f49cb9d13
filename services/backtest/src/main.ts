// BacktestService (port 8001): job orchestration of the spec's backend-api (§3.1, §4).
import { createAwsClients } from "@tradai/aws";
import { registerService, runService } from "@tradai/common";
import { BacktestService } from "@tradai/proto";
import { createBacktestHandlers } from "./api/backtest-handlers";
import type { WorkflowStateRepository } from "./core/workflow-state-repository";
import { backtestConfigSchema, type BacktestSettings } from "./infrastructure/backtest-config";
import { createDynamoDbWorkflowStateRepository } from "./infrastructure/dynamodb-workflow-state-repository";
import { createBacktestApplication } from "./infrastructure/backtest-application";
import { executorSettingsFrom } from "./infrastructure/executor-factory";
import { createPostgresWorkflowStateRepository } from "./infrastructure/postgres-workflow-state-repository";
import { createResultStore } from "./infrastructure/result-store";
import { createEnsuredDataCache } from "./core/ensured-data-cache";
import { createMarketDataClient, createStrategyCatalogClient } from "./infrastructure/service-clients";
import { createSqliteWorkflowStateRepository } from "./infrastructure/sqlite-workflow-state-repository";

function awsFor(settings: BacktestSettings) {
  return createAwsClients({
    region: settings.awsRegion ?? "eu-central-1",
    ...(settings.awsEndpointUrl === undefined ? {} : { endpoint: settings.awsEndpointUrl }),
  });
}

async function openRepository(settings: BacktestSettings): Promise<WorkflowStateRepository> {
  switch (settings.stateStore) {
    case "postgres":
      if (settings.postgresUrl === undefined)
        throw new Error(
          "BACKEND_POSTGRES_URL: expected a PostgreSQL URL for BACKEND_STATE_STORE=postgres, got nothing",
        );
      return createPostgresWorkflowStateRepository({ connectionString: settings.postgresUrl });
    case "dynamodb":
      return createDynamoDbWorkflowStateRepository({
        clients: awsFor(settings),
        tableName: settings.workflowStateTable,
      });
    default:
      return createSqliteWorkflowStateRepository({ path: settings.sqlitePath });
  }
}

await runService({
  name: "backtest",
  prefix: "BACKEND_",
  defaultPort: 8001,
  schema: backtestConfigSchema,
  env: process.env,
  async build(settings, logger) {
    const repository = await openRepository(settings);
    const results = createResultStore(settings.resultStore, () => awsFor(settings));
    const application = createBacktestApplication({
      // process.env: AWS credentials for LOCAL/DOCKER worker containers (FORWARDED_WORKER_VARIABLES).
      executor: executorSettingsFrom(settings, process.env),
      repository,
      strategies: createStrategyCatalogClient(settings.strategyServiceUrl),
      marketData: createEnsuredDataCache(createMarketDataClient(settings.dataCollectionUrl), {
        ttlMs: settings.ensureDataCacheMs,
      }),
      results,
      logger,
    });
    const { service, submitter } = application;
    // LOCAL: dispatch the QUEUED jobs a previous instance left, fail its orphaned RUNNING ones;
    // QUEUE: fail the jobs the queue failed or lost while no instance listened.
    await application.start();
    return {
      services: [registerService(BacktestService, createBacktestHandlers(service))],
      dependencyChecks: [
        { name: "state-store", check: async () => void (await repository.list({ pageSize: 1 })) },
        ...(submitter.check
          ? [
              {
                name: `executor ${submitter.executor}`,
                check: (signal: AbortSignal) => submitter.check!(signal),
              },
            ]
          : []),
      ],
      dispose: async () => {
        await application.close();
        await repository.close();
      },
    };
  },
});
