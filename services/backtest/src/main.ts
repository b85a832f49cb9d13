// BacktestService (port 8001): job orchestration of the spec's backend-api (§3.1, §4).
import { createAwsClients } from "@tradai/aws";
import { registerService, runService } from "@tradai/common";
import { BacktestService } from "@tradai/proto";
import { createBacktestHandlers } from "./api/backtest-handlers";
import type { BacktestJobSubmitter } from "./core/backtest-job-submitter";
import { createBacktestService } from "./core/backtest-service";
import type { WorkflowStateRepository } from "./core/workflow-state-repository";
import { backtestConfigSchema, type BacktestSettings } from "./infrastructure/backtest-config";
import { createDynamoDbWorkflowStateRepository } from "./infrastructure/dynamodb-workflow-state-repository";
import { ExecutorFactory } from "./infrastructure/executor-factory";
import { createPostgresWorkflowStateRepository } from "./infrastructure/postgres-workflow-state-repository";
import { createResultStore } from "./infrastructure/result-store";
import { createEnsuredDataCache } from "./core/ensured-data-cache";
import { createMarketDataClient, createStrategyCatalogClient } from "./infrastructure/service-clients";
import { createSqliteWorkflowStateRepository } from "./infrastructure/sqlite-workflow-state-repository";
import { workerEnv } from "./infrastructure/worker-env";

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
    let onJobLost: (jobId: string, reason: string) => Promise<void> = async () => undefined;
    const submitter: BacktestJobSubmitter = ExecutorFactory.createOrUnconfigured(
      {
        mode: settings.executorMode,
        localExecutionMode: settings.localExecutionMode,
        workerEntry: settings.workerEntry,
        localWorkers: settings.localWorkers,
        workerEnv: workerEnv(settings),
        ...(settings.workerImage === undefined ? {} : { workerImage: settings.workerImage }),
        dockerNetwork: settings.workerNetwork,
        dockerBinds: settings.workerVolumes,
        dockerSocket: settings.dockerSocket,
        ...(settings.redisUrl === undefined ? {} : { redisUrl: settings.redisUrl }),
        queueName: settings.queueName,
        ...(settings.awsRegion === undefined ? {} : { awsRegion: settings.awsRegion }),
        ...(settings.awsEndpointUrl === undefined ? {} : { awsEndpoint: settings.awsEndpointUrl }),
        ...(settings.backtestQueueUrl === undefined ? {} : { backtestQueueUrl: settings.backtestQueueUrl }),
        ...(settings.ecsCluster === undefined ? {} : { ecsCluster: settings.ecsCluster }),
        ecsSubnets: settings.ecsSubnets,
        ecsSecurityGroups: settings.ecsSecurityGroups,
        ...(settings.ecsTaskDefinition === undefined
          ? {}
          : { ecsTaskDefinition: settings.ecsTaskDefinition }),
        ...(settings.stepfunctionsStateMachineArn === undefined
          ? {}
          : { stepFunctionsStateMachineArn: settings.stepfunctionsStateMachineArn }),
        devMode: settings.devMode,
      },
      { logger, onJobLost: (jobId, reason) => onJobLost(jobId, reason) },
    );
    const service = createBacktestService({
      repository,
      submitter,
      strategies: createStrategyCatalogClient(settings.strategyServiceUrl),
      marketData: createEnsuredDataCache(createMarketDataClient(settings.dataCollectionUrl), {
        ttlMs: settings.ensureDataCacheMs,
      }),
      results,
      logger,
    });
    onJobLost = service.jobLost;
    // LOCAL: dispatch the QUEUED jobs a previous instance left, fail its orphaned RUNNING ones.
    await service
      .recover()
      .catch((error: unknown) => logger.error({ err: error }, "start-up recovery of LOCAL jobs failed"));
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
        await submitter.close();
        await repository.close();
      },
    };
  },
});
